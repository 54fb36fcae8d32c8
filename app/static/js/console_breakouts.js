// The console's breakout panel (issue 10), in a module of its own with its own console socket:
// - start a round: random by number of groups or people a group, self-select from named groups (with
//   an optional cap), or manual; a Markdown prompt, a group question, a link per group, a timer;
//   keep the groups of the last round or reshuffle;
// - while it runs: each group's size, anonymous member tiles (moved by drag and drop, or by keyboard:
//   press a tile, then "Move here" on a group), its live board, broadcast, add time, close;
// - report-back on the presenter: a group's board, chosen notes, or per-group results beside the
//   roll-up (only when every group has at least k answers; the panel says why not);
// - the inbox of private messages (ETHICS 7), which never reaches a presenter; a withdrawal takes a
//   participant's messages out of it at once (`private.removed`).
import { api } from './api.js';
import { connect } from './socket.js';
import { charCounter, clearFieldErrors, el, plural, setText, show, showError, showFieldErrors } from './ui.js';

// The server's limits (app/breakouts/schemas.py): the prompt, each group's name and link, a broadcast.
const PROMPT_MAX = 5000;
const NAME_MAX = 60;
const LINK_MAX = 500;
const BROADCAST_MAX = 500;

const root = document.getElementById('breakouts');
const sid = root ? root.dataset.sessionId : null;
const base = `/api/sessions/${encodeURIComponent(sid || '')}`;

let round = null; // the round with boards and tiles (GET …/rounds/{id})
let questions = [];
let selectedTile = null;
let chosenNotes = new Set();
let timer = null;
let poll = null;

function lines(text) {
  return text.split('\n').map((line) => line.trim()).filter(Boolean);
}

function remaining(endsAt) {
  const ms = Date.parse(endsAt) - Date.now();
  if (!(ms > 0)) return 'time is up';
  const total = Math.ceil(ms / 1000);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')} left`;
}

// --- Start a round ---------------------------------------------------------------------------------

const startStatus = el('p', { id: 'round-status', class: 'error', role: 'alert', hidden: true });
const modeField = el('fieldset', { class: 'field' },
  el('legend', {}, 'How to form the groups'),
  ...[['random', 'At random'], ['self', 'People choose a named group'], ['manual', 'At random, then I move people']].map(([value, label]) =>
    el('label', { class: 'inline-choice' }, el('input', { type: 'radio', name: 'mode', value, checked: value === 'random' }), ` ${label}`)),
);
const splitBy = el('select', { id: 'round-split', name: 'split' },
  el('option', { value: 'groups' }, 'Number of groups'), el('option', { value: 'group_size' }, 'People per group'));
const splitCount = el('input', { id: 'round-count', name: 'groups', type: 'number', min: '1', max: '1000', value: '3' });
const splitField = el('div', { class: 'field', id: 'round-split-field' },
  el('label', { for: 'round-split' }, 'Split by'), splitBy,
  el('label', { for: 'round-count' }, 'How many'), splitCount,
  el('p', { class: 'error field-error', 'data-error-for': 'groups', hidden: true }));
const names = el('textarea', { id: 'round-names', name: 'names', rows: '3', 'aria-describedby': 'round-names-hint' });
const namesCounter = charCounter(names, NAME_MAX, { perLine: true });
const namesField = el('div', { class: 'field' },
  el('label', { for: 'round-names' }, 'Group names (one a line)'),
  el('p', { class: 'hint', id: 'round-names-hint' }, 'Needed when people choose; otherwise optional ("Group 1", "Group 2", …). Up to 60 characters each.'),
  names, namesCounter.node, el('p', { class: 'error field-error', 'data-error-for': 'names', hidden: true }));
const cap = el('input', { id: 'round-cap', name: 'cap', type: 'number', min: '1', max: '1000' });
const capField = el('div', { class: 'field', hidden: true },
  el('label', { for: 'round-cap' }, 'At most this many a group (optional)'), cap,
  el('p', { class: 'error field-error', 'data-error-for': 'cap', hidden: true }));
