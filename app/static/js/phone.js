import { api } from './api.js';
import { connect } from './socket.js';
import { el, pageData, plural, resultBars, setText, show } from './ui.js';

const data = pageData();
const session = data.session || {};
const consent = data.consent || { required: false, text: '', version: '' };
const sid = String(session.id || '');

const $ = (id) => document.getElementById(id);
const ui = {
  conn: $('conn'),
  consent: $('consent'),
  consentAgree: $('consent-agree'),
  consentDecline: $('consent-decline'),
  consentStatus: $('consent-status'),
  left: $('left'),
  withdrawal: $('withdrawal'),
  withdrawalCode: $('withdrawal-code'),
  withdrawalDone: $('withdrawal-done'),
  poll: $('poll'),
  waiting: $('waiting'),
  question: $('question'),
  prompt: $('prompt'),
  note: $('question-note'),
  form: $('answer-form'),
  legend: $('answer-legend'),
  hint: $('answer-hint'),
  options: $('options'),
  send: $('send'),
  preferNot: $('prefer-not'),
  yourAnswer: $('your-answer'),
  yourAnswerText: $('your-answer-text'),
  answerStatus: $('answer-status'),
  results: $('results'),
  resultsHeading: $('results-heading'),
  resultsHidden: $('results-hidden'),
  bars: $('result-bars'),
  resultsN: $('results-n'),
};

// ---------------------------------------------------------------------------------------------
// Storage: this tab only (sessionStorage), keyed by session. Nothing here leaves the phone.

const KEYS = {
  pending: `ts:pending:${sid}`,
  answers: `ts:answers:${sid}`,
  withdrawal: `ts:withdrawal:${sid}`,
};

function load(key, fallback) {
  try {
    const raw = sessionStorage.getItem(key);
    return raw ? JSON.parse(raw) : fallback;
  } catch {
    return fallback;
  }
}

function save(key, value) {
  try {
    sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Private browsing or full storage: keep working from memory.
  }
}

// pending: [{id, question_id, value}] in the order they were made, until answer.ack or answer.error.
let pending = Array.isArray(load(KEYS.pending, [])) ? load(KEYS.pending, []) : [];
// answers: {question_id: value} for answers the server acknowledged (value null = prefer not to answer).
let answers = load(KEYS.answers, {}) || {};

function savePending() {
  save(KEYS.pending, pending);
}

function saveAnswers() {
  save(KEYS.answers, answers);
}

