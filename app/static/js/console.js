import { api } from './api.js';
import { KINDS, kindOf } from './kinds/index.js';
import { readLines, updateCounters } from './kinds/common.js';
import { createModeration } from './moderation.js';
import { connect } from './socket.js';
import { charCounter, el, pageData, plural, setText, show, showError } from './ui.js';
import { flowActions, flowRequest } from './console/flow.js';
import { createEditMode } from './console/edit.js';
import { createStructure } from './console/structure.js';

const data = pageData();
let session = data.session || {};
const sid = String(session.id || '');
const base = `/api/sessions/${encodeURIComponent(sid)}`;

const $ = (id) => document.getElementById(id);
const ui = {
  title: $('session-title'),
  closedNote: $('closed-note'),
  code: $('session-code'),
  joinUrl: $('join-url'),
  minGroup: $('min-group'),
  consentInfo: $('consent-info'),
  languageInfo: $('language-info'),
  moderatedField: $('moderated-field'),
  presenterLink: $('presenter-link'),
  noCurrent: $('no-current'),
  questionsStatus: $('questions-status'),
  questionsEmpty: $('questions-empty'),
  questions: $('questions'),
  addCard: $('add-card'),
  addForm: $('add-question'),
  kindChoices: $('kind-choices'),
  kindFields: $('kind-fields'),
  prompt: $('q-prompt'),
  addStatus: $('add-status'),
  closeCard: $('close-card'),
  closeButton: $('close-session'),
  closeStatus: $('close-status'),
  liveConn: $('live-conn'),
  livePresence: $('live-presence'),
  livePrompt: $('live-prompt'),
  liveN: $('live-n'),
  liveHidden: $('live-hidden'),
  liveView: $('live-view'),
};

const PROMPT_MAX = 500;
const COMMON_FIELDS = ['kind', 'prompt', 'comments', 'moderated'];
const LANGUAGES = {
  cy: 'Welsh', de: 'German', en: 'English', es: 'Spanish', fr: 'French', it: 'Italian', nl: 'Dutch', pt: 'Portuguese',
};

let busy = false;
let structure = null; // sections and templates (console/structure.js), once the form exists
const moderation = createModeration({ base, root: $('moderation') });

// ---------------------------------------------------------------------------------------------
// Rendering the session

function minGroup() {
  return Number(session.settings && session.settings.min_group) || 5;
}

function stateOf(q) {
  if (q.closed) return { text: 'Closed', cls: 'badge-closed' };
  if (q.open) return { text: 'Open', cls: 'badge-open' };
  return { text: 'Not open', cls: 'badge-waiting' };
}

function kindText(q) {
  const kind = kindOf(q.kind);
  const parts = [kind ? kind.describe(q) : q.kind];
  if (q.comments) parts.push('comments allowed');
  if (q.moderated && (q.comments || (kind && kind.editor.freeText))) parts.push('each entry approved before it is shown');
  return parts.join('; ');
}

function button(label, action, qid, cls = 'secondary') {
  return el('button', { type: 'button', class: cls, dataset: { action, qid } }, label);
}

