// Word cloud: each phone sends up to `max_entries` words or short phrases; a word is shown once k
// different people used it, sized by how many did. The facilitator can hide a word.

import { api } from '../api.js';
import { charCounter, el, plural } from '../ui.js';
import { control, declinedLine, numberField, shownSummary } from './common.js';

export const name = 'wordcloud';
export const label = 'Word cloud';

const WORD_MAX = 40;
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif';
// Dark colours only: each keeps at least 7:1 contrast on white, so the smallest word is readable too.
const COLOURS = ['#1d4f91', '#14622d', '#7a2a83', '#8a3b00', '#0b5563', '#111111'];

// ---------------------------------------------------------------------------------------------
// Console

export const editor = {
  names: { max_entries: 'Words per person' },
  lines: [],
  fields() {
    return [
      numberField(
        name, 'max_entries', 'Words per person',
        'How many words or short phrases each person may send (1 to 10). Each may have up to 40 characters.',
        { value: 3, min: 1, max: 10 },
      ),
    ];
  },
  read(form) {
    const raw = control(form, name, 'max_entries').value.trim();
    const value = Number(raw);
    const problems = {};
    if (!/^\d+$/.test(raw) || value < 1 || value > 10) {
      problems.max_entries = 'Write a whole number from 1 to 10.';
    }
    return { body: { max_entries: value }, problems };
  },
};

export function describe(q) {
  const hidden = Array.isArray(q.hidden_words) && q.hidden_words.length
    ? `; ${plural(q.hidden_words.length, 'word', 'words')} hidden`
    : '';
  return `${label}, up to ${plural(Number(q.max_entries) || 3, 'word', 'words')} per person${hidden}`;
}

export function items() {
  return [];
}

// ---------------------------------------------------------------------------------------------
// Phone: one text field per entry allowed, each with a counter. A new answer replaces the earlier
// words of this phone (the server keeps the newest).