function newId() {
  if (window.crypto && typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  // crypto.randomUUID needs a secure context; fall back to getRandomValues.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------------------------------------
// State

let socket = null;
let current = null; // the current question, or null
let renderedKey = ''; // which question's options are in the form
let results = null; // latest poll.results for the current question

function setStatus(message) {
  setText(ui.answerStatus, message);
}

// ---------------------------------------------------------------------------------------------
// Consent

function showWithdrawalCode(code) {
  if (!code) return;
  try {
    sessionStorage.setItem(KEYS.withdrawal, String(code));
  } catch {
    // Storage may be disabled; the code is still shown now.
  }
  setText(ui.withdrawalCode, String(code));
  show(ui.withdrawal, true);
}

function restoreWithdrawalCode() {
  let code = data.withdrawal_code || null;
  if (!code) {
    try {
      code = sessionStorage.getItem(KEYS.withdrawal);
    } catch {
      code = null;
    }
  }
  if (code) {
    setText(ui.withdrawalCode, String(code));
    show(ui.withdrawal, true);
  }
}

ui.withdrawalDone.addEventListener('click', () => {
  try {
    sessionStorage.removeItem(KEYS.withdrawal);
  } catch {
    // ignore
  }
  show(ui.withdrawal, false);
});

async function answerConsent(agree) {
  ui.consentAgree.disabled = true;
  ui.consentDecline.disabled = true;
  show(ui.consentStatus, false);
  try {
    const reply = await api('POST', `/api/sessions/${encodeURIComponent(sid)}/consent`, {
      version: consent.version,
      agree,
    });
    show(ui.consent, false);
    if (agree) {
      if (reply && reply.withdrawal_code) {
        showWithdrawalCode(reply.withdrawal_code);
      } else {
        restoreWithdrawalCode();
      }
      start();
    } else {
      leave();
    }
  } catch (err) {
    if (err.status === 409) {
      // The information sheet changed since this page was loaded: show the new one.
      setText(ui.consentStatus, 'The information sheet has just changed. Loading the new version…');
      show(ui.consentStatus, true);
      location.reload();
      return;
    }
    setText(ui.consentStatus, err.message || 'That did not work. Try again in a moment.');
    show(ui.consentStatus, true);
    ui.consentAgree.disabled = false;
    ui.consentDecline.disabled = false;
  }
}

function leave() {
  try {
    for (const key of Object.values(KEYS)) {
      sessionStorage.removeItem(key);
    }
  } catch {
    // ignore
  }
  pending = [];
  answers = {};
  show(ui.poll, false);
  show(ui.withdrawal, false);
  show(ui.left, true);
  setText(ui.conn, '');
}

ui.consentAgree.addEventListener('click', () => answerConsent(true));
ui.consentDecline.addEventListener('click', () => answerConsent(false));

// ---------------------------------------------------------------------------------------------
// Rendering the current question

function optionLabel(question, optionId) {
  const option = (question.options || []).find((o) => o.id === optionId);
  return option ? option.label : 'an option that no longer exists';
}

function describeAnswer(question, value) {
  if (value === null) {
    return 'You preferred not to answer.';
  }
  const choices = value && Array.isArray(value.choices) ? value.choices : [];
  if (!choices.length) {
    return 'You did not choose an option.';
  }
  return `You chose: ${choices.map((id) => optionLabel(question, id)).join(', ')}.`;
}

// The answer to show as selected: the newest pending one, else the acknowledged one.
function latestValue(questionId) {
  for (let i = pending.length - 1; i >= 0; i -= 1) {
    if (pending[i].question_id === questionId) {
      return { value: pending[i].value, pending: true };
    }
  }
  if (Object.prototype.hasOwnProperty.call(answers, questionId)) {
    return { value: answers[questionId], pending: false };
  }
  return null;
}

function buildOptions(question) {
  const multiple = !!question.multiple;
  const type = multiple ? 'checkbox' : 'radio';
  ui.options.replaceChildren();
  (question.options || []).forEach((option, index) => {
    const inputId = `opt-${index}`;
    const input = el('input', { type, id: inputId, name: 'choice', value: option.id });
    const label = el('label', { for: inputId, class: 'option' }, input, el('span', { text: option.label }));
    ui.options.append(label);
  });
  setText(ui.legend, question.prompt || 'Choose an answer');
  setText(ui.hint, multiple ? 'Choose one or more answers.' : 'Choose one answer.');
}

function restoreSelection(question) {
  const latest = latestValue(question.id);
  const chosen = new Set(
    latest && latest.value && Array.isArray(latest.value.choices) ? latest.value.choices : [],
  );
  for (const input of ui.options.querySelectorAll('input')) {
    input.checked = chosen.has(input.value);
  }
}

function optionsKey(question) {
  return JSON.stringify([question.id, question.multiple, (question.options || []).map((o) => [o.id, o.label])]);
}

function setFormEnabled(enabled) {
  for (const control of ui.form.querySelectorAll('input, button')) {
    control.disabled = !enabled;
  }
}

let sessionClosed = false;

function renderQuestion() {
  show(ui.poll, true);
  setText(ui.waiting, sessionClosed
    ? 'This session has ended. Thank you for taking part.'
    : 'Waiting for the facilitator…');
  if (!current) {
    show(ui.waiting, true);
    show(ui.question, false);
    renderedKey = '';
    return;
  }
  show(ui.waiting, false);
  show(ui.question, true);
  setText(ui.prompt, current.prompt || '');

  if (current.kind !== 'choice') {
    setText(ui.note, 'This kind of question cannot be answered on this page yet. Please wait for the next one.');
    show(ui.note, true);
    show(ui.form, false);
    show(ui.yourAnswer, false);
    renderResults();
    return;
  }

  const key = optionsKey(current);
  if (key !== renderedKey) {
    buildOptions(current);
    renderedKey = key;
    restoreSelection(current);
  }

  const latest = latestValue(current.id);
  if (current.closed || sessionClosed) {
    setText(ui.note, sessionClosed ? 'This session has ended; answers are no longer taken.' : 'This question is closed.');
    show(ui.note, true);
    show(ui.form, false);
    const acked = Object.prototype.hasOwnProperty.call(answers, current.id);
    setText(ui.yourAnswerText, acked ? describeAnswer(current, answers[current.id]) : 'You did not answer this question.');
    show(ui.yourAnswer, true);
  } else if (current.open) {
    show(ui.note, false);
    show(ui.yourAnswer, false);
    show(ui.form, true);
    setFormEnabled(true);
    if (latest && !latest.pending && latest.value === null && !ui.answerStatus.textContent) {
      setStatus('You chose not to answer this question. You can still pick an option and send it.');
    }
  } else {
    setText(ui.note, 'This question is not open yet.');
    show(ui.note, true);
    show(ui.form, false);
    show(ui.yourAnswer, false);
  }
  renderResults();
}

function renderResults() {
  const visible = !!(current && current.results_visible && results && results.question_id === current.id);
  show(ui.results, visible);
  if (!visible) {
    return;
  }
  setText(ui.resultsHeading, current.closed ? 'Results' : 'Results so far');
  if (results.hidden || !results.summary) {
    show(ui.resultsHidden, true);
    ui.bars.replaceChildren();
    setText(ui.resultsN, '');
    return;
  }
  show(ui.resultsHidden, false);
  const n = Number(results.n) || 0;
  const counts = (results.summary && results.summary.counts) || {};
  const rows = resultBars(current.options, counts, n);
  ui.bars.replaceChildren(...rows);
  setText(ui.resultsN, `${plural(n, 'person has', 'people have')} answered.`);
}

// ---------------------------------------------------------------------------------------------
// Sending answers

function sendPending(entry) {
  return socket ? socket.send({ type: 'answer', id: entry.id, data: { question_id: entry.question_id, value: entry.value } }) : false;
}

function submitAnswer(value) {
  if (!current || !current.open || current.closed) {
    return;
  }
  const entry = { id: newId(), question_id: current.id, value };
  // Only the newest answer to a question matters; an older one still waiting would be replaced anyway.
  pending = pending.filter((p) => p.question_id !== current.id);
  pending.push(entry);
  savePending();
  if (sendPending(entry)) {
    setStatus('Sending your answer…');
  } else {
    setStatus('You are offline. Your answer will be sent as soon as the connection is back.');
  }
}

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  const choices = Array.from(ui.options.querySelectorAll('input:checked'), (input) => input.value);
  if (!choices.length) {
    setStatus(current && current.multiple
      ? 'Choose at least one answer first, or press “Prefer not to answer”.'
      : 'Choose an answer first, or press “Prefer not to answer”.');
    return;
  }
  submitAnswer({ choices });
});

