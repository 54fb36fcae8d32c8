import { api } from './api.js';
import { kindOf } from './kinds/index.js';
import { createResender, shouldResend, waitingSentence } from './resend.js';
import { mountBreakout } from './phone/breakout.js';
import { connect } from './socket.js';
import { charCounter, el, pageData, setText, show } from './ui.js';
import { isEditing, markMine, renderThanks, startEditing, stopEditing } from './phone/answered.js';
import { showCountdown } from './countdown.js';
import { createSurvey } from './phone/survey.js';

const data = pageData();
const session = data.session || {};
const consent = data.consent || { required: false, text: '', version: '' };
const sid = String(session.id || '');

const $ = (id) => document.getElementById(id);
const ui = {
  conn: $('conn'),
  announce: $('announce'),
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
  waitingLead: $('waiting-lead'),
  waitingNext: $('waiting-next'),
  thanks: $('thanks'),
  thanksHeading: $('thanks-heading'),
  thanksText: $('thanks-text'),
  changeAnswer: $('change-answer'),
  question: $('question'),
  prompt: $('prompt'),
  note: $('question-note'),
  form: $('answer-form'),
  input: $('input'),
  inputAfter: $('input-after'),
  send: $('send'),
  preferNot: $('prefer-not'),
  sent: $('sent'),
  sentList: $('sent-list'),
  yourAnswer: $('your-answer'),
  yourAnswerText: $('your-answer-text'),
  answerStatus: $('answer-status'),
  commentBox: $('comment-box'),
  commentForm: $('comment-form'),
  commentText: $('comment-text'),
  commentSend: $('comment-send'),
  commentStatus: $('comment-status'),
  commentList: $('comment-list'),
  results: $('results'),
  resultsHeading: $('results-heading'),
  resultsHidden: $('results-hidden'),
  resultView: $('result-view'),
  resultsN: $('results-n'),
};

const COMMENT_MAX = 500;
const commentCounter = charCounter(ui.commentText, COMMENT_MAX);
ui.commentForm.insertBefore(commentCounter.node, ui.commentSend);

// ---------------------------------------------------------------------------------------------
// Storage: this tab only (sessionStorage), keyed by session. Nothing here leaves the phone.

const KEYS = {
  pending: `ts:pending:${sid}`,
  answers: `ts:answers:${sid}`,
  sent: `ts:sent:${sid}`,
  comments: `ts:comments:${sid}`,
  votes: `ts:votes:${sid}`,
  own: `ts:own:${sid}`,
  withdrawal: `ts:withdrawal:${sid}`,
};

