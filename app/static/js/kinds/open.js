// Open text: free text up to 500 characters; a person may send several entries. With moderation
// on, entries wait in the console until approved.

import { charCounter, el, plural } from '../ui.js';
import { declinedLine, dropOverflow, keyedList, shownSummary } from './common.js';

export const name = 'open';
export const label = 'Open text';
export const accumulates = true; // each Send adds an entry

const TEXT_MAX = 500;

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
};

export function describe(q) {
  return `${label}, ${q.moderated ? 'each entry approved before it is shown' : 'entries shown at once'}`;
}

export function items() {
  return [];
}

// ---------------------------------------------------------------------------------------------
// Phone

export function createInput(q) {
  const id = 'open-text';
  const input = el('textarea', { id, name: id, rows: 4 });
  const counter = charCounter(input, TEXT_MAX);
  const node = el(
    'div',
    { class: 'field open-input' },
    el('label', { for: id, text: 'Your answer' }),
    el('p', {
      class: 'hint',
      text: q.moderated
        ? 'Up to 500 characters. You can send several. The facilitator reads each one before it is shown.'
        : 'Up to 500 characters. You can send several.',
    }),
    input,
    counter.node,
  );
  return {
    node,
    sendLabel: 'Send',
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
      if (!text) return { problem: 'Write something first, or press “Prefer not to answer”.' };
      const long = counter.tooLong('Your answer');
      if (long) return { problem: long };
      return { value: { text } };
    },
    describe(value) {
      return value && value.text ? value.text : '';
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Results: a wall of cards, newest first. On the presenter the wall shows as many as fit and says
// how many more there are.

export function createView(q, ctx = {}) {
  const mode = ctx.mode || 'phone';
  const wall = el('ul', { class: `wall wall-${mode}` });
  const more = el('p', { class: 'wall-more muted', hidden: true });
  const empty = el('p', { class: 'muted', text: 'No entries to show yet.', hidden: true });
  const declined = el('p', { class: 'small muted view-declined' });
  const node = el('div', { class: 'view-open' }, wall, empty, more, declined);
  let lines = [];
  let entries = [];

  function fitWall() {
    // Presenter: the oldest cards that do not fit the box are left out, and counted.
    if (mode !== 'presenter') return;
    const hiddenCount = dropOverflow(wall);
    more.hidden = hiddenCount === 0;
    more.textContent = hiddenCount ? `and ${plural(hiddenCount, 'older entry', 'older entries')}` : '';
  }

  return {
    node,
    update(question, results) {
      q = question;
      const summary = shownSummary(q, results);
      entries = summary && Array.isArray(summary.entries) ? summary.entries : [];
      lines = entries.map((e) => e.text);
      keyedList(
        wall,
        entries,
        (e) => e.id,
        () => el('li', { class: 'wall-card' }, el('p', { class: 'wall-text' })),
        (node, e) => {
          node.firstChild.textContent = e.text;
        },
      );
      empty.hidden = !summary || entries.length > 0;
      declined.textContent = summary ? declinedLine(summary) : '';
      fitWall();
    },
    relayout: fitWall,
    noShrink: mode === 'presenter',
    text: () => lines,
    count: (r) => `${plural(Number(r.n) || 0, 'person', 'people')} wrote`,
  };
}
