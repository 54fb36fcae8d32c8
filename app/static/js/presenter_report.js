// Report-back on the presenter screen (issue 10), in a module of its own with its own presenter
// socket: `report.show` puts one group's board, chosen notes, or a question's per-group results
// beside the session's roll-up over the question view; `{"show": null}` gives the screen back.
// Per-group results come only when every group has at least k answers (the server decides, ETHICS 10);
// otherwise only the roll-up, with the reason in a line. Private messages never come here.
import { kindOf } from './kinds/index.js';
import { connect } from './socket.js';
import { el, fitText, pageData, plural, setText, show } from './ui.js';

const data = pageData();
const session = data.session || {};
const minGroup = Number(session.min_group) || 5;
const root = document.getElementById('report');

function resultBlock(question, result, heading) {
  const kind = kindOf(question.kind);
  const box = el('section', { class: 'report-result' }, el('h3', {}, heading));
  if (!kind) return box;
  const view = kind.createView(question, { mode: 'presenter', minGroup });
  view.update(question, result);
  box.append(view.node, el('p', { class: 'stat' }, view.count(result)));
  return box;
}

function render(shown) {
  if (!root) return;
  document.body.classList.toggle('reporting', Boolean(shown.show));
  show(root, Boolean(shown.show));
  root.replaceChildren();
  if (shown.show === 'board') {
    const notes = shown.group.notes || [];
    root.append(el('h2', { class: 'stage-prompt' }, shown.group.name),
      notes.length
        ? el('ul', { class: 'report-notes' }, ...notes.map((n) => el('li', {}, el('p', { class: 'prewrap' }, n.text), el('p', { class: 'small' }, `+1 · ${n.plus}`))))
        : el('p', { class: 'lead' }, 'No notes on this board.'));
  } else if (shown.show === 'notes') {
    root.append(el('h2', { class: 'stage-prompt' }, plural(shown.notes.length, 'note from the groups', 'notes from the groups')),
      el('ul', { class: 'report-notes' }, ...shown.notes.map((n) => el('li', {}, el('p', { class: 'prewrap' }, n.text), el('p', { class: 'small' }, `${n.group} · +1 · ${n.plus}`)))));
  } else if (shown.show === 'results') {
    root.append(el('h2', { class: 'stage-prompt' }, shown.question.prompt));
    const grid = el('div', { class: 'report-groups' }, resultBlock(shown.question, shown.rollup, 'Everyone'));
    for (const group of shown.groups || []) grid.append(resultBlock(shown.question, group.result, group.name));
    root.append(grid);
    if (shown.reason) root.append(el('p', { class: 'k-notice' }, 'Results by group are not shown: some groups are too small to show without revealing individual answers.'));
  }
  fitText(root, { max: 40, min: 12 });
}

if (root) {
  connect(`/ws/presenter/${encodeURIComponent(session.id || root.dataset.sessionId)}`, {
    'report.show'(shown) {
      render(shown);
    },
  });
}