function load(key, fallback) {
  try {
    const raw = sessionStorage.getItem(key);
    const value = raw ? JSON.parse(raw) : fallback;
    return value && typeof value === 'object' ? value : fallback;
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

// pending: [{id, type: 'answer'|'comment'|'upvote', question_id, data}] in the order they were
// made, until their ack or error. Resent with the same ids after a reconnect (ids are idempotent).
let pending = Array.isArray(load(KEYS.pending, [])) ? load(KEYS.pending, []) : [];
// answers: {question_id: value} the server acknowledged (null = prefer not to answer).
let answers = load(KEYS.answers, {});
// sent / comments: {question_id: [text]} entries and comments the server acknowledged.
let sentEntries = load(KEYS.sent, {});
let comments = load(KEYS.comments, {});
// votes: {question_id: [entry id]} this phone's upvotes (the server refuses a second one).
let votes = load(KEYS.votes, {});
// own: {question_id: [entry id]} the entries this participant sent (the ack names each new one, and
// `answers.mine` lists them): no upvote button on its own Q&A questions (the server refuses those).
let own = load(KEYS.own, {});

function newId() {
  if (window.crypto && typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  // crypto.randomUUID needs a secure context; fall back to getRandomValues.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function pushTo(store, key, questionId, item) {
  const list = Array.isArray(store[questionId]) ? store[questionId] : [];
  list.push(item);
  store[questionId] = list;
  save(key, store);
}

// ---------------------------------------------------------------------------------------------
// State

let socket = null;
let current = null; // the current question, or null
let kind = null; // its kind module
let input = null; // its input controller
let view = null; // its result view (when results are visible)
let renderedKey = ''; // which question the input was built for
let results = null; // latest poll.results for the current question
let sessionClosed = false;
let serverCurrent = null; // the facilitator's current question (session.state)
const survey = createSurvey(); // an audience-paced section, when one runs

function answeredIds() {
  return new Set([...Object.keys(answers), ...Object.keys(sentEntries)]);
}

// What the phone shows: the survey's question while a section runs at the audience's pace, else the
// facilitator's current question.
function pickCurrent() {
  return survey.active() ? survey.current() : serverCurrent;
}

function setStatus(message) {
  setText(ui.answerStatus, message);
}

function announce(message) {
  // Clear first so the same sentence twice is still read out.
  setText(ui.announce, '');
  requestAnimationFrame(() => setText(ui.announce, message));
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
  sentEntries = {};
  comments = {};
  votes = {};
  own = {};
  show(ui.poll, false);
  show(ui.withdrawal, false);
  show(ui.left, true);
  setText(ui.conn, '');
}

ui.consentAgree.addEventListener('click', () => answerConsent(true));
ui.consentDecline.addEventListener('click', () => answerConsent(false));

// ---------------------------------------------------------------------------------------------
// Rendering the current question

function has(store, questionId) {
  return Object.prototype.hasOwnProperty.call(store, questionId);
}

// The answer to show as selected: the newest pending one, else the acknowledged one.
function latestAnswer(questionId) {
  for (let i = pending.length - 1; i >= 0; i -= 1) {
    const p = pending[i];
    if (p.type === 'answer' && p.question_id === questionId) {
      return { value: p.data.value, pending: true };
    }
  }
  return has(answers, questionId) ? { value: answers[questionId], pending: false } : null;
}

function structureKey(q) {
  return JSON.stringify([
    q.id, q.kind, q.options, q.statements, q.points, q.labels, q.max_entries, q.multiple, q.moderated,
  ]);
}

function setFormEnabled(enabled) {
  for (const control of ui.form.querySelectorAll('input, button, textarea')) {
    control.disabled = !enabled;
  }
}

function inputContext() {
  return {
    announce,
    upvote,
    voteState(entryId) {
      if (!current) return 'none';
      if ((own[current.id] || []).includes(entryId)) return 'own';
      if ((votes[current.id] || []).includes(entryId)) return 'done';
      if (pending.some((p) => p.type === 'upvote' && p.data.entry_id === entryId)) return 'pending';
      return 'none';
    },
  };
}

function buildQuestion() {
  kind = kindOf(current.kind);
  input = kind ? kind.createInput(current, inputContext()) : null;
  view = null;
  ui.input.replaceChildren(input ? input.node : '');
  ui.inputAfter.replaceChildren(input && input.after ? input.after : '');
  ui.resultView.replaceChildren();
  setText(ui.send, (input && input.sendLabel) || 'Send');
  if (input && !kind.accumulates) {
    const latest = latestAnswer(current.id);
    if (latest) input.set(latest.value);
  }
  renderedKey = structureKey(current);
}

function renderSent() {
  const mine = current && kind && kind.accumulates ? [
    ...(sentEntries[current.id] || []).map((text) => ({ text, waiting: false })),
    ...pending
      .filter((p) => p.type === 'answer' && p.question_id === current.id && p.data.value)
      .map((p) => ({ text: p.data.value.text, waiting: true })),
  ] : [];
  show(ui.sent, mine.length > 0);
  setText(ui.sent.querySelector('h3'), current && current.kind === 'qa' ? 'Questions you asked' : 'You sent');
  ui.sentList.replaceChildren(...mine.map((m) => el('li', {}, el('span', { text: m.text }), m.waiting ? el('span', { class: 'small muted', text: ' (sending…)' }) : null)));
}

function renderComments() {
  const allowed = !!(current && current.comments && kind);
  show(ui.commentBox, allowed);
  if (!allowed) return;
  const writable = current.open && !current.closed && !sessionClosed;
  show(ui.commentForm, writable);
  const mine = [
    ...(comments[current.id] || []).map((text) => ({ text, waiting: false })),
    ...pending.filter((p) => p.type === 'comment' && p.question_id === current.id).map((p) => ({ text: p.data.text, waiting: true })),
  ];
  ui.commentList.replaceChildren(...mine.map((m) => el('li', {}, el('span', { text: m.text }), m.waiting ? el('span', { class: 'small muted', text: ' (sending…)' }) : null)));
  setText(ui.commentBox.querySelector('h3'), writable ? 'Add a comment' : 'Your comments');
  show(ui.commentBox, writable || mine.length > 0);
}

function renderQuestion() {
  show(ui.poll, true);
  setText(ui.waitingLead, sessionClosed ? 'This session has ended.' : 'You’re in.');
  setText(ui.waitingNext, sessionClosed
    ? 'Thank you for taking part. You can close this page.'
    : 'The next question will appear here by itself when the facilitator starts it. Keep this page open.');
  show(ui.thanks, false);
  setText($('survey-progress'), survey.progress());
  show($('survey-progress'), !!survey.progress());
  show($('next-question'), false);
  if (survey.finished()) {
    setText(ui.waitingLead, 'You have answered every question in this part. Thank you!');
    setText(ui.waitingNext, 'The facilitator will continue when everyone is ready. Keep this page open.');
  }
  show($('survey-restart'), survey.finished());
  if (!current) {
    showCountdown($('countdown'), null);
    show(ui.waiting, true);
    show(ui.question, false);
    renderedKey = '';
    kind = null;
    input = null;
    view = null;
    return;
  }
  show(ui.waiting, false);
  show(ui.question, true);
  setText(ui.prompt, current.prompt || '');
  showCountdown($('countdown'), sessionClosed ? null : current);

  if (structureKey(current) !== renderedKey) {
    buildQuestion();
  }

  if (!kind) {
    setText(ui.note, 'This kind of question cannot be answered on this page. Please wait for the next one.');
    show(ui.note, true);
    show(ui.form, false);
    show(ui.yourAnswer, false);
    show(ui.sent, false);
    show(ui.commentBox, false);
    renderResults();
    return;
  }

  const latest = latestAnswer(current.id);
  if (current.closed || sessionClosed) {
    setText(ui.note, sessionClosed ? 'This session has ended; answers are no longer taken.' : 'This question is closed.');
    show(ui.note, true);
    show(ui.form, false);
    if (kind.accumulates) {
      show(ui.yourAnswer, !(sentEntries[current.id] || []).length);
      setText(ui.yourAnswerText, has(answers, current.id) && answers[current.id] === null
        ? 'You preferred not to answer.'
        : 'You did not send anything to this question.');
    } else {
      setText(ui.yourAnswerText, has(answers, current.id)
        ? (answers[current.id] === null ? 'You preferred not to answer.' : input.describe(answers[current.id]))
        : 'You did not answer this question.');
      show(ui.yourAnswer, true);
    }
  } else if (current.open) {
    show(ui.note, false);
    show(ui.yourAnswer, false);
    // Answered (and not changing it): the thanks screen instead of a form that still looks active.
    const thanked = !kind.accumulates && latest && !latest.pending && !isEditing(current.id)
      && renderThanks(ui, { answer: latest, describe: (value) => input.describe(value) });
    setText($('thanks-next'), survey.active()
      ? 'You can change it until the facilitator finishes this part. Press “Next question” when you are ready.'
      : 'You can change it until the question closes. The next question will appear here by itself.');
    // In a survey, the next question is one tap away once this one is answered (or sent to).
    show($('next-question'), survey.active() && (thanked || (kind.accumulates && (sentEntries[current.id] || []).length > 0)));
    show(ui.form, !thanked);
    setFormEnabled(!thanked);
    if (thanked) {
      setStatus('');
    } else if (latest && !latest.pending && latest.value === null && !ui.answerStatus.textContent) {
      setStatus(kind.accumulates
        ? 'You chose not to answer this question. You can still send something.'
        : 'You chose not to answer this question. You can still answer and send it.');
    }
  } else {
    setText(ui.note, 'This question is not open yet. It will open here by itself when the facilitator starts it.');
    show(ui.note, true);
    show(ui.form, false);
    show(ui.yourAnswer, false);
  }
  renderSent();
  renderComments();
  renderResults();
}

function renderResults() {
  if (input && typeof input.update === 'function' && current) {
    input.update(current, results);
  }
  const visible = !!(current && kind && !kind.listOnPhone && current.results_visible
    && results && results.question_id === current.id);
  show(ui.results, visible);
  if (!visible) {
    return;
  }
  setText(ui.resultsHeading, current.closed ? 'Results' : 'Results so far');
  const hidden = results.hidden || !results.summary;
  show(ui.resultsHidden, hidden);
  if (!view) {
    view = kind.createView(current, { mode: 'phone' });
    ui.resultView.replaceChildren(view.node);
  }
  view.update(current, results);
  const mine = latestAnswer(current.id);
  markMine(ui.resultView, current, mine && !mine.pending ? mine.value : null);
  show(ui.resultView, !hidden);
  setText(ui.resultsN, hidden ? '' : `${view.count(results)}.`);
}

// ---------------------------------------------------------------------------------------------
// Sending

function sendMessage(entry) {
  return socket ? socket.send({ type: entry.type, id: entry.id, data: entry.data }) : false;
}

function queue(type, questionId, data, { replace = false } = {}) {
  const entry = { id: newId(), type, question_id: questionId, data };
  if (replace) {
    // Only the newest answer to a question matters; an older one still waiting would be replaced anyway.
    pending = pending.filter((p) => !(p.type === type && p.question_id === questionId));
  }
  pending.push(entry);
  save(KEYS.pending, pending);
  return sendMessage(entry);
}

function submitAnswer(value) {
  if (!current || !current.open || current.closed || !kind) {
    return;
  }
  const online = queue('answer', current.id, { question_id: current.id, value }, { replace: !kind.accumulates });
  if (kind.accumulates && value !== null) {
    input.clear();
    renderSent();
  }
  setStatus(online ? 'Sending…' : 'You are offline. It will be sent as soon as the connection is back.');
}

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!input) return;
  const read = input.read();
  if (read.problem) {
    setStatus(read.problem);
    return;
  }
  submitAnswer(read.value);
});

