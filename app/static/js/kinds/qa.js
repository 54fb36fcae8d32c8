// Q&A: participants ask questions (up to 280 characters) and upvote others' once each; the
// facilitator approves (when moderated), highlights one, marks answered, or archives.

import { charCounter, el, plural } from '../ui.js';
import { declinedLine, dropOverflow, keyedList, shownSummary } from './common.js';

export const name = 'qa';
export const label = 'Q&A';
export const accumulates = true; // each Send asks a new question
export const listOnPhone = true; // the phone shows the questions itself, with upvote buttons

const TEXT_MAX = 280;

// ---------------------------------------------------------------------------------------------
// Console

export const editor = {
  names: {},
  lines: [],
  freeText: true, // offers the common "Approve each entry before it is shown"
  fields() {
    return [];
  },
  read() {
    return { body: {}, problems: {} };
  },
  // Participants need the list to upvote it, so a Q&A shows its questions on phones from the start.
  afterCreate: { results_visible: true },
};

export function describe(q) {
  return `${label}, ${q.moderated ? 'each question approved before it is shown' : 'questions shown at once'}`;
}

export function items() {
  return [];
}

function sortEntries(entries) {
  // Unanswered before answered; then by votes (the server's order) as given.
  return entries.filter((e) => !e.answered).concat(entries.filter((e) => e.answered));
}

// ---------------------------------------------------------------------------------------------
// Phone: a box to ask, then the visible questions with their votes and an upvote button.

export function createInput(q, ctx = {}) {
  const id = 'qa-text';
  const input = el('textarea', { id, name: id, rows: 3 });
  const counter = charCounter(input, TEXT_MAX);
  const list = el('ol', { class: 'qa-list', 'aria-label': 'Questions from the room' });
  const listNote = el('p', { class: 'small muted' });
  const ask = el(
    'div',
    { class: 'field qa-ask' },
    el('label', { for: id, text: 'Your question' }),
    el('p', {
      class: 'hint',
      text: q.moderated
        ? 'Up to 280 characters. The facilitator reads each question before it is shown.'
        : 'Up to 280 characters. It is shown without your name.',
    }),
    input,
    counter.node,
  );
  const listBox = el('section', { class: 'qa-room', 'aria-labelledby': 'qa-room-heading' },
    el('h3', { id: 'qa-room-heading', text: 'Questions from the room' }), listNote, list);

  function voteButton() {
    const button = el('button', { type: 'button', class: 'vote-button' },
      el('span', { class: 'vote-arrow', 'aria-hidden': 'true', text: '▲' }),
      el('span', { class: 'vote-count' }));
    button.addEventListener('click', () => {
      const entryId = button.closest('li').dataset.key;
      if (ctx.upvote) ctx.upvote(entryId);
    });
    return button;
  }

  function renderList(question, results) {
    if (!question.results_visible) {
      listNote.textContent = 'The facilitator is not showing the questions on phones at the moment.';
      list.replaceChildren();
      return;
    }
    if (!results || results.question_id !== question.id) {
      listNote.textContent = 'Loading the questions…';
      return;
    }
    const summary = shownSummary(question, results);
    if (!summary) {
      listNote.textContent = 'Questions appear here once enough people have taken part, so nobody can be singled out.';
      list.replaceChildren();
      return;
    }
    const entries = sortEntries(Array.isArray(summary.entries) ? summary.entries : []);
    listNote.textContent = entries.length ? 'Upvote the questions you want answered. You can upvote each once.' : 'No questions yet. Be the first to ask.';
    keyedList(
      list,
      entries,
      (e) => e.id,
      (e) => el(
        'li',
        { class: 'qa-item' },
        el('p', { class: 'qa-text' }),
        el('p', { class: 'qa-flags small' }),
        el('p', { class: 'qa-own small muted', text: 'Your question', hidden: true }),
        voteButton(e),
      ),
      (node, e) => {
        node.querySelector('.qa-text').textContent = e.text;
        const flags = [e.highlighted ? 'Being answered now' : '', e.answered ? 'Answered' : ''].filter(Boolean).join(' · ');
        node.querySelector('.qa-flags').textContent = flags;
        node.classList.toggle('is-highlighted', !!e.highlighted);
        node.classList.toggle('is-answered', !!e.answered);
        const state = ctx.voteState ? ctx.voteState(e.id) : 'none';
        const button = node.querySelector('.vote-button');
        const votes = Number(e.votes) || 0;
        // People upvote each other's questions: none on the phone's own (the server refuses it).
        const own = state === 'own';
        node.classList.toggle('is-own', own);
        button.hidden = own;
        node.querySelector('.qa-own').hidden = !own;
        node.querySelector('.qa-own').textContent = own ? `Your question · ${plural(votes, 'vote', 'votes')}` : '';
        button.querySelector('.vote-count').textContent = String(votes);
        button.setAttribute('aria-pressed', state === 'none' ? 'false' : 'true');
        button.disabled = state !== 'none';
        button.setAttribute('aria-label', state === 'none'
          ? `Upvote, ${plural(votes, 'vote', 'votes')} so far`
          : `You upvoted this; ${plural(votes, 'vote', 'votes')}`);
      },
    );
  }

  return {
    node: el('div', { class: 'qa-input' }, ask),
    after: listBox, // shown below the Send buttons
    sendLabel: 'Send question',
    set() {},
    clear() {
      input.value = '';
      counter.update();
    },
    restoreText(text) {
      if (!input.value) {
        input.value = text;
        counter.update();
      }
    },
    read() {
      const text = input.value.trim();
      if (!text) return { problem: 'Write your question first.' };
      const long = counter.tooLong('Your question');
      if (long) return { problem: long };
      return { value: { text } };
    },
    describe(value) {
      return value && value.text ? value.text : '';
    },
    update: renderList,
  };
}