const prompt = el('textarea', { id: 'round-prompt', name: 'prompt', rows: '3', 'aria-describedby': 'round-prompt-hint' });
const question = el('select', { id: 'round-question', name: 'question_id' });
const promptCounter = charCounter(prompt, PROMPT_MAX);
const links = el('textarea', { id: 'round-links', name: 'links', rows: '2', 'aria-describedby': 'round-links-hint' });
const linksCounter = charCounter(links, LINK_MAX, { perLine: true });
const minutes = el('input', { id: 'round-minutes', name: 'seconds', type: 'number', min: '1', max: '1440', value: '10' });
const autoClose = el('input', { id: 'round-auto', name: 'auto_close', type: 'checkbox' });
const keep = el('input', { id: 'round-keep', name: 'keep_groups_of', type: 'checkbox' });
const keepField = el('div', { class: 'field checkbox', hidden: true }, keep, el('label', { for: 'round-keep' }, 'Keep the groups of the last round'));
const startForm = el('form', { id: 'round-form', class: 'stack', novalidate: true },
  modeField, splitField, namesField, capField,
  el('div', { class: 'field' }, el('label', { for: 'round-prompt' }, 'Prompt for the groups'),
    el('p', { class: 'hint', id: 'round-prompt-hint' }, 'Markdown: **bold**, lists, links. Up to 5,000 characters.'), prompt,
    promptCounter.node, el('p', { class: 'error field-error', 'data-error-for': 'prompt', hidden: true })),
  el('div', { class: 'field' }, el('label', { for: 'round-question' }, 'Question for every group (optional)'), question,
    el('p', { class: 'error field-error', 'data-error-for': 'question_id', hidden: true })),
  el('div', { class: 'field' }, el('label', { for: 'round-links' }, 'A link for each group (optional, one a line, in order)'),
    el('p', { class: 'hint', id: 'round-links-hint' }, 'A video room, say: https://… (up to 500 characters each).'), links,
    linksCounter.node, el('p', { class: 'error field-error', 'data-error-for': 'links', hidden: true })),
  el('div', { class: 'field' }, el('label', { for: 'round-minutes' }, 'Timer (minutes, empty for none)'), minutes),
  el('div', { class: 'field checkbox' }, autoClose, el('label', { for: 'round-auto' }, 'Close the round when the timer ends')),
  keepField,
  el('button', { type: 'submit', class: 'primary', id: 'round-start' }, 'Start the round'),
  startStatus);

function mode() {
  return startForm.querySelector('input[name="mode"]:checked').value;
}

function syncForm() {
  const self = mode() === 'self';
  show(splitField, !self && !keep.checked);
  show(capField, self);
  splitCount.name = splitBy.value;
}
startForm.addEventListener('change', syncForm);

function fillQuestions() {
  const chosen = question.value;
  question.replaceChildren(el('option', { value: '' }, 'No question'),
    ...questions.map((q) => el('option', { value: q.id }, q.prompt)));
  question.value = questions.some((q) => q.id === chosen) ? chosen : '';
}

startForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFieldErrors(startForm);
  show(startStatus, false);
  // Over a limit: refused here, naming the field (and the line), never cut.
  const problems = {};
  for (const [field, counter, what] of [
    ['prompt', promptCounter, 'The prompt for the groups'],
    ['names', namesCounter, 'Group names'],
    ['links', linksCounter, 'Links'],
  ]) {
    const long = counter.tooLong(what);
    if (long) problems[field] = long;
  }
  if (Object.keys(problems).length) {
    showFieldErrors(startForm, problems);
    setText(startStatus, 'Some fields need changing: the messages beside them say what to change.');
    show(startStatus, true);
    return;
  }
  // Trimmed, as the counter counts it: the server's limit is of the text as sent.
  const body = { mode: mode(), prompt: prompt.value.trim() };
  if (keep.checked && lastRoundId) {
    body.keep_groups_of = lastRoundId;
  } else if (body.mode !== 'self') {
    body[splitBy.value] = Number(splitCount.value);
  }
  const groupNames = lines(names.value);
  if (groupNames.length) body.names = groupNames;
  if (body.mode === 'self' && cap.value) body.cap = Number(cap.value);
  const groupLinks = lines(links.value);
  if (groupLinks.length) body.links = groupLinks;
  if (minutes.value) {
    body.seconds = Math.round(Number(minutes.value) * 60);
    body.auto_close = autoClose.checked;
  }
  if (question.value) body.question_id = question.value;
  show(startStatus, false);
  try {
    if (body.question_id) {
      // The group question is shown on every phone: make it current, and open it if it is not yet.
      const q = questions.find((each) => each.id === body.question_id);
      if (q && !q.open && !q.closed) await api('PATCH', `${base}/questions/${q.id}`, { open: true });
    }
    const started = await api('POST', `${base}/rounds`, body);
    if (body.question_id) await api('PUT', `${base}/current`, { question_id: body.question_id });
    await loadRound(started.id);
  } catch (err) {
    showError(startStatus, err, startForm);
  }
});