ui.preferNot.addEventListener('click', () => {
  if (input && !(kind && kind.accumulates)) input.clear();
  submitAnswer(null);
});

function upvote(entryId) {
  if (!current || !current.open || current.closed) {
    setStatus('This question is not open, so votes are not taken now.');
    return;
  }
  if ((votes[current.id] || []).includes(entryId)) return;
  if (pending.some((p) => p.type === 'upvote' && p.data.entry_id === entryId)) return;
  queue('upvote', current.id, { question_id: current.id, entry_id: entryId });
  renderResults();
}

ui.commentForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!current || !current.comments) return;
  const text = ui.commentText.value.trim();
  if (!text) {
    setText(ui.commentStatus, 'Write your comment first.');
    return;
  }
  const long = commentCounter.tooLong('Your comment');
  if (long) {
    setText(ui.commentStatus, long);
    return;
  }
  const online = queue('comment', current.id, { question_id: current.id, text });
  ui.commentText.value = '';
  commentCounter.update();
  setText(ui.commentStatus, online ? 'Sending…' : 'You are offline. It will be sent as soon as the connection is back.');
  renderComments();
});

// ---------------------------------------------------------------------------------------------
// Socket messages

// Resends waiting messages after a reconnect, and a refused-for-now one after a backoff (resend.js).
const resender = createResender({ pendingList: () => pending, send: sendMessage });

