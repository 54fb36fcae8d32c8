// Multiple choice: one option, or several when `multiple` is true.

import { el, plural, pct } from '../ui.js';
import { checkboxField, checkLines, control, declinedLine, linesField, readLines, shownSummary } from './common.js';

export const name = 'choice';
export const label = 'Multiple choice';

// The server's limit of each option (OptionLabel in app/polls/schemas.py).
const OPTION_MAX = 200;

// ---------------------------------------------------------------------------------------------
// Console

export const editor = {
  names: { options: 'Options', multiple: 'Allow several choices' },
  lines: ['options'],
  fields() {
    return [
      linesField(name, 'options', 'Options, one per line', '2 to 30 options, each different, up to 200 characters.', { max: OPTION_MAX }),
      checkboxField(name, 'multiple', 'Allow several choices'),
    ];
  },
  read(form) {
    const lines = readLines(form, name, 'options');
    const problem = checkLines(lines, { min: 2, max: 30, noun: 'option', nouns: 'options', chars: OPTION_MAX });
    return {
      body: { options: lines.map((l) => l.text), multiple: control(form, name, 'multiple').checked },
      problems: problem ? { options: problem } : {},
    };
  },
};

export function describe(q) {
  return `${label}, ${q.multiple ? 'several answers allowed' : 'one answer'}`;
}

export function items(q) {
  return (q.options || []).map((o) => o.label);
}

// ---------------------------------------------------------------------------------------------
// Phone

export function createInput(q) {
  const type = q.multiple ? 'checkbox' : 'radio';
  const box = el('div', { class: 'options' });
  (q.options || []).forEach((option, index) => {
    const inputId = `opt-${index}`;
    const input = el('input', { type, id: inputId, name: 'choice', value: option.id });
    box.append(el('label', { for: inputId, class: 'option' }, input, el('span', { text: option.label })));
  });
  const node = el(
    'fieldset',
    {},
    el('legend', { class: 'visually-hidden', text: q.prompt || 'Choose an answer' }),
    el('p', { class: 'small muted', text: q.multiple ? 'Choose one or more answers.' : 'Choose one answer.' }),
    box,
  );
  const inputs = () => Array.from(box.querySelectorAll('input'));
  return {
    node,
    set(value) {
      const chosen = new Set(value && Array.isArray(value.choices) ? value.choices : []);
      for (const input of inputs()) input.checked = chosen.has(input.value);
    },
    clear() {
      for (const input of inputs()) input.checked = false;
    },
    read() {
      const choices = inputs().filter((i) => i.checked).map((i) => i.value);
      if (!choices.length) {
        return {
          problem: q.multiple
            ? 'Choose at least one answer first, or press “Prefer not to answer”.'
            : 'Choose an answer first, or press “Prefer not to answer”.',
        };
      }
      return { value: { choices } };
    },
    describe(value) {
      const chosen = value && Array.isArray(value.choices) ? value.choices : [];
      const labels = chosen.map((id) => (q.options || []).find((o) => o.id === id)?.label || 'an option that no longer exists');
      return labels.length ? `You chose: ${labels.join(', ')}.` : 'You did not choose an option.';
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Results: label above a full-width bar, "count (pct%)" beside it, in HTML so it can be read,
// measured and translated. Before k the options are listed without bars.

export function createView(q, ctx = {}) {
  const list = el('ul', { class: `bars bars-${ctx.mode || 'phone'}` });
  const declined = el('p', { class: 'small muted view-declined' });
  const node = el('div', { class: 'view-choice' }, list, declined);
  let lines = [];

  function update(question, results) {
    q = question;
    const summary = shownSummary(q, results);
    const n = Number(results && results.n) || 0;
    const counts = (summary && summary.counts) || {};
    lines = [];
    list.replaceChildren(...(q.options || []).map((option) => {
      const count = Number(counts[option.id]) || 0;
      const share = pct(count, n);
      const fill = el('span', { class: 'bar-fill' });
      fill.style.width = summary ? `${Math.min(100, share)}%` : '0';
      if (summary) lines.push(`${option.label}: ${count} (${share}%)`);
      return el(
        'li',
        { class: `bar${summary ? '' : ' bar-empty'}`, dataset: { option: option.id } },
        el('span', { class: 'bar-label', text: option.label }),
        el('span', { class: 'bar-track', 'aria-hidden': 'true' }, fill),
        el('span', { class: 'bar-value', text: summary ? `${count} (${share}%)` : '' }),
      );
    }));
    declined.textContent = summary ? declinedLine(summary) : '';
  }

  return { node, update, text: () => lines, count: (r) => plural(Number(r.n) || 0, 'answer', 'answers') };
}
