import { api } from './api.js';
import { kindOf } from './kinds/index.js';
import { dropOverflow, keyedList } from './kinds/common.js';
import { connect } from './socket.js';
import { el, fitText, pageData, plural, setText, show } from './ui.js';
import { createPager } from './presenter/paging.js';
import { showCountdown } from './countdown.js';
import { bindKeys, createStepper, setupBigQr, setupFullscreen, setupTheme } from './presenter/keys.js';

const data = pageData();
const session = data.session || {};
const sid = String(session.id || '');
const minGroup = Number(session.min_group) || 5;

const $ = (id) => document.getElementById(id);
const ui = {
  conn: $('conn'),
  badge: $('state-badge'),
  prompt: $('prompt'),
  kNotice: $('k-notice'),
  view: $('view'),
  comments: $('comments'),
  commentsList: $('comments-list'),
  resultsText: $('results-text'),
  answersN: $('answers-n'),
  presence: $('presence'),
  responses: $('responses'),
  fullscreen: $('fullscreen'),
  pageNote: $('page-note'),
  hideResults: $('hide-results'),
  keysStatus: $('keys-status'),
  joinLine: $('join-line'),
};

let current = null;
let results = null;
let view = null; // the current question's view, from its kind module
let viewKey = '';
const sectionTitles = new Map(Object.entries(data.sections || {}));
let responses = null; // {question_id, responses}: answers and declines together, live
let resultsOff = false; // H: this screen shows the options without the result
const pager = createPager(ui.view, ui.pageNote);

// ---------------------------------------------------------------------------------------------
// Sizes: readable from the back of the room. The prompt and the result share the height; each is
// set as large as fits, never smaller than a floor that stays legible on a projector.

function baseSize() {
  return Math.round(Math.min(44, Math.max(16, Math.min(window.innerWidth / 40, window.innerHeight / 22))));
}

function fitAll() {
  const base = baseSize();
  fitText(ui.joinLine, { max: Math.round(base * 1.1), min: 14 });
  fitText(ui.prompt, { max: Math.round(base * 1.6), min: Math.max(16, Math.round(base * 0.7)) });
  // Views with `noShrink` fill the box at the base size and leave out what does not fit (saying how
  // many); the others shrink their text until everything fits, and page their items when even the
  // smallest readable size does not fit (never overlapping, never off the screen).
  if (view && !view.noShrink) {
    for (const item of ui.view.querySelectorAll('li[hidden]')) item.hidden = false;
    show(ui.pageNote, false);
    fitText(ui.view, { max: base, min: Math.max(14, Math.round(base * 0.5)) });
    pager.layout(pageNoun());
  } else {
    pager.stop();
    show(ui.pageNote, false);
    ui.view.style.fontSize = `${base}px`;
  }
  if (view && typeof view.relayout === 'function') view.relayout();
  fitComments();
}

// ---------------------------------------------------------------------------------------------
// Rendering

function pageNoun() {
  if (!current) return 'Items';
  return { scale: 'Statements', choice: 'Options', ranking: 'Options' }[current.kind] || 'Items';
}

function questionKey(q) {
  return JSON.stringify([q.id, q.kind, q.options, q.statements, q.points, q.labels]);
}

function renderState() {
  if (!current) {
    showCountdown($('countdown'), null);
    show($('section-name'), false);
    setText(ui.responses, '');
    setText(ui.prompt, 'Waiting for the first question');
    show(ui.badge, false);
    show(ui.view, false);
    show(ui.kNotice, false);
    show(ui.comments, false);
    setText(ui.answersN, '');
    ui.resultsText.replaceChildren();
    view = null;
    viewKey = '';
    fitAll();
    return;
  }
  setText(ui.prompt, current.prompt || '');
  renderSection();
  showCountdown($('countdown'), current);
  if (current.closed) {
    setText(ui.badge, 'Closed');
    ui.badge.className = 'badge badge-closed';
  } else if (current.open) {
    setText(ui.badge, 'Open');
    ui.badge.className = 'badge badge-open';
  } else {
    setText(ui.badge, 'Not open yet');
    ui.badge.className = 'badge badge-waiting';
  }
  show(ui.badge, true);
  const key = questionKey(current);
  if (key !== viewKey) {
    const kind = kindOf(current.kind);
    view = kind ? kind.createView(current, { mode: 'presenter', minGroup }) : null;
    ui.view.className = `view-box view-box-${current.kind}`;
    ui.view.replaceChildren(view ? view.node : el('p', { class: 'muted', text: 'This screen cannot show this kind of question.' }));
    viewKey = key;
  }
  show(ui.view, true);
  renderResults();
}

// The section title above the question (sections come from the page, and from the API when the
// facilitator added one after this page was loaded).
function renderSection() {
  const id = current && current.section_id;
  const title = id ? sectionTitles.get(id) : '';
  setText($('section-name'), title || '');
  show($('section-name'), !!title);
  if (id && !sectionTitles.has(id)) {
    sectionTitles.set(id, '');
    api('GET', `/api/sessions/${encodeURIComponent(sid)}`).then((detail) => {
      for (const section of detail.sections || []) sectionTitles.set(section.id, section.title);
      renderSection();
    }).catch(() => {});
  }
}

function renderResponses() {
  const mine = current && responses && responses.question_id === current.id ? responses : null;
  const count = mine ? Number(mine.responses) || 0 : 0;
  // A count of who took part, never of what they chose: answers and "prefer not to answer" together.
  setText(ui.responses, mine && (current.open || current.closed || count)
    ? `${plural(count, 'response', 'responses')} received` : '');
}