// --- The running round -------------------------------------------------------------------------------

const live = el('div', { id: 'round-live', hidden: true });
const liveTitle = el('h3', { id: 'round-title' });
const liveFacts = el('p', { id: 'round-facts', class: 'small' });
const groupsGrid = el('div', { id: 'round-groups', class: 'groups-grid' });
const plenary = el('div', { id: 'round-plenary', class: 'group-card' });
const moveStatus = el('p', { id: 'move-status', class: 'small', role: 'status', 'aria-live': 'polite' });
const broadcastText = el('input', { id: 'round-broadcast', type: 'text', autocomplete: 'off' });
const broadcastCounter = charCounter(broadcastText, BROADCAST_MAX);
const liveStatus = el('p', { id: 'round-live-status', class: 'error', role: 'alert', hidden: true });
const reportStatus = el('p', { id: 'report-status', class: 'note', role: 'status', 'aria-live': 'polite', hidden: true });

function button(text, attrs, onClick) {
  const node = el('button', { type: 'button', class: 'secondary', ...attrs }, text);
  node.addEventListener('click', onClick);
  return node;
}

async function act(run, statusNode = liveStatus) {
  show(statusNode, false);
  try {
    await run();
  } catch (err) {
    showError(statusNode, err);
  }
}

async function patchRound(body) {
  await act(async () => {
    await api('PATCH', `${base}/rounds/${round.id}`, body);
    await loadRound(round.id);
  });
}

async function move(tile, groupId) {
  await act(async () => {
    round = await api('POST', `${base}/rounds/${round.id}/moves`, { tile, group_id: groupId });
    const target = groupId ? round.groups.find((g) => g.id === groupId).name : 'the main room';
    setText(moveStatus, `Moved ${tile} to ${target}.`);
    selectedTile = null;
    renderRound();
  });
}

async function report(body) {
  await act(async () => {
    const shown = await api('PUT', `${base}/report`, body);
    if (shown.show === 'results' && shown.reason) {
      setText(reportStatus, `On screen: the whole session's result only. ${shown.reason.message}`);
    } else {
      setText(reportStatus, shown.show ? 'On the presenter screen now.' : 'The presenter screen is back to the question.');
    }
    show(reportStatus, true);
  }, reportStatus);
}

function tileButton(tile) {
  const node = el('button', { type: 'button', class: 'tile', draggable: 'true', 'aria-pressed': selectedTile === tile ? 'true' : 'false',
    'aria-label': `Member ${tile}${selectedTile === tile ? ', selected: now press Move here on a group' : ''}`, dataset: { tile } }, tile);
  node.addEventListener('click', () => {
    selectedTile = selectedTile === tile ? null : tile;
    setText(moveStatus, selectedTile ? `${tile} selected. Press "Move here" on a group.` : '');
    renderRound();
  });
  node.addEventListener('dragstart', (event) => event.dataTransfer.setData('text/plain', tile));
  return node;
}

function dropTarget(node, groupId) {
  node.addEventListener('dragover', (event) => {
    event.preventDefault();
    node.classList.add('drop-target');
  });
  node.addEventListener('dragleave', () => node.classList.remove('drop-target'));
  node.addEventListener('drop', (event) => {
    event.preventDefault();
    node.classList.remove('drop-target');
    const tile = event.dataTransfer.getData('text/plain');
    if (tile) move(tile, groupId);
  });
}

