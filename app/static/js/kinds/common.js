// What the kind modules share: the console's field builders and checks, and small view pieces.
// Not a kind itself (the registry in index.js lists the kinds).

import { charCounter, el } from '../ui.js';

// ---------------------------------------------------------------------------------------------
// Console editor fields. Every control of a kind is named "<kind>-<field>" so two kinds can both
// have "options" in the one form; its error slot is data-error-for="<kind>.<field>".

export function controlId(kind, name) {
  return `q-${kind}-${name}`;
}

function errorSlot(key, id) {
  return el('p', { class: 'error field-error', id, 'data-error-for': key, hidden: true });
}

// The counters of the kinds' limited fields, by control: a form's reset() or an edit fills them
// without an input event, so the console asks them to count again (updateCounters).
const counters = new Map();

function wrapField(kind, name, labelText, hint, control, { max = 0, perLine = false } = {}) {
  const id = controlId(kind, name);
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  control.id = id;
  control.name = `${kind}-${name}`;
  control.setAttribute('aria-describedby', [hint ? hintId : null, errorId].filter(Boolean).join(' '));
  // The server's limit of the field (of each line, for a one-per-line list), counted as it is typed.
  const counter = max ? charCounter(control, max, { perLine }) : null;
  if (counter) counters.set(id, counter);
  return el(
    'div',
    { class: 'field' },
    el('label', { for: id, text: labelText }),
    hint ? el('p', { class: 'hint', id: hintId, text: hint }) : null,
    control,
    counter ? counter.node : null,
    errorSlot(`${kind}.${name}`, errorId),
  );
}

// Count every kind field again (after the form was reset or filled by code).
export function updateCounters() {
  for (const counter of counters.values()) counter.update();
}

// The sentence for a kind's field sent over its limit, naming it as `what`; null when it fits.
export function tooLong(kind, name, what) {
  const counter = counters.get(controlId(kind, name));
  return counter ? counter.tooLong(what) : null;
}

// A one-per-line list; `max` is the limit of each line (the server's limit of each item).
export function linesField(kind, name, labelText, hint, { rows = 5, placeholder = '', max = 0 } = {}) {
  const control = el('textarea', { rows, placeholder: placeholder || null, spellcheck: 'true' });
  return wrapField(kind, name, labelText, hint, control, { max, perLine: true });
}

export function textField(kind, name, labelText, hint, { value = '', placeholder = '', max = 0 } = {}) {
  // Defaults go in the attribute, so the form's reset() after each question brings them back.
  const control = el('input', {
    type: 'text', autocomplete: 'off', placeholder: placeholder || null, value,
  });
  return wrapField(kind, name, labelText, hint, control, { max });
}

export function numberField(kind, name, labelText, hint, { value, min, max }) {
  const control = el('input', {
    type: 'number', min, max, step: 1, inputmode: 'numeric', class: 'short', value: String(value),
  });
  return wrapField(kind, name, labelText, hint, control);
}

export function checkboxField(kind, name, labelText, hint, { checked = false } = {}) {
  const id = controlId(kind, name);
  const hintId = `${id}-hint`;
  const input = el('input', {
    type: 'checkbox', id, name: `${kind}-${name}`, 'aria-describedby': hint ? hintId : null,
  });
  input.defaultChecked = checked;
  return el(
    'div',
    { class: 'field checkbox' },
    input,
    el('label', { for: id, text: labelText }),
    hint ? el('p', { class: 'hint', id: hintId, text: hint }) : null,
    errorSlot(`${kind}.${name}`, `${id}-error`),
  );
}

// A group of radio buttons ("5 points" / "7 points").
export function radioField(kind, name, legendText, choices, checkedValue) {
  const inputs = choices.map(([value, text]) => {
    const id = `${controlId(kind, name)}-${value}`;
    const input = el('input', { type: 'radio', id, name: `${kind}-${name}`, value });
    input.defaultChecked = String(value) === String(checkedValue);
    return el('label', { for: id, class: 'inline-choice' }, input, el('span', { text }));
  });
  return el(
    'fieldset',
    { class: 'field' },
    el('legend', { text: legendText }),
    el('div', { class: 'inline-choices' }, inputs),
    errorSlot(`${kind}.${name}`, `${controlId(kind, name)}-error`),
  );
}