function questionCard(q, index) {
  const isCurrent = session.current_question_id === q.id;
  const state = stateOf(q);
  const kind = kindOf(q.kind);
  const items = kind ? kind.items(q) : [];
  const actions = [];
  let move = [];
  if (!session.closed) {
    const flow = flowActions(q, index, session);
    actions.push(...flow.actions);
    move = flow.move;
    actions.push(q.results_visible
      ? button('Hide results on phones', 'hide', q.id)
      : button('Show results on phones', 'show', q.id));
    if (q.comments) {
      actions.push(q.show_comments
        ? button('Hide comments from the presenter', 'hide-comments', q.id)
        : button('Show comments on the presenter', 'show-comments', q.id));
    }
    if (q.closed) actions.push(button('Ask again as a new question', 'duplicate', q.id));
  }
  return el(
    'li',
    { class: `question-card${isCurrent ? ' is-current' : ''}`, dataset: { qid: q.id, kind: q.kind } },
    el(
      'div',
      { class: 'q-head' },
      el('span', { class: 'q-number', text: `${index + 1}.` }),
      el('h3', { class: 'q-prompt', text: q.prompt, tabindex: '-1' }),
    ),
    el(
      'p',
      { class: 'q-badges' },
      el('span', { class: `badge ${state.cls}`, text: state.text }),
      isCurrent ? el('span', { class: 'badge badge-current', text: 'Current' }) : null,
      el('span', {
        class: 'badge badge-plain',
        text: q.results_visible ? 'Results shown on phones' : 'Results not shown on phones',
      }),
      q.comments && q.show_comments ? el('span', { class: 'badge badge-plain', text: 'Comments on the presenter' }) : null,
    ),
    q.section_id && structure ? el('p', { class: 'small q-section', text: `Section: ${structure.titleOf(q.section_id)}` }) : null,
    el('p', { class: 'small muted q-kind', text: kindText(q) }),
    items.length ? el('ul', { class: 'q-options' }, items.map((text) => el('li', { text }))) : null,
    actions.length ? el('div', { class: 'actions' }, actions) : null,
    move.length ? el('div', { class: 'actions q-move' }, move) : null,
    el('p', { class: 'error q-status', role: 'alert', hidden: true }),
  );
}

function render() {
  setText(ui.title, session.title || '');
  document.title = `${session.title || 'Session'} · Console · Thirdspace`;
  setText(ui.code, session.code || '');
  if (session.join_url) {
    ui.joinUrl.href = session.join_url;
    setText(ui.joinUrl, session.join_url);
  }
  if (session.presenter_url) {
    ui.presenterLink.href = session.presenter_url;
  }
  setText(ui.minGroup, String(minGroup()));
  const consentText = session.settings && session.settings.consent_text;
  setText(ui.consentInfo, consentText ? 'Yes: participants agree to it before answering.' : 'None: there is no consent step.');
  const language = (session.settings && session.settings.language) || 'en';
  setText(ui.languageInfo, LANGUAGES[language] || language);

  show(ui.closedNote, !!session.closed);
  show(ui.addCard, !session.closed);
  show(ui.closeCard, !session.closed);
  show(ui.noCurrent, !session.closed);
  ui.noCurrent.disabled = !session.current_question_id;

  const questions = session.questions || [];
  // A closed session has no form to add one: say so instead of pointing at a form that is gone.
  setText(ui.questionsEmpty, session.closed
    ? 'This session was closed without any questions.'
    : 'No questions yet. Add one below.');
  show(ui.questionsEmpty, questions.length === 0);
  if (structure) structure.setSections(session.sections || []);
  ui.questions.replaceChildren(...questions.map(questionCard));
  moderation.setQuestions(questions, session.current_question_id);
}

async function refresh() {
  try {
    session = await api('GET', base);
    render();
    show(ui.questionsStatus, false);
  } catch (err) {
    showError(ui.questionsStatus, err);
  }
}

function restoreFocus(qid, action) {
  const card = ui.questions.querySelector(`[data-qid="${CSS.escape(qid)}"].question-card`);
  if (!card) return;
  const target = card.querySelector(`button[data-action="${CSS.escape(action)}"]`)
    || card.querySelector('button[data-action]')
    || card.querySelector('.q-prompt');
  if (target) target.focus();
}

// ---------------------------------------------------------------------------------------------
// Question actions