function groupCard(group) {
  const notes = group.notes || [];
  const board = el('ul', { class: 'board' }, ...notes.map((note) => {
    const box = el('input', { type: 'checkbox', id: `choose-${note.id}`, checked: chosenNotes.has(note.id) });
    box.addEventListener('change', () => {
      if (box.checked) chosenNotes.add(note.id);
      else chosenNotes.delete(note.id);
    });
    return el('li', { class: 'board-note' }, el('p', { class: 'prewrap' }, note.text),
      el('span', { class: 'small' }, box, el('label', { for: `choose-${note.id}` }, ` +1 · ${note.plus} · choose`)));
  }));
  const card = el('section', { class: 'group-card', dataset: { group: group.id }, 'aria-label': group.name },
    el('h4', {}, `${group.name} · ${plural(group.size, 'person', 'people')}`),
    // Answers stay in the group they were given in: someone moved after answering still counts here.
    typeof group.answered === 'number' ? el('p', { class: 'small' }, `${group.answered} answered in this group`) : null,
    group.link ? el('p', { class: 'small' }, el('a', { href: group.link, target: '_blank', rel: 'noopener noreferrer' }, group.link)) : null,
    round.open ? el('ul', { class: 'tiles', 'aria-label': `Members of ${group.name}` }, ...(group.members || []).map((t) => el('li', {}, tileButton(t)))) : null,
    round.open && selectedTile ? button('Move here', { class: 'secondary move-here' }, () => move(selectedTile, group.id)) : null,
    notes.length ? board : el('p', { class: 'muted small' }, 'No notes yet.'),
    button('Show this board on screen', { class: 'secondary show-board' }, () => report({ show: 'board', round_id: round.id, group_id: group.id })),
  );
  if (round.open) dropTarget(card, group.id);
  return card;
}

function renderRound() {
  clearInterval(timer);
  show(live, Boolean(round));
  if (!round) return;
  setText(liveTitle, `Round ${round.number} · ${round.open ? 'running' : 'closed'}`);
  const facts = () => {
    const parts = [plural(round.groups.reduce((n, g) => n + g.size, 0), 'person in a group', 'people in groups'),
      `${round.plenary} in the main room`];
    if (round.open && round.ends_at) parts.push(remaining(round.ends_at));
    setText(liveFacts, parts.join(' · '));
  };
  facts();
  if (round.open && round.ends_at) timer = setInterval(facts, 1000);
  // Responses to the group question are not pushed to this panel: look again every few seconds.
  if (round.open && round.question_id && !poll) {
    poll = setInterval(() => {
      if (document.visibilityState === 'visible' && round && round.open) reloadSoon();
    }, 5000);
  }
  groupsGrid.replaceChildren(...round.groups.map(groupCard));
  // Group results need the main room's answers to be none or at least k (ETHICS 10, rest_below_k).
  // replaceChildren would write "null": leave out what is not shown.
  plenary.replaceChildren(...[el('h4', {}, `Main room · ${round.plenary}`),
    typeof round.plenary_answered === 'number' ? el('p', { class: 'small' }, `${round.plenary_answered} answered from the main room`) : null,
    round.open ? el('ul', { class: 'tiles', 'aria-label': 'In the main room' }, ...(round.unplaced || []).map((t) => el('li', {}, tileButton(t)))) : null,
    round.open && selectedTile ? button('Move here', { class: 'secondary move-here' }, () => move(selectedTile, null)) : null].filter(Boolean));
  if (round.open) dropTarget(plenary, null);
  for (const node of live.querySelectorAll('.while-open')) show(node, round.open);
  keepField.hidden = false;
}

let lastRoundId = null;
let loading = null;

async function loadRound(roundId) {
  lastRoundId = roundId;
  round = await api('GET', `${base}/rounds/${roundId}`);
  renderRound();
}

function reloadSoon() {
  if (!round || loading) return;
  loading = setTimeout(async () => {
    loading = null;
    try {
      await loadRound(round.id);
    } catch {
      // The next change tries again.
    }
  }, 300);
}

live.append(liveTitle, liveFacts, moveStatus, groupsGrid, plenary,
  el('div', { class: 'field while-open' }, el('label', { for: 'round-broadcast' }, 'Message to every group'), broadcastText,
    broadcastCounter.node,
    button('Send to every group', { id: 'round-broadcast-send' }, () => {
      const text = broadcastText.value.trim();
      const long = broadcastCounter.tooLong('The message to every group');
      if (long) {
        setText(liveStatus, long);
        show(liveStatus, true);
        broadcastText.focus();
        return;
      }
      if (text) {
        patchRound({ broadcast: text }).then(() => {
          broadcastText.value = '';
          broadcastCounter.update();
        });
      }
    })),
  el('p', { class: 'actions while-open' },
    button('+1 minute', { id: 'round-add-1' }, () => patchRound({ add_seconds: 60 })),
    button('+5 minutes', { id: 'round-add-5' }, () => patchRound({ add_seconds: 300 })),
    button('Close the round', { id: 'round-close', class: 'danger' }, () => patchRound({ open: false }))),
  el('h3', {}, 'Report back'),
  el('p', { class: 'actions' },
    button('Show chosen notes', { id: 'report-notes' }, () => {
      if (!chosenNotes.size) {
        setText(reportStatus, 'Tick "choose" beside the notes to show first.');
        show(reportStatus, true);
        return;
      }
      report({ show: 'notes', note_ids: [...chosenNotes] });
    }),
    button('Show results by group', { id: 'report-results' }, () => report({ show: 'results', round_id: round.id })),
    button('Clear the screen', { id: 'report-clear' }, () => report({ show: null }))),
  reportStatus, liveStatus);