export function control(form, kind, name) {
  return form.elements.namedItem(`${kind}-${name}`);
}

// The non-empty lines of a one-per-line field, with their line numbers as the person sees them.
export function readLines(form, kind, name) {
  const node = control(form, kind, name);
  const raw = node ? node.value : '';
  return raw.split('\n')
    .map((text, index) => ({ line: index + 1, text: text.trim() }))
    .filter((entry) => entry.text);
}

// The first line over `chars`, counted as the server counts it (code points, trimmed), as a sentence
// naming the line: a long paste is refused with the limit, never cut. Null when every line fits.
export function longLine(lines, chars) {
  for (const entry of lines) {
    const used = Array.from(entry.text).length;
    if (used > chars) {
      return `Line ${entry.line}: ${used} characters; the limit is ${chars}. Shorten it by ${used - chars}.`;
    }
  }
  return null;
}

// Checks the count and the repeats of a one-per-line list, naming the line, so the commonest
// mistakes are caught before a round trip. Lengths are left to the server, whose error.fields
// name the item ("options.2"), which the console turns into a line number.
// Returns a sentence, or null.
export function checkLines(lines, { min, max, noun, nouns, chars = 0 }) {
  const long = chars ? longLine(lines, chars) : null;
  if (long) return long;
  if (lines.length < min) {
    return `Give at least ${min} ${nouns}, one per line.`;
  }
  if (lines.length > max) {
    return `There are ${lines.length} ${nouns}; the most is ${max}. Remove ${lines.length - max}.`;
  }
  const seen = new Map();
  for (const entry of lines) {
    const key = entry.text.toLocaleLowerCase();
    if (seen.has(key)) {
      return `Line ${entry.line} repeats line ${seen.get(key)}; each ${noun} must be different.`;
    }
    seen.set(key, entry.line);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Views

// Which part of a results object may be drawn: null while hidden (below k) or for another question.
export function shownSummary(question, results) {
  if (!question || !results || results.question_id !== question.id) return null;
  if (results.hidden || !results.summary) return null;
  return results.summary;
}

export function declinedLine(summary) {
  const declined = Number(summary && summary.declined) || 0;
  if (!declined) return '';
  return declined === 1 ? '1 person preferred not to answer.' : `${declined} people preferred not to answer.`;
}

// A list that keeps one <li> per key across updates, so a screen reader's place and a focused
// button survive a refresh of the data (Q&A votes, moderation, the wall).
export function keyedList(list, items, keyOf, build, patch) {
  const existing = new Map();
  for (const child of Array.from(list.children)) {
    existing.set(child.dataset.key, child);
  }
  const wanted = [];
  for (const item of items) {
    const key = String(keyOf(item));
    let node = existing.get(key);
    if (node) {
      existing.delete(key);
      patch(node, item);
    } else {
      node = build(item);
      node.dataset.key = key;
      patch(node, item);
    }
    wanted.push(node);
  }
  for (const stale of existing.values()) stale.remove();
  wanted.forEach((node, index) => {
    if (list.children[index] !== node) list.insertBefore(node, list.children[index] || null);
  });
}

// Presenter lists that are newest (or most voted) first: show the items that fit the list's box,
// hide the rest from the first one that overflows, and return how many were hidden.
export function dropOverflow(list) {
  const items = Array.from(list.children);
  for (const item of items) item.hidden = false;
  const limit = list.getBoundingClientRect().bottom + 1;
  const first = items.findIndex((item, i) => i > 0 && item.getBoundingClientRect().bottom > limit);
  if (first === -1) return 0;
  for (const item of items.slice(first)) item.hidden = true;
  return items.length - first;
}
