// The console's moderation queue: open answers, Q&A questions and comments, live from the console
// socket (entry.new, entry.changed). Approve, hide, archive; for Q&A also highlight and mark
// answered. Each entry is one <li> kept across updates, so focus stays on the button just pressed.

import { api } from './api.js';
import { keyedList } from './kinds/common.js';
import { el, plural, setText, show } from './ui.js';

const STATUS_TEXT = {
  pending: 'Waiting for approval',
  approved: 'Shown',
  hidden: 'Hidden',
  archived: 'Archived',
};

const FILTERS = [
  ['pending', 'Waiting'],
  ['approved', 'Shown'],
  ['hidden', 'Hidden'],
  ['archived', 'Archived'],
  ['all', 'All'],
];

export function moderatable(q) {
  return q.kind === 'open' || q.kind === 'qa' || !!q.comments;
}

export function createModeration({ base, root }) {
  const select = el('select', { id: 'mod-question' });
  const filterBox = el('div', { class: 'mod-filters', role: 'group', 'aria-label': 'Show entries' });
  const list = el('ul', { class: 'mod-list', id: 'mod-entries', 'aria-live': 'polite' });
  const empty = el('p', { class: 'small muted' });
  const status = el('p', { class: 'error', role: 'alert', hidden: true });
  const summary = el('p', { class: 'small', id: 'mod-summary' });
  root.replaceChildren(
    el('h2', { id: 'mod-heading', text: 'Moderation' }),
    el('p', { class: 'small muted', text: 'Open answers, Q&A questions and comments. Newest first. Anything you hide leaves every screen at once.' }),
    summary,
    el('div', { class: 'field' }, el('label', { for: 'mod-question', text: 'Question' }), select),
    filterBox,
    status,
    empty,
    list,
  );

  let questions = []; // moderatable questions, in session order
  let numbers = new Map(); // question id -> its number in the session (as the question list shows)
  const entries = new Map(); // question id -> [entry], newest first (as the route lists them)
  const loaded = new Set();
  let chosen = null;
  let filter = 'all'; // every entry, newest first, each with its status; the buttons narrow it
  let userChose = false;

  const filterButtons = FILTERS.map(([value, text]) => {
    const button = el('button', { type: 'button', class: 'secondary small-button', dataset: { filter: value }, 'aria-pressed': 'false' }, text);
    button.addEventListener('click', () => {
      filter = value;
      render();
    });
    return button;
  });
  filterBox.append(...filterButtons);

  select.addEventListener('change', () => {
    chosen = select.value || null;
    userChose = true;
    ensureLoaded(chosen);
    render();
  });

  function questionEntries(qid) {
    if (!entries.has(qid)) entries.set(qid, []);
    return entries.get(qid);
  }

  function pendingCount(qid) {
    return questionEntries(qid).filter((e) => e.status === 'pending').length;
  }

  async function ensureLoaded(qid, { fresh = false } = {}) {
    if (!qid || loaded.has(qid)) return;
    loaded.add(qid);
    try {
      const reply = await api('GET', `${base}/questions/${encodeURIComponent(qid)}/entries`);
      // The route lists every entry, newest first. On a first load, entries that arrived live
      // meanwhile stay as they are (they are newer); after a reconnect the route's state wins.
      const listed = ((reply && reply.entries) || []).map((e) => ({ ...e, question_id: qid }));
      const known = new Set(listed.map((e) => e.id));
      const live = fresh ? [] : questionEntries(qid).filter((e) => !known.has(e.id));
      const keep = new Map(questionEntries(qid).map((e) => [e.id, e]));
      entries.set(qid, [...live, ...listed.map((e) => (!fresh && keep.has(e.id) ? keep.get(e.id) : e))]);
      render();
    } catch (err) {
      loaded.delete(qid);
      setText(status, err.message || 'The entries could not be loaded.');
      show(status, true);
    }
  }

  function label(q) {
    const index = numbers.get(q.id) || questions.indexOf(q) + 1;
    const waiting = pendingCount(q.id);
    const prompt = q.prompt.length > 60 ? `${q.prompt.slice(0, 57)}…` : q.prompt;
    return `${index}. ${prompt}${waiting ? ` (${waiting} waiting)` : ''}`;
  }

  async function act(entry, body, button) {
    show(status, false);
    button.disabled = true;
    try {
      const updated = await api('PATCH', `${base}/questions/${encodeURIComponent(entry.question_id)}/entries/${encodeURIComponent(entry.id)}`, body);
      if (updated && updated.id) upsert(entry.question_id, updated);
    } catch (err) {
      setText(status, err.message || 'That did not work. Try again.');
      show(status, true);
    } finally {
      button.disabled = false;
    }
  }

  function actionButtons(q, entry) {
    const buttons = [];
    const add = (text, body, cls = 'secondary', aria = null) => {
      const b = el('button', { type: 'button', class: `${cls} small-button`, text, 'aria-label': aria });
      b.addEventListener('click', () => act(entry, body, b));
      buttons.push(b);
    };
    if (entry.status !== 'approved') add(entry.status === 'pending' ? 'Approve' : 'Show again', { status: 'approved' }, 'primary');
    if (entry.status !== 'hidden') add('Hide', { status: 'hidden' }, 'danger');
    if (entry.status !== 'archived') add('Archive', { status: 'archived' });
    if (q.kind === 'qa' && !entry.comment) {
      add(entry.highlighted ? 'Stop highlighting' : 'Highlight', { highlighted: !entry.highlighted });
      add(entry.answered ? 'Not answered' : 'Mark answered', { answered: !entry.answered });
    }
    return buttons;
  }

  function render() {
    // Questions, with a count of entries waiting.
    const options = questions.map((q) => el('option', { value: q.id, text: label(q) }));
    select.replaceChildren(...options);
    if (chosen && questions.some((q) => q.id === chosen)) select.value = chosen;
    const totalWaiting = questions.reduce((sum, q) => sum + pendingCount(q.id), 0);
    setText(summary, questions.length
      ? (totalWaiting ? `${plural(totalWaiting, 'entry is', 'entries are')} waiting for approval.` : 'Nothing is waiting for approval.')
      : '');
    show(root, questions.length > 0);
    for (const b of filterButtons) b.setAttribute('aria-pressed', String(b.dataset.filter === filter));

    const q = questions.find((x) => x.id === chosen);
    if (!q) {
      list.replaceChildren();
      setText(empty, 'Choose a question.');
      return;
    }
    const all = questionEntries(q.id);
    const shown = filter === 'all' ? all : all.filter((e) => e.status === filter);
    setText(empty, shown.length ? '' : (loaded.has(q.id) ? 'No entries here.' : 'Loading…'));
    keyedList(
      list,
      shown,
      (e) => e.id,
      () => el('li', { class: 'mod-entry' }, el('p', { class: 'mod-text' }), el('p', { class: 'mod-meta small' }), el('div', { class: 'actions' })),
      (node, e) => {
        node.querySelector('.mod-text').textContent = e.text;
        const meta = [
          STATUS_TEXT[e.status] || e.status,
          e.comment ? 'Comment' : null,
          e.flagged ? 'Flagged: may contain abuse' : null,
          q.kind === 'qa' && !e.comment && e.votes !== null && e.votes !== undefined ? plural(Number(e.votes), 'vote', 'votes') : null,
          e.highlighted ? 'Highlighted' : null,
          e.answered ? 'Answered' : null,
        ].filter(Boolean).join(' · ');
        node.querySelector('.mod-meta').textContent = meta;
        node.className = `mod-entry status-${e.status}${e.flagged ? ' is-flagged' : ''}`;
        // Rebuild the buttons only when their set changes, so a focused button keeps focus.
        const signature = JSON.stringify([e.status, e.highlighted, e.answered, e.comment]);
        if (node.dataset.signature !== signature) {
          const box = node.querySelector('.actions');
          const hadFocus = box.contains(document.activeElement);
          box.replaceChildren(...actionButtons(q, e));
          node.dataset.signature = signature;
          if (hadFocus && box.firstChild) box.firstChild.focus();
        }
      },
    );
  }

  function upsert(qid, entry) {
    const list = questionEntries(qid);
    const index = list.findIndex((e) => e.id === entry.id);
    const merged = { ...(index >= 0 ? list[index] : {}), ...entry, question_id: qid };
    if (index >= 0) list[index] = merged;
    else list.unshift(merged); // a new entry is the newest
    render();
  }

  return {
    // The session's questions changed (added, current moved).
    setQuestions(all, currentId) {
      questions = all.filter(moderatable);
      numbers = new Map(all.map((q, i) => [q.id, i + 1]));
      if (!userChose || !questions.some((q) => q.id === chosen)) {
        const currentQ = questions.find((q) => q.id === currentId);
        chosen = currentQ ? currentQ.id : (questions[0] ? questions[0].id : null);
      }
      for (const q of questions) ensureLoaded(q.id);
      render();
    },
    onEntry(message) {
      if (!message || !message.entry) return;
      upsert(message.question_id, message.entry);
    },
    // After a reconnect the live messages in between may be lost: load every list again.
    reload() {
      loaded.clear();
      for (const q of questions) ensureLoaded(q.id, { fresh: true });
    },
  };
}