async function questionAction(action, qid, trigger) {
  const q = (session.questions || []).find((x) => x.id === qid);
  if (!q || busy) return;
  const card = trigger.closest('.question-card');
  const status = card ? card.querySelector('.q-status') : ui.questionsStatus;
  const url = `${base}/questions/${encodeURIComponent(qid)}`;

  const patches = {
    open: { open: true },
    show: { results_visible: true },
    hide: { results_visible: false },
    'show-comments': { show_comments: true },
    'hide-comments': { show_comments: false },
  };
  let request = flowRequest(action, q, session, base);
  if (request === 'cancelled') return;
  if (action === 'edit') {
    editMode.start(q);
    structure.choose(q.section_id);
    showKindFields();
    promptCounter.update();
    updateCounters();
    ui.prompt.focus();
    return;
  }
  if (request) {
    // a flow action: Start, Next, Move, Delete
  } else if (action === 'current') {
    request = () => api('PUT', `${base}/current`, { question_id: qid });
  } else if (action === 'close') {
    if (!window.confirm(`Close “${q.prompt}” for good?\n\nPhones can no longer answer it, and a closed question cannot be opened again.`)) {
      return;
    }
    request = () => api('PATCH', url, { open: false });
  } else if (action === 'duplicate') {
    request = () => api('POST', `${url}/duplicate`);
  } else if (patches[action]) {
    request = () => api('PATCH', url, patches[action]);
  } else {
    return;
  }

  setBusy(true);
  try {
    await request();
    await refresh();
    restoreFocus(qid, action);
  } catch (err) {
    showError(status, err);
    // The state may have moved on (409): show the latest, then the error again.
    if (err.status === 409 || err.status === 404) {
      await refresh();
      const fresh = ui.questions.querySelector(`[data-qid="${CSS.escape(qid)}"].question-card .q-status`);
      if (fresh) showError(fresh, err);
    }
  } finally {
    setBusy(false);
  }
}

// One action at a time: while one runs, every question button is disabled (a click then waits
// for the button instead of being dropped).
function setBusy(value) {
  busy = value;
  for (const b of ui.questions.querySelectorAll('button[data-action]')) b.disabled = value;
  ui.noCurrent.disabled = value || !session.current_question_id;
}

ui.questions.addEventListener('click', (event) => {
  const trigger = event.target.closest('button[data-action]');
  if (!trigger || !ui.questions.contains(trigger)) return;
  questionAction(trigger.dataset.action, trigger.dataset.qid, trigger);
});

ui.noCurrent.addEventListener('click', async () => {
  if (busy) return;
  setBusy(true);
  show(ui.questionsStatus, false);
  try {
    await api('PUT', `${base}/current`, { question_id: null });
    await refresh();
  } catch (err) {
    showError(ui.questionsStatus, err);
  } finally {
    setBusy(false);
  }
});

// ---------------------------------------------------------------------------------------------
// Adding a question: a kind picker, the prompt, the chosen kind's own fields, and "comments".

const promptCounter = charCounter(ui.prompt, PROMPT_MAX);
ui.prompt.parentElement.insertBefore(promptCounter.node, ui.prompt.nextSibling);

const kindSections = new Map();
for (const kind of Object.values(KINDS)) {
  const id = `q-kind-${kind.name}`;
  const radio = el('input', { type: 'radio', name: 'kind', id, value: kind.name });
  radio.defaultChecked = kind.name === 'choice';
  ui.kindChoices.append(el('label', { for: id, class: 'kind-choice' }, radio, el('span', { text: kind.label })));
  const section = el('div', { class: 'kind-section stack', dataset: { kind: kind.name } }, kind.editor.fields());
  kindSections.set(kind.name, section);
  ui.kindFields.append(section);
}

function chosenKind() {
  const checked = ui.addForm.querySelector('input[name="kind"]:checked');
  return kindOf(checked ? checked.value : 'choice');
}

function showKindFields() {
  const kind = chosenKind();
  for (const [name, section] of kindSections) {
    show(section, name === kind.name);
  }
  // Approval applies to free text: open answers, Q&A questions and comments.
  show(ui.moderatedField, !!kind.editor.freeText || ui.addForm.elements.namedItem('comments').checked);
}