// A refusal that means "not saved, send it again" keeps the message and resends it later.
function retried(error) {
  if (!shouldResend(error.code)) return false;
  const entry = pending.find((p) => p.id === error.id);
  if (!entry) return true;
  const seconds = Math.max(1, Math.round(resender.later(entry) / 1000));
  setStatus(`Not saved yet — sending it again in ${seconds} s.`);
  return true;
}

function settle(id) {
  resender.settled(id);
  const index = pending.findIndex((p) => p.id === id);
  if (index === -1) return null; // an ack for an answer that a newer one replaced
  const [entry] = pending.splice(index, 1);
  save(KEYS.pending, pending);
  return entry;
}

function isCurrent(entry) {
  return current && current.id === entry.question_id;
}

const handlers = {
  'session.state'(state) {
    sessionClosed = state.closed === true;
    const next = state.current || null;
    const changedQuestion = !current || !next || current.id !== next.id;
    const wasOpen = !!(current && current.open && !current.closed);
    if (changedQuestion || (next && next.closed)) {
      setStatus('');
    }
    if (changedQuestion) {
      results = null;
      setText(ui.commentStatus, '');
    }
    serverCurrent = next;
    current = pickCurrent();
    if (current && !current.results_visible) {
      results = null;
    }
    renderQuestion();
    if (changedQuestion && current) {
      announce(`New question: ${current.prompt}`);
    } else if (wasOpen && current && current.closed) {
      announce('This question is now closed.');
    }
  },

  'answer.ack'(ack) {
    const entry = settle(ack.id);
    if (!entry) return;
    const value = entry.data.value;
    // Only `open` and `qa` values are {"text"}: those accumulate; every other kind replaces.
    if (value && typeof value.text === 'string') {
      pushTo(sentEntries, KEYS.sent, entry.question_id, value.text);
      if (ack.entry_id) pushTo(own, KEYS.own, entry.question_id, ack.entry_id);
    } else {
      answers[entry.question_id] = value;
      save(KEYS.answers, answers);
    }
    if (!isCurrent(entry)) return;
    let message;
    if (value === null) {
      message = kind && kind.accumulates
        ? 'Received ✓ — you chose not to answer. You can still send something while the question is open.'
        : 'Received ✓ — you chose not to answer. You can still answer until the question closes.';
    } else if (kind && kind.accumulates) {
      const what = current.kind === 'qa' ? 'Question sent ✓' : 'Sent ✓';
      message = current.moderated
        ? `${what} — it will appear once the facilitator approves it. You can send another.`
        : `${what} — you can send another.`;
    } else {
      // The thanks screen says it; the status line stays empty so nothing stale is left beside it.
      message = '';
      stopEditing(entry.question_id);
      announce(value === null ? 'Thanks, your response is in.' : 'Thanks, your answer is in.');
    }
    setStatus(message);
    renderSent();
    if (!kind || !kind.accumulates) renderQuestion();
    else renderResults(); // a question of one's own loses its upvote button, should it be listed already
  },

  'survey.state'(data) {
    survey.set(data.survey || null, answeredIds());
    current = pickCurrent();
    results = null;
    setStatus('');
    renderQuestion();
    if (survey.active()) announce(`${survey.title()}: answer at your own pace.`);
  },

  'question.reset'(data) {
    // The facilitator reset this question's answers: what this phone sent is gone.
    delete answers[data.question_id];
    delete sentEntries[data.question_id];
    delete own[data.question_id];
    save(KEYS.answers, answers);
    save(KEYS.sent, sentEntries);
    save(KEYS.own, own);
    stopEditing(data.question_id);
    if (current && current.id === data.question_id) {
      setStatus('The facilitator cleared the answers to this question. You can answer it again.');
      if (input && !(kind && kind.accumulates)) input.clear();
      renderQuestion();
    }
  },

  'answers.mine'(mine) {
    // What the server holds for this participant: it wins over this tab's memory (another tab, a
    // reload, a phone that lost its storage).
    for (const [questionId, value] of Object.entries(mine.answers || {})) answers[questionId] = value;
    for (const [questionId, texts] of Object.entries(mine.entries || {})) {
      if (Array.isArray(texts)) sentEntries[questionId] = texts;
    }
    for (const [questionId, ids] of Object.entries(mine.entry_ids || {})) {
      if (Array.isArray(ids)) own[questionId] = ids;
    }
    save(KEYS.answers, answers);
    save(KEYS.sent, sentEntries);
    save(KEYS.own, own);
    if (current) renderQuestion();
  },

  'answer.error'(error) {
    if (retried(error)) return;
    const entry = settle(error.id);
    setStatus(error.message || 'Your answer was not accepted. Try again.');
    if (!entry || !isCurrent(entry) || !input) return;
    if (kind && kind.accumulates) {
      if (entry.data.value && input.restoreText) input.restoreText(entry.data.value.text);
      renderSent();
    } else {
      const latest = latestAnswer(current.id);
      if (latest) input.set(latest.value);
      else input.clear();
    }
  },

  'comment.ack'(ack) {
    const entry = settle(ack.id);
    if (!entry) return;
    pushTo(comments, KEYS.comments, entry.question_id, entry.data.text);
    if (isCurrent(entry)) {
      setText(ui.commentStatus, 'Comment sent ✓ — it is shown only if the facilitator chooses to.');
      renderComments();
    }
  },

  'comment.error'(error) {
    if (retried(error)) return;
    const entry = settle(error.id);
    setText(ui.commentStatus, error.message || 'Your comment was not accepted. Try again.');
    if (entry && isCurrent(entry)) {
      if (!ui.commentText.value) {
        ui.commentText.value = entry.data.text;
        commentCounter.update();
      }
      renderComments();
    }
  },

  'upvote.ack'(ack) {
    const entry = settle(ack.id);
    if (!entry) return;
    pushTo(votes, KEYS.votes, entry.question_id, entry.data.entry_id);
    if (isCurrent(entry)) {
      announce('Upvote counted ✓');
      renderResults();
    }
  },

  'upvote.error'(error) {
    if (retried(error)) return;
    const entry = settle(error.id);
    if (entry && error.code === 'already_voted') {
      // This phone voted before (perhaps in an earlier tab): the vote stands.
      pushTo(votes, KEYS.votes, entry.question_id, entry.data.entry_id);
    } else {
      setStatus(error.message || 'Your upvote was not accepted.');
    }
    if (entry && isCurrent(entry)) renderResults();
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

let everConnected = false;
let reconnecting = false;

function showReconnecting() {
  const waiting = waitingSentence(pending.length);
  setText(ui.conn, waiting ? `Reconnecting… ${waiting}` : 'Reconnecting…');
  ui.conn.className = 'conn conn-wait';
  if (!reconnecting) {
    reconnecting = true;
    announce('Connection lost. Reconnecting…');
  }
}

// Breakout rounds and "Message the research team" (issue 10): phone/breakout.js.
const breakout = mountBreakout({ send: (message) => (socket ? socket.send(message) : false) });

function onStatus(state, detail) {
  if (state === 'open') {
    setText(ui.conn, 'Connected');
    ui.conn.className = 'conn conn-ok';
    if (reconnecting) announce('Connected again.');
    everConnected = true;
    reconnecting = false;
    // Resend unacknowledged messages with their original ids; the server acks each id once.
    resender.resendAll();
    breakout.resend();
  } else if (state === 'connecting') {
    if (everConnected || detail.attempt > 0) {
      showReconnecting();
    } else {
      setText(ui.conn, 'Connecting…');
      ui.conn.className = 'conn conn-wait';
    }
  } else if (state === 'closed') {
    if (detail.notAllowed) {
      setText(ui.conn, 'This page can no longer reach the session. It may have ended, or you may need to join again from the start page.');
      ui.conn.className = 'conn conn-bad';
      setFormEnabled(false);
    } else if (!detail.final) {
      showReconnecting();
    }
  }
}

function start() {
  // Pending messages stored by an older version of this page had no type: they were answers.
  pending = pending.filter((p) => p && p.id).map((p) => (p.type ? p : {
    id: p.id, type: 'answer', question_id: p.question_id, data: { question_id: p.question_id, value: p.value },
  }));
  show(ui.poll, true);
  renderQuestion();
  Object.assign(handlers, breakout.handlers);
  show($('private-box'), true);
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

ui.changeAnswer.addEventListener('click', () => {
  if (!current) return;
  startEditing(current.id);
  const latest = latestAnswer(current.id);
  if (input && !(kind && kind.accumulates)) {
    if (latest && latest.value !== null) input.set(latest.value);
    else input.clear();
  }
  renderQuestion();
  const first = ui.form.querySelector('input, textarea, select');
  if (first) first.focus();
});

$('next-question').addEventListener('click', () => {
  survey.next();
  current = pickCurrent();
  results = null;
  setStatus('');
  renderQuestion();
  if (current) announce(`Next question: ${current.prompt}`);
});

$('survey-restart').addEventListener('click', () => {
  survey.restart();
  current = pickCurrent();
  renderQuestion();
});
