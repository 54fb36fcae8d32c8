import { api } from './api.js';
import { connect } from './socket.js';
import {
  clearFieldErrors, el, pageData, plural, resultBars, setText, show, showError, showFieldErrors,
} from './ui.js';

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
  presenterLink: $('presenter-link'),
  noCurrent: $('no-current'),
  questionsStatus: $('questions-status'),
  questionsEmpty: $('questions-empty'),
  questions: $('questions'),
  addCard: $('add-card'),
  addForm: $('add-question'),
  addStatus: $('add-status'),
  closeCard: $('close-card'),
  closeButton: $('close-session'),
  closeStatus: $('close-status'),
  liveConn: $('live-conn'),
  livePresence: $('live-presence'),
  livePrompt: $('live-prompt'),
  liveN: $('live-n'),
  liveHidden: $('live-hidden'),
  liveCounts: $('live-counts'),
  liveDeclined: $('live-declined'),
};

const KIND_NAMES = {
  choice: 'Multiple choice',
  scale: 'Rating scale',
  wordcloud: 'Word cloud',
  open: 'Open text',
};

let busy = false;

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
  const name = KIND_NAMES[q.kind] || q.kind;
  if (q.kind === 'choice') {
    return `${name}, ${q.multiple ? 'several answers allowed' : 'one answer'}`;
  }
  return name;
}

function button(label, action, qid, cls = 'secondary') {
  return el('button', { type: 'button', class: cls, dataset: { action, qid } }, label);
}

function questionCard(q, index) {
  const isCurrent = session.current_question_id === q.id;
  const state = stateOf(q);
  const items = q.options || q.statements || [];
  const actions = [];
  if (!session.closed) {
    if (!isCurrent) actions.push(button('Make current', 'current', q.id));
    if (!q.open && !q.closed) actions.push(button('Open', 'open', q.id, 'primary'));
    if (q.open && !q.closed) actions.push(button('Close', 'close', q.id, 'danger'));
    actions.push(q.results_visible
      ? button('Hide results on phones', 'hide', q.id)
      : button('Show results on phones', 'show', q.id));
    if (q.closed && q.kind === 'choice') actions.push(button('Ask again as a new question', 'duplicate', q.id));
  }
  return el(
    'li',
    { class: `question-card${isCurrent ? ' is-current' : ''}`, dataset: { qid: q.id } },
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
    ),
    el('p', { class: 'small muted', text: kindText(q) }),
    items.length
      ? el('ul', { class: 'q-options' }, items.map((o) => el('li', { text: o.label ?? o.text ?? '' })))
      : null,
    actions.length ? el('div', { class: 'actions' }, actions) : null,
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
  ui.questions.replaceChildren(...questions.map(questionCard));
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

  let request;
  switch (action) {
    case 'current':
      request = () => api('PUT', `${base}/current`, { question_id: qid });
      break;
    case 'open':
      request = () => api('PATCH', url, { open: true });
      break;
    case 'close':
      if (!window.confirm(`Close “${q.prompt}” for good?\n\nPhones can no longer answer it, and a closed question cannot be opened again.`)) {
        return;
      }
      request = () => api('PATCH', url, { open: false });
      break;
    case 'show':
      request = () => api('PATCH', url, { results_visible: true });
      break;
    case 'hide':
      request = () => api('PATCH', url, { results_visible: false });
      break;
    case 'duplicate':
      request = () => api('POST', `${base}/questions`, {
        kind: 'choice',
        prompt: q.prompt,
        options: (q.options || []).map((o) => o.label),
        multiple: !!q.multiple,
      });
      break;
    default:
      return;
  }

  busy = true;
  // Every action waits while one is in flight (a click now would be ignored): say so by disabling them.
  setActionsDisabled(true);
  try {
    await request();
    await refresh();
    restoreFocus(qid, action);
  } catch (err) {
    setActionsDisabled(false);
    showError(status, err);
    // The state may have moved on (409): show the latest, then the error again.
    if (err.status === 409 || err.status === 404) {
      await refresh();
      const fresh = ui.questions.querySelector(`[data-qid="${CSS.escape(qid)}"].question-card .q-status`);
      if (fresh) showError(fresh, err);
    }
  } finally {
    busy = false;
    setActionsDisabled(false);
  }
}

function setActionsDisabled(disabled) {
  for (const control of ui.questions.querySelectorAll('button[data-action]')) {
    control.disabled = disabled;
  }
}