ui.kindChoices.addEventListener('change', showKindFields);
ui.addForm.elements.namedItem('comments').addEventListener('change', showKindFields);
showKindFields();

// Pydantic's messages, in the plain words the rest of the console uses.
function plainWords(message) {
  const text = String(message);
  const rules = [
    [/^String should have at most (\d+) characters?$/, (m) => `too long: the limit is ${m[1]} characters.`],
    [/^String should have at least 1 character$/, () => 'empty: write something here.'],
    [/^List should have at least (\d+) items? after validation, not (\d+)$/, (m) => `give at least ${m[1]} (there are ${m[2]}).`],
    [/^List should have at most (\d+) items? after validation, not (\d+)$/, (m) => `there are ${m[2]}; the most is ${m[1]}.`],
    [/^Input should be greater than or equal to (\S+)$/, (m) => `must be at least ${m[1]}.`],
    [/^Input should be less than or equal to (\S+)$/, (m) => `must be at most ${m[1]}.`],
    [/^Field required$/, () => 'this is needed.'],
    [/^Value error, (.*)$/, (m) => m[1]],
  ];
  for (const [pattern, say] of rules) {
    const match = text.match(pattern);
    if (match) return say(match);
  }
  return text;
}

function capitalise(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

// Places the server's error.fields beside the fields, naming the line of one-per-line lists
// ("options.2" is the third option sent, which is on the line the person typed it on).
function placeFieldErrors(kind, fields) {
  const leftovers = [];
  let first = null;
  for (const [key, message] of Object.entries(fields || {})) {
    const parts = String(key).split('.');
    const field = parts[0];
    const index = parts.length > 1 && /^\d+$/.test(parts[1]) ? Number(parts[1]) : null;
    const words = plainWords(Array.isArray(message) ? message.join(' ') : message);
    let slotKey = COMMON_FIELDS.includes(field) ? field : `${kind.name}.${field}`;
    let line = null;
    const override = kind.editor.slotFor ? kind.editor.slotFor(ui.addForm, field, index) : null;
    if (override) {
      slotKey = override.key;
    } else if (index !== null && kind.editor.lines.includes(field)) {
      const lines = readLines(ui.addForm, kind.name, field);
      line = lines[index] ? lines[index].line : index + 1;
    }
    const text = line !== null ? `Line ${line}: ${words}` : capitalise(words);
    const slot = ui.addForm.querySelector(`[data-error-for="${CSS.escape(slotKey)}"]`);
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
      slot.hidden = false;
      const folded = slot.closest('details');
      if (folded) folded.open = true; // an error inside "Label every point" must be seen
      const control = document.getElementById(slot.id.replace(/-error$/, ''));
      const target = control && control.matches('input, textarea, select') ? control : slot.closest('fieldset, .field')?.querySelector('input, textarea');
      if (target) {
        target.setAttribute('aria-invalid', 'true');
        first = first || target;
      }
    } else {
      leftovers.push(`${kind.editor.names[field] || field}: ${text}`);
    }
  }
  if (first) first.focus();
  return leftovers;
}