// ---------------------------------------------------------------------------------------------
// Results: the highlighted question large, then the top questions by votes.

export function createView(q, ctx = {}) {
  const mode = ctx.mode || 'phone';
  const spotlight = el('div', { class: 'qa-spotlight', hidden: true },
    el('p', { class: 'qa-spot-label', text: 'Now answering' }),
    el('p', { class: 'qa-spot-text' }),
    el('p', { class: 'qa-spot-votes' }));
  const list = el('ol', { class: `qa-top qa-${mode}` });
  const empty = el('p', { class: 'muted', text: 'No questions yet.', hidden: true });
  const more = el('p', { class: 'wall-more muted', hidden: true });
  const declined = el('p', { class: 'small muted view-declined' });
  const node = el('div', { class: 'view-qa' }, spotlight, list, empty, more, declined);
  let lines = [];

  function fit() {
    if (mode !== 'presenter') return;
    const hiddenCount = dropOverflow(list);
    more.hidden = hiddenCount === 0;
    more.textContent = hiddenCount ? `and ${plural(hiddenCount, 'more question', 'more questions')}` : '';
  }

  return {
    node,
    update(question, results) {
      q = question;
      const summary = shownSummary(q, results);
      const entries = summary && Array.isArray(summary.entries) ? summary.entries : [];
      const top = entries.find((e) => e.highlighted) || null;
      spotlight.hidden = !top;
      if (top) {
        spotlight.querySelector('.qa-spot-text').textContent = top.text;
        spotlight.querySelector('.qa-spot-votes').textContent = plural(Number(top.votes) || 0, 'vote', 'votes');
      }
      const rest = sortEntries(entries.filter((e) => e !== top));
      lines = entries.map((e) => `${e.text}: ${plural(Number(e.votes) || 0, 'vote', 'votes')}${e.highlighted ? ', being answered now' : ''}${e.answered ? ', answered' : ''}`);
      keyedList(
        list,
        rest,
        (e) => e.id,
        // The drawn count (and its ▲) is hidden from screen readers, which read "question (n votes)"
        // instead: an aria-label on a plain span is not read, and the ▲ would be read as a shape.
        () => el('li', { class: 'qa-row' },
          el('span', { class: 'qa-votes', 'aria-hidden': 'true' }),
          el('span', { class: 'qa-text' }),
          el('span', { class: 'qa-votes-read visually-hidden' })),
        (row, e) => {
          const votes = Number(e.votes) || 0;
          row.querySelector('.qa-votes').textContent = String(votes);
          row.querySelector('.qa-votes-read').textContent = ` (${plural(votes, 'vote', 'votes')})`;
          row.querySelector('.qa-text').textContent = e.answered ? `${e.text} (answered)` : e.text;
          row.classList.toggle('is-answered', !!e.answered);
        },
      );
      empty.hidden = !summary || entries.length > 0;
      declined.textContent = summary ? declinedLine(summary) : '';
      fit();
    },
    relayout: fit,
    noShrink: mode === 'presenter',
    text: () => lines,
    count: (r) => `${plural(Number(r.n) || 0, 'person', 'people')} took part`,
  };
}