function renderResults() {
  if (!current) return;
  renderResponses();
  const got = results && results.question_id === current.id ? results : null;
  // H: this screen lists the options as before k, whatever the result.
  const mine = resultsOff ? null : got;
  const shown = !!(mine && !mine.hidden && mine.summary);

  // The k notice is a slim line above the result, never over it: before k the options and
  // statements stay readable. It is shown only once answers are being taken or are final.
  let notice = '';
  if (resultsOff) {
    notice = 'Results are hidden on this screen. Press H to show them.';
  } else if (mine && !shown && (current.open || current.closed)) {
    notice = current.closed
      ? `Fewer than ${minGroup} people answered, so the result stays hidden to protect anonymity.`
      : `Results appear at ${minGroup} answers, to protect anonymity.`;
  }
  setText(ui.kNotice, notice);
  show(ui.kNotice, !!notice);

  if (view) view.update(current, mine);
  document.body.classList.toggle('results-off', resultsOff);

  // A text version of the result for screen readers.
  const lines = shown && view ? view.text() : [];
  ui.resultsText.replaceChildren(...lines.map((line) => el('li', { text: line })));

  renderComments(mine);
  fitAll();
}

// Comments under the result, when the question takes them and the facilitator shows them.
function renderComments(mine) {
  const block = mine && mine.comments ? mine.comments : null;
  const entries = block && Array.isArray(block.entries) ? block.entries : [];
  const visible = !!(current && current.comments && current.show_comments);
  show(ui.comments, visible);
  if (!visible) return;
  setText($('comments-heading'), entries.length ? `Comments (${entries.length})` : 'Comments');
  let empty = 'No comments to show yet.';
  if (block && block.hidden) empty = `Comments appear once ${minGroup} people have commented, to protect anonymity.`;
  keyedList(
    ui.commentsList,
    entries.length ? entries : [{ id: '__none', text: empty }],
    (e) => e.id,
    () => el('li', { class: 'comment-card' }),
    (node, e) => {
      node.textContent = e.text;
      node.classList.toggle('muted', e.id === '__none');
    },
  );
}

function fitComments() {
  // Newest first: the oldest cards that do not fit the strip are left out.
  if (!ui.comments.hidden) dropOverflow(ui.commentsList);
}

// ---------------------------------------------------------------------------------------------
// Socket

const handlers = {
  'session.state'(state) {
    const next = state.current || null;
    if (!next || !current || next.id !== current.id) {
      results = null;
      responses = null;
    }
    current = next;
    renderState();
  },
  'poll.results'(result) {
    if (!current || result.question_id !== current.id) return;
    results = result;
    renderResults();
  },
  'poll.responses'(counted) {
    responses = counted;
    renderResponses();
  },
  presence(p) {
    // Joined (reading the information sheet or past it) and agreed, counted apart.
    if (p.joined !== undefined) {
      const joined = Number(p.joined) || 0;
      const agreed = Number(p.agreed) || 0;
      setText(ui.presence, joined === agreed
        ? `${plural(joined, 'person', 'people')} joined`
        : `${plural(joined, 'person', 'people')} joined · ${agreed} agreed`);
    } else {
      setText(ui.presence, `${plural(Number(p.participants) || 0, 'phone', 'phones')} connected`);
    }
  },
};

function onStatus(state, detail) {
  if (state === 'open') {
    setText(ui.conn, 'Connected');
    ui.conn.className = 'conn conn-ok';
  } else if (state === 'connecting') {
    setText(ui.conn, detail.attempt > 0 ? 'Reconnecting…' : 'Connecting…');
    ui.conn.className = 'conn conn-wait';
  } else if (state === 'closed') {
    if (detail.notAllowed) {
      setText(ui.conn, 'This screen is not allowed to show this session. Sign in with the account that owns it, then reload this page.');
      ui.conn.className = 'conn conn-bad';
    } else if (!detail.final) {
      setText(ui.conn, 'Reconnecting…');
      ui.conn.className = 'conn conn-wait';
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Keys and buttons

function say(message) {
  setText(ui.keysStatus, '');
  requestAnimationFrame(() => setText(ui.keysStatus, message));
}

function toggleResults() {
  resultsOff = !resultsOff;
  ui.hideResults.setAttribute('aria-pressed', String(resultsOff));
  ui.hideResults.firstChild.textContent = resultsOff ? 'Show results ' : 'Hide results ';
  say(resultsOff ? 'Results hidden on this screen.' : 'Results shown.');
  renderResults();
}

const stepper = createStepper(sid, say);
const bigQr = setupBigQr($('qr-big'), $('qr-small'), $('qr-close'));
const toggleFullscreen = setupFullscreen(ui.fullscreen);
const toggleTheme = setupTheme($('theme'));
ui.hideResults.addEventListener('click', toggleResults);
bindKeys({
  previous: () => stepper.step(current && current.id, -1),
  next: () => stepper.step(current && current.id, 1),
  hide: toggleResults,
  qr: bigQr.toggle,
  fullscreen: toggleFullscreen,
  theme: toggleTheme,
  escape: bigQr.close,
});

// ---------------------------------------------------------------------------------------------

// The QR code arrives as inline SVG with fixed width/height and perhaps no viewBox; give it a
// viewBox so CSS can scale it to the panel (a QR code must stay square and sharp).
function makeQrScalable() {
  for (const svg of document.querySelectorAll('.qr svg')) scaleQr(svg);
}

function scaleQr(svg) {
  const width = parseFloat(svg.getAttribute('width'));
  const height = parseFloat(svg.getAttribute('height'));
  if (!svg.hasAttribute('viewBox') && width > 0 && height > 0) {
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  }
  if (svg.hasAttribute('viewBox')) {
    svg.removeAttribute('width');
    svg.removeAttribute('height');
  }
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
}

makeQrScalable();
let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(fitAll, 150);
});
renderState();
connect(`/ws/presenter/${encodeURIComponent(sid)}`, handlers, { onStatus });