function clearAddErrors() {
  for (const slot of ui.addForm.querySelectorAll('[data-error-for]')) {
    slot.textContent = '';
    slot.hidden = true;
  }
  for (const control of ui.addForm.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  show(ui.addStatus, false);
}

function showAddProblem(kind, fields, message) {
  const leftovers = placeFieldErrors(kind, fields);
  const lead = message || 'Some fields need changing: the messages beside them say what to change.';
  setText(ui.addStatus, leftovers.length ? `${lead} ${leftovers.join(' ')}` : lead);
  show(ui.addStatus, true);
}

ui.addForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearAddErrors();
  const kind = chosenKind();
  const prompt = ui.prompt.value.trim();
  const { body, problems } = kind.editor.read(ui.addForm);
  if (!prompt) problems.prompt = 'Write the question.';
  else if (promptCounter.tooLong()) problems.prompt = promptCounter.tooLong('The question');
  if (Object.keys(problems).length) {
    showAddProblem(kind, problems);
    return;
  }
  const request = { kind: kind.name, prompt, ...body };
  if (structure && structure.chosen()) request.section_id = structure.chosen();
  const comments = ui.addForm.elements.namedItem('comments').checked;
  if (comments) request.comments = true;
  if (ui.addForm.elements.namedItem('moderated').checked && (comments || kind.editor.freeText)) request.moderated = true;

  const submit = ui.addForm.querySelector('button[type="submit"]');
  submit.disabled = true;
  try {
    if (editMode.id) {
      await api('PUT', `${base}/questions/${encodeURIComponent(editMode.id)}`, request);
      editMode.stop();
      resetAddForm(kind);
      await refresh();
      return;
    }
    const created = await api('POST', `${base}/questions`, request);
    if (kind.editor.afterCreate && created && created.id) {
      await api('PATCH', `${base}/questions/${encodeURIComponent(created.id)}`, kind.editor.afterCreate);
    }
    resetAddForm(kind);
    await refresh();
    ui.prompt.focus();
  } catch (err) {
    if (err.fields) {
      showAddProblem(kind, err.fields, err.status === 422 ? null : err.message);
    } else {
      showError(ui.addStatus, err);
    }
  } finally {
    submit.disabled = false;
  }
});

structure = createStructure({ base, root: $('structure'), form: ui.addForm, refresh });
structure.setSections(session.sections || []);

const editMode = createEditMode({
  form: ui.addForm,
  heading: $('add-heading'),
  submit: ui.addForm.querySelector('button[type="submit"]'),
  cancel: $('edit-cancel'),
});
$('edit-cancel').addEventListener('click', () => {
  editMode.stop();
  resetAddForm(chosenKind());
  clearAddErrors();
});

function resetAddForm(kind) {
  ui.addForm.reset();
  // Keep the kind just used: several questions of one kind in a row is the common case.
  const radio = ui.addForm.querySelector(`input[name="kind"][value="${CSS.escape(kind.name)}"]`);
  if (radio) radio.checked = true;
  showKindFields();
  promptCounter.update();
  updateCounters();
}

// ---------------------------------------------------------------------------------------------
// Closing the session

ui.closeButton.addEventListener('click', async () => {
  if (!window.confirm('Close this session for good?\n\nThe code stops working, phones can no longer answer, and the session cannot be opened again.')) {
    return;
  }
  ui.closeButton.disabled = true;
  show(ui.closeStatus, false);
  try {
    await api('PATCH', base, { closed: true });
    await refresh();
  } catch (err) {
    showError(ui.closeStatus, err);
  } finally {
    ui.closeButton.disabled = false;
  }
});

// ---------------------------------------------------------------------------------------------
// Live panel: the current question's result, as the presenter shows it, through its kind's view
// (with the console's extras, such as hiding words of a word cloud).

let liveCurrent = null;
const liveResults = new Map(); // question id -> latest results object
const liveResponses = new Map(); // question id -> responses received (answers and declines), live
let liveView = null;
let liveKey = '';
let refreshTimer = null;
let connectedBefore = false;