ui.preferNot.addEventListener('click', () => {
  for (const input of ui.options.querySelectorAll('input')) {
    input.checked = false;
  }
  submitAnswer(null);
});

// ---------------------------------------------------------------------------------------------
// Socket messages

const handlers = {
  'session.state'(state) {
    sessionClosed = state.closed === true;
    const next = state.current || null;
    const changedQuestion = !current || !next || current.id !== next.id;
    if (changedQuestion) {
      results = null;
      setStatus('');
    }
    current = next;
    if (current && !current.results_visible) {
      results = null;
    }
    renderQuestion();
  },

  'answer.ack'(ack) {
    const index = pending.findIndex((p) => p.id === ack.id);
    if (index === -1) {
      return; // an ack for an answer that a newer one replaced
    }
    const [entry] = pending.splice(index, 1);
    savePending();
    answers[entry.question_id] = entry.value;
    saveAnswers();
    if (current && current.id === entry.question_id) {
      setStatus(entry.value === null
        ? 'Received ✓ — you chose not to answer. You can still answer until the question closes.'
        : 'Answer received ✓ — you can change it until the question closes.');
    }
  },

  'answer.error'(error) {
    const index = pending.findIndex((p) => p.id === error.id);
    if (index !== -1) {
      pending.splice(index, 1);
      savePending();
    }
    setStatus(error.message || 'Your answer was not accepted. Try again.');
    if (current) {
      restoreSelection(current);
    }
  },

  'poll.results'(result) {
    if (!current || result.question_id !== current.id) {
      return;
    }
    results = result;
    renderResults();
  },

  error(error) {
    setStatus(error.message || 'The server could not handle a message from this page. Reload the page if this keeps happening.');
  },
};

function onStatus(state, detail) {
  if (state === 'open') {
    setText(ui.conn, 'Connected');
    ui.conn.className = 'conn conn-ok';
    // Resend unacknowledged answers with their original ids; the server acks each id once.
    for (const entry of pending) {
      sendPending(entry);
    }
  } else if (state === 'connecting') {
    setText(ui.conn, socket && (detail.attempt > 0 || socket.lastSeq !== null) ? 'Reconnecting…' : 'Connecting…');
    ui.conn.className = 'conn conn-wait';
  } else if (state === 'closed') {
    if (detail.notAllowed) {
      setText(ui.conn, 'This page can no longer reach the session. It may have ended, or you may need to join again from the start page.');
      ui.conn.className = 'conn conn-bad';
      setFormEnabled(false);
    } else if (!detail.final) {
      setText(ui.conn, 'Reconnecting…');
      ui.conn.className = 'conn conn-wait';
    }
  }
}

function start() {
  show(ui.poll, true);
  renderQuestion();
  socket = connect(`/ws/participant/${encodeURIComponent(sid)}`, handlers, { onStatus });
}

// ---------------------------------------------------------------------------------------------

if (consent.required && !data.consented) {
  setText(ui.conn, '');
  show(ui.consent, true);
} else {
  restoreWithdrawalCode();
  start();
}