export function createInput(q) {
  const count = Math.max(1, Number(q.max_entries) || 3);
  const inputs = [];
  const rows = [];
  for (let i = 0; i < count; i += 1) {
    const id = `word-${i}`;
    const input = el('input', {
      type: 'text', id, name: id, autocomplete: 'off', autocapitalize: 'none', enterkeyhint: i + 1 < count ? 'next' : 'send',
    });
    const counter = charCounter(input, WORD_MAX);
    inputs.push({ input, counter });
    rows.push(el(
      'div',
      { class: 'field word-field' },
      el('label', { for: id, text: count === 1 ? 'Your word' : `Word ${i + 1}` }),
      input,
      counter.node,
    ));
  }
  const node = el(
    'fieldset',
    { class: 'wordcloud-input' },
    el('legend', { class: 'visually-hidden', text: q.prompt || 'Your words' }),
    el('p', {
      class: 'small muted',
      text: count === 1
        ? 'One word or short phrase, up to 40 characters.'
        : `Up to ${count} words or short phrases, 40 characters each. Sending again replaces your earlier words.`,
    }),
    rows,
  );
  return {
    node,
    set(value) {
      const words = value && Array.isArray(value.words) ? value.words : [];
      inputs.forEach(({ input, counter }, i) => {
        input.value = words[i] || '';
        counter.update();
      });
    },
    clear() {
      this.set(null);
    },
    read() {
      const words = inputs.map(({ input }) => input.value.trim()).filter(Boolean);
      if (!words.length) return { problem: 'Write at least one word first, or press “Prefer not to answer”.' };
      for (const [i, { counter }] of inputs.entries()) {
        const long = counter.tooLong(count === 1 ? 'Your word' : `Word ${i + 1}`);
        if (long) return { problem: long };
      }
      return { value: { words } };
    },
    describe(value) {
      const words = value && Array.isArray(value.words) ? value.words : [];
      return words.length ? `Your words: ${words.join(', ')}.` : 'You sent no words.';
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Results

function seeded(seedText) {
  // mulberry32 seeded from the question id: the same words land in the same places on every
  // redraw, so the cloud does not jump about each time a count steps up.
  let h = 1779033703;
  for (const ch of String(seedText)) h = Math.imul(h ^ ch.charCodeAt(0), 3432918353);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sizes(words, maxSize, minSize) {
  const counts = words.map((w) => Number(w.count) || 0);
  const hi = Math.max(...counts);
  const lo = Math.min(...counts);
  // Area grows with the square of the font size, so size by the square root of the share.
  return words.map((w) => {
    const t = hi === lo ? 1 : (Math.sqrt(w.count) - Math.sqrt(lo)) / (Math.sqrt(hi) - Math.sqrt(lo));
    return minSize + t * (maxSize - minSize);
  });
}

const SVG = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

// The presenter's cloud: d3-cloud (vendored) finds the places, every word is an SVG <text>, so it
// can be read, selected and measured. When words do not fit, the whole cloud gets smaller and is
// laid out again, down to a floor that stays readable from the back of the room; below that the
// least used words are left out and the page says how many (they stay in the text version).
// Returns the number of words drawn, or -1 when the layout library is missing.
function drawCloud(svg, q, words, width, height) {
  const layoutOf = window.d3 && window.d3.layout && window.d3.layout.cloud;
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${Math.max(1, width)} ${Math.max(1, height)}`);
  if (!layoutOf) return -1;
  if (!words.length || width < 50 || height < 50) return 0;
  const floor = Math.max(16, Math.round(height / 26));
  let maxSize = Math.max(floor * 1.6, Math.min(height / 4, width / 6, 220));
  let minSize = Math.max(floor, Math.min(maxSize / 3, height / 12));
  let placed = [];
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const fontSizes = sizes(words, maxSize, minSize);
    const input = words.map((w, i) => ({ text: w.text, count: w.count, size: fontSizes[i], index: i }));
    layoutOf()
      .size([width, height])
      .words(input)
      .padding(Math.max(2, Math.round(minSize / 6)))
      .rotate(0)
      .font(FONT)
      .fontWeight('700')
      .fontSize((d) => d.size)
      .random(seeded(q.id))
      .timeInterval(Infinity) // lay out at once (synchronously): at most a few hundred words
      .on('end', (tags) => { placed = tags; })
      .start();
    // Keep the largest words clearly larger than the floor, so sizes still say which words lead.
    if (placed.length === words.length || (maxSize <= floor * 1.6 && minSize <= floor)) break;
    maxSize = Math.max(floor * 1.6, maxSize * 0.85);
    minSize = Math.max(floor, minSize * 0.85);
  }
  const group = svgEl('g', { transform: `translate(${width / 2},${height / 2})` });
  for (const d of placed) {
    group.append(svgEl('text', {
      'text-anchor': 'middle',
      transform: `translate(${d.x},${d.y})`,
      'font-size': d.size,
      'font-weight': 700,
      'font-family': FONT,
      fill: COLOURS[d.index % COLOURS.length],
      'data-count': d.count,
    }, d.text));
  }
  svg.append(group);
  return placed.length;
}

// A simple cloud for phones and the console: the words in a row that wraps, sized by count.
function wordList(words, { withHide = null } = {}) {
  const hi = Math.max(1, ...words.map((w) => Number(w.count) || 0));
  return words.map((w) => {
    const li = el('li', { class: 'word' });
    const text = el('span', { class: 'word-text', text: w.text });
    // Phones size the words like a small cloud; the console lists them plainly, for moderation.
    if (!withHide) text.style.fontSize = `${(1 + (Number(w.count) / hi) * 0.9).toFixed(2)}em`;
    li.append(text, el('span', { class: 'word-count', text: ` ${w.count}` }));
    if (withHide) {
      const button = el('button', { type: 'button', class: 'secondary small-button', text: 'Hide', 'aria-label': `Hide “${w.text}”` });
      button.addEventListener('click', () => withHide(w.text, button));
      li.append(button);
    }
    return li;
  });
}

export function createView(q, ctx = {}) {
  const mode = ctx.mode || 'phone';
  const declined = el('p', { class: 'small muted view-declined' });
  let lines = [];
  let lastWords = [];

  if (mode === 'presenter') {
    const svg = svgEl('svg', { class: 'cloud', role: 'img', 'aria-label': 'Word cloud' });
    const missing = el('p', { class: 'small muted', hidden: true, text: 'The word cloud could not be drawn; the words are listed instead.' });
    const fallback = el('ul', { class: 'word-list', hidden: true });
    const more = el('p', { class: 'wall-more muted', hidden: true });
    const waiting = el('p', { class: 'cloud-empty muted', hidden: true });
    const box = el('div', { class: 'cloud-box' }, svg, waiting);
    const node = el('div', { class: 'view-wordcloud' }, box, more, missing, fallback, declined);
    const draw = () => {
      const rect = box.getBoundingClientRect();
      const drawn = drawCloud(svg, q, lastWords, Math.floor(rect.width), Math.floor(rect.height));
      const broken = drawn < 0 && lastWords.length > 0;
      missing.hidden = !broken;
      fallback.hidden = !broken;
      fallback.replaceChildren(...(broken ? wordList(lastWords) : []));
      const left = drawn >= 0 ? lastWords.length - drawn : 0;
      more.hidden = left <= 0;
      more.textContent = left > 0 ? `and ${plural(left, 'more word', 'more words')} that did not fit` : '';
    };
    return {
      node,
      update(question, results) {
        q = question;
        const summary = shownSummary(q, results);
        lastWords = summary && Array.isArray(summary.words) ? summary.words : [];
        lines = lastWords.map((w) => `${w.text}: ${w.count}`);
        declined.textContent = summary ? declinedLine(summary) : '';
        // Shown, but no word has reached k yet: say so, or the screen looks broken.
        waiting.hidden = !summary || lastWords.length > 0;
        waiting.textContent = `A word appears once ${ctx.minGroup ? `${ctx.minGroup} people` : 'enough people'} have used it.`;
        svg.setAttribute('aria-label', lastWords.length ? `Word cloud of ${plural(lastWords.length, 'word', 'words')}` : 'Word cloud, empty so far');
        draw();
      },
      relayout: draw,
      noShrink: true,
      text: () => lines,
      count: (r) => `${plural(Number(r.n) || 0, 'person', 'people')} sent words`,
    };
  }

  // Phone and console: a wrapped list. The console adds "Hide" on each word and the hidden list.
  const list = el('ul', { class: mode === 'console' ? 'word-rows' : 'word-list' });
  const empty = el('p', { class: 'small muted', text: 'No word has been used by enough people yet.', hidden: true });
  const node = el('div', { class: 'view-wordcloud' }, list, empty, declined);
  let hiddenBox = null;
  if (mode === 'console' && ctx.sessionBase) {
    hiddenBox = hiddenWordsEditor(q, ctx);
    node.append(hiddenBox.node);
  }
  return {
    node,
    update(question, results) {
      q = question;
      const summary = shownSummary(q, results);
      lastWords = summary && Array.isArray(summary.words) ? summary.words : [];
      lines = lastWords.map((w) => `${w.text}: ${w.count}`);
      const hide = hiddenBox ? (word, button) => hiddenBox.hide(word, button) : null;
      list.replaceChildren(...wordList(lastWords, { withHide: hide }));
      empty.hidden = !summary || lastWords.length > 0;
      declined.textContent = summary ? declinedLine(summary) : '';
      if (hiddenBox) hiddenBox.update(q);
    },
    text: () => lines,
    count: (r) => `${plural(Number(r.n) || 0, 'person', 'people')} sent words`,
  };
}

// The console's list of hidden words, with "Restore", and a field to hide a word before it shows.
function hiddenWordsEditor(q, ctx) {
  const url = `${ctx.sessionBase}/questions/${encodeURIComponent(q.id)}`;
  const list = el('ul', { class: 'hidden-words' });
  const none = el('p', { class: 'small muted', text: 'No hidden words.' });
  const inputId = `hide-word-${q.id}`;
  const input = el('input', { type: 'text', id: inputId, autocomplete: 'off' });
  // A hidden word has the entries' own limit (HiddenWord in app/polls/schemas.py).
  const counter = charCounter(input, WORD_MAX);
  const add = el('button', { type: 'submit', class: 'secondary', text: 'Hide' });
  const status = el('p', { class: 'error', role: 'alert', hidden: true });
  const form = el(
    'form',
    { class: 'hide-word-form', novalidate: true },
    el('label', { for: inputId, text: 'Hide a word' }),
    el('div', { class: 'inline-form' }, input, add),
    counter.node,
  );
  const node = el('div', { class: 'hidden-words-box' }, el('h4', { text: 'Hidden words' }), list, none, form, status);
  let current = Array.isArray(q.hidden_words) ? q.hidden_words.slice() : [];

  async function save(next, button) {
    status.hidden = true;
    if (button) button.disabled = true;
    try {
      const updated = await api('PATCH', url, { hidden_words: next });
      current = Array.isArray(updated && updated.hidden_words) ? updated.hidden_words : next;
      render();
      if (ctx.onQuestionChanged) ctx.onQuestionChanged(updated);
      return true;
    } catch (err) {
      status.textContent = err.message || 'That did not work. Try again.';
      status.hidden = false;
      return false;
    } finally {
      if (button) button.disabled = false;
    }
  }

  function render() {
    none.hidden = current.length > 0;
    list.replaceChildren(...current.map((word) => {
      const restore = el('button', { type: 'button', class: 'secondary small-button', text: 'Restore', 'aria-label': `Restore “${word}”` });
      restore.addEventListener('click', () => save(current.filter((w) => w !== word), restore));
      return el('li', {}, el('span', { class: 'word-text', text: word }), restore);
    }));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const word = input.value.trim();
    if (!word) {
      status.textContent = 'Write the word to hide.';
      status.hidden = false;
      return;
    }
    const long = counter.tooLong('The word to hide');
    if (long) {
      status.textContent = long;
      status.hidden = false;
      input.focus();
      return;
    }
    if (await save([...current.filter((w) => w.toLocaleLowerCase() !== word.toLocaleLowerCase()), word], add)) {
      input.value = '';
      counter.update();
    }
  });
  render();

  return {
    node,
    hide(word, button) {
      return save([...current.filter((w) => w !== word), word], button);
    },
    update(question) {
      if (Array.isArray(question.hidden_words)) {
        current = question.hidden_words.slice();
        render();
      }
    },
  };
}