function renderLive() {
  const q = liveCurrent;
  if (!q) {
    setText(ui.livePrompt, 'No current question.');
    setText(ui.liveN, '');
    show(ui.liveHidden, false);
    ui.liveView.replaceChildren();
    liveView = null;
    liveKey = '';
    return;
  }
  setText(ui.livePrompt, `Current: ${q.prompt} (${stateOf(q).text.toLowerCase()})`);
  const kind = kindOf(q.kind);
  const key = JSON.stringify([q.id, q.kind, q.options, q.statements]);
  if (key !== liveKey) {
    liveView = kind ? kind.createView(q, {
      mode: 'console',
      minGroup: minGroup(),
      sessionBase: base,
      onQuestionChanged: () => scheduleRefresh(),
    }) : null;
    ui.liveView.replaceChildren(liveView ? liveView.node : '');
    liveKey = key;
  }
  const r = liveResults.get(q.id) || null;
  const received = liveResponses.get(q.id);
  if (received !== undefined) {
    // Moves with every response from the first, so the facilitator sees that phones work before k.
    setText(ui.liveN, `${plural(received, 'response', 'responses')} received.`);
  } else if (!r) {
    setText(ui.liveN, 'No results yet.');
  } else {
    setText(ui.liveN, `${liveView ? liveView.count(r) : plural(Number(r.n) || 0, 'answer', 'answers')}.`);
  }
  const hidden = !!(r && (r.hidden || !r.summary));
  setText(ui.liveHidden, hidden ? `Hidden until at least ${minGroup()} people have answered, to protect anonymity.` : '');
  show(ui.liveHidden, hidden);
  if (liveView) liveView.update(q, r);
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 300);
}

// If the live state disagrees with what the page shows (another tab or facilitator acted),
// fetch the session again.
function scheduleRefreshIfStale(q) {
  const known = q ? (session.questions || []).find((x) => x.id === q.id) : null;
  const fields = ['open', 'closed', 'results_visible', 'show_comments'];
  const stale = (q ? q.id : null) !== (session.current_question_id ?? null)
    || (q && (!known || fields.some((f) => (known[f] ?? null) !== (q[f] ?? null))));
  if (stale && !busy) scheduleRefresh();
}

const handlers = {
  'session.state'(state) {
    liveCurrent = state.current || null;
    renderLive();
    scheduleRefreshIfStale(liveCurrent);
    // A snapshot after a reconnect: entries may have changed meanwhile, so load the lists again.
    if (state.snapshot && connectedBefore) moderation.reload();
    connectedBefore = true;
  },
  'poll.results'(result) {
    liveResults.set(result.question_id, result);
    if (liveCurrent && liveCurrent.id === result.question_id) renderLive();
  },
  'poll.responses'(counted) {
    liveResponses.set(counted.question_id, Number(counted.responses) || 0);
    if (liveCurrent && liveCurrent.id === counted.question_id) renderLive();
  },
  presence(p) {
    const phones = `${plural(Number(p.participants) || 0, 'phone', 'phones')} connected`;
    // Joined (a phone still reading the information sheet counts) and agreed, counted apart.
    setText(ui.livePresence, p.joined === undefined ? phones
      : `${plural(Number(p.joined) || 0, 'person', 'people')} joined · ${Number(p.agreed) || 0} agreed · ${phones}`);
  },
  'entry.new'(message) {
    moderation.onEntry(message);
  },
  'entry.changed'(message) {
    moderation.onEntry(message);
  },
};

function onStatus(state, detail) {
  if (state === 'open') {
    setText(ui.liveConn, 'Connected');
    ui.liveConn.className = 'conn conn-ok';
  } else if (state === 'connecting') {
    setText(ui.liveConn, detail.attempt > 0 ? 'Reconnecting…' : 'Connecting…');
    ui.liveConn.className = 'conn conn-wait';
  } else if (state === 'closed') {
    if (detail.notAllowed) {
      setText(ui.liveConn, 'Live updates are not allowed for this page. Sign in again, then reload the page.');
      ui.liveConn.className = 'conn conn-bad';
    } else if (!detail.final) {
      setText(ui.liveConn, 'Reconnecting…');
      ui.liveConn.className = 'conn conn-wait';
    }
  }
}

render();
// The page's buttons start disabled (a click before this script ran would do nothing); ready now.
ui.closeButton.disabled = false;
ui.addForm.querySelector('button[type="submit"]').disabled = false;
connect(`/ws/console/${encodeURIComponent(sid)}`, handlers, { onStatus });