ui.questions.addEventListener('click', (event) => {
  const trigger = event.target.closest('button[data-action]');
  if (!trigger || !ui.questions.contains(trigger)) return;
  questionAction(trigger.dataset.action, trigger.dataset.qid, trigger);
});

ui.noCurrent.addEventListener('click', async () => {
  if (busy) return;
  busy = true;
  ui.noCurrent.disabled = true;
  show(ui.questionsStatus, false);
  try {
    await api('PUT', `${base}/current`, { question_id: null });
    await refresh();
  } catch (err) {
    showError(ui.questionsStatus, err);
    ui.noCurrent.disabled = false;
  } finally {
    busy = false;
  }
});

// ---------------------------------------------------------------------------------------------
// Adding a question

ui.addForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFieldErrors(ui.addForm);
  show(ui.addStatus, false);
  const prompt = ui.addForm.elements.namedItem('prompt').value.trim();
  const options = ui.addForm.elements.namedItem('options').value
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const multiple = ui.addForm.elements.namedItem('multiple').checked;

  const problems = {};
  if (!prompt) problems.prompt = 'Write the question.';
  if (options.length < 2) {
    problems.options = 'Give at least two options, one per line.';
  } else if (new Set(options.map((o) => o.toLowerCase())).size !== options.length) {
    problems.options = 'Each option must be different; remove the repeated line.';
  }
  if (Object.keys(problems).length) {
    showFieldErrors(ui.addForm, problems);
    return;
  }

  const submit = ui.addForm.querySelector('button[type="submit"]');
  submit.disabled = true;
  try {
    await api('POST', `${base}/questions`, { kind: 'choice', prompt, options, multiple });
    ui.addForm.reset();
    await refresh();
    ui.addForm.elements.namedItem('prompt').focus();
  } catch (err) {
    showError(ui.addStatus, err, ui.addForm);
  } finally {
    submit.disabled = false;
  }
});

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
// Live panel

let liveCurrent = null;
const liveResults = new Map(); // question id -> latest results object
let refreshTimer = null;

function renderLive() {
  const q = liveCurrent;
  if (!q) {
    setText(ui.livePrompt, 'No current question.');
    setText(ui.liveN, '');
    show(ui.liveHidden, false);
    ui.liveCounts.replaceChildren();
    setText(ui.liveDeclined, '');
    return;
  }
  setText(ui.livePrompt, `Current: ${q.prompt} (${stateOf(q).text.toLowerCase()})`);
  const r = liveResults.get(q.id);
  if (!r) {
    setText(ui.liveN, 'No results yet.');
    show(ui.liveHidden, false);
    ui.liveCounts.replaceChildren();
    setText(ui.liveDeclined, '');
    return;
  }
  const n = Number(r.n) || 0;
  setText(ui.liveN, `${plural(n, 'answer', 'answers')} counted.`);
  if (r.hidden || !r.summary) {
    setText(ui.liveHidden, `Hidden until at least ${minGroup()} people have answered, to protect anonymity.`);
    show(ui.liveHidden, true);
    ui.liveCounts.replaceChildren();
    setText(ui.liveDeclined, '');
    return;
  }
  show(ui.liveHidden, false);
  const counts = r.summary.counts || {};
  const rows = resultBars(q.options, counts, n);
  ui.liveCounts.replaceChildren(...rows);
  const declined = Number(r.summary.declined) || 0;
  setText(ui.liveDeclined, declined ? `${plural(declined, 'person', 'people')} preferred not to answer.` : '');
}

// If the live state disagrees with what the page shows (another tab or facilitator acted),
// fetch the session again.
function scheduleRefreshIfStale(q) {
  const known = q ? (session.questions || []).find((x) => x.id === q.id) : null;
  const stale = (q ? q.id : null) !== (session.current_question_id ?? null)
    || (q && (!known || known.open !== q.open || known.closed !== q.closed || known.results_visible !== q.results_visible));
  if (stale && !busy) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 300);
  }
}

const handlers = {
  'session.state'(state) {
    liveCurrent = state.current || null;
    renderLive();
    scheduleRefreshIfStale(liveCurrent);
  },
  'poll.results'(result) {
    liveResults.set(result.question_id, result);
    if (liveCurrent && liveCurrent.id === result.question_id) renderLive();
  },
  presence(p) {
    setText(ui.livePresence, `${plural(Number(p.participants) || 0, 'phone', 'phones')} connected`);
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
connect(`/ws/presenter/${encodeURIComponent(sid)}`, handlers, { onStatus });