// --- Private messages ---------------------------------------------------------------------------------

const inbox = el('ul', { id: 'inbox', class: 'inbox', 'aria-live': 'polite' });
const inboxEmpty = el('p', { id: 'inbox-empty', class: 'muted small' }, 'No private messages yet.');

function addMessage(message, { first = true } = {}) {
  if (inbox.querySelector(`[data-id="${CSS.escape(message.id)}"]`)) return;
  const at = new Date(message.at);
  const node = el('li', { dataset: { id: message.id } },
    el('p', { class: 'small muted' }, at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })),
    el('p', { class: 'prewrap' }, message.text));
  if (first) inbox.prepend(node);
  else inbox.append(node);
  show(inboxEmpty, false);
}

// A participant withdrew: their messages leave the inbox at once (ETHICS 5), as they would on reload.
function removeMessages(ids) {
  for (const id of ids) {
    const node = inbox.querySelector(`[data-id="${CSS.escape(id)}"]`);
    if (node) node.remove();
  }
  show(inboxEmpty, !inbox.children.length);
}

// --- Mount -----------------------------------------------------------------------------------------------

async function loadQuestions() {
  try {
    const session = await api('GET', base);
    questions = session.questions || [];
    fillQuestions();
  } catch {
    // Kept as it was.
  }
}

async function mount() {
  if (!root || !sid) return;
  root.append(
    el('section', { class: 'card', 'aria-labelledby': 'breakouts-heading' },
      el('h2', { id: 'breakouts-heading' }, 'Breakout rounds'),
      el('p', { class: 'small' }, 'Split the room into groups with a prompt, a board of anonymous notes, a question and a timer. Members show as random tiles, never names.'),
      live,
      el('details', { id: 'round-start-details', open: true }, el('summary', {}, 'Start a round'), startForm)),
    el('section', { class: 'card', 'aria-labelledby': 'inbox-heading' },
      el('h2', { id: 'inbox-heading' }, 'Private messages to the research team'),
      el('p', { class: 'small' }, 'Only you and this session’s researchers see these. They never appear on the presenter screen.'),
      inboxEmpty, inbox),
  );
  syncForm();
  question.addEventListener('focus', loadQuestions);
  await loadQuestions();
  try {
    const { messages } = await api('GET', `${base}/private-messages`);
    for (const message of messages) addMessage(message, { first: false });
  } catch {
    // The socket brings new ones.
  }
  connect(`/ws/console/${encodeURIComponent(sid)}`, {
    'round.state'(data) {
      const shown = data.round;
      if (!shown) return;
      lastRoundId = shown.id;
      keepField.hidden = false;
      if (!round || round.id !== shown.id) {
        loadRound(shown.id).catch(() => {});
      } else {
        reloadSoon();
      }
      show(startForm.parentElement, !shown.open);
    },
    'note.new'(note) {
      const group = round && round.id === note.round_id && round.groups.find((g) => g.id === note.group_id);
      if (!group) return;
      group.notes = group.notes || [];
      if (!group.notes.some((n) => n.id === note.id)) group.notes.push({ id: note.id, text: note.text, plus: note.plus });
      renderRound();
    },
    'note.plus'(data) {
      const group = round && round.groups.find((g) => g.id === data.group_id);
      const note = group && (group.notes || []).find((n) => n.id === data.id);
      if (note) {
        note.plus = data.plus;
        renderRound();
      }
    },
    'private.new'(message) {
      addMessage(message);
    },
    'private.removed'(data) {
      removeMessages(data.ids || []);
    },
  });
}

mount();
