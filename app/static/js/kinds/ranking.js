// Ranking: order 2 to 10 options; every option must be placed (partial rankings are refused).

import { el, num, ordinal, plural } from '../ui.js';
import { checkLines, declinedLine, linesField, readLines, shownSummary } from './common.js';

export const name = 'ranking';
export const label = 'Ranking';

// The server's limit of each option (OptionLabel in app/polls/schemas.py).
const OPTION_MAX = 200;

// Sequential blues, darkest for 1st. `ink` keeps 4.5:1 on each.
const BLUES = ['#08306b', '#08519c', '#2171b5', '#4292c6', '#6baed6', '#9ecae1', '#c6dbef', '#deebf7', '#eef4fb', '#f7fbff'];
function shade(rank, total) {
  const index = total <= 1 ? 0 : Math.round(((rank - 1) / (total - 1)) * (Math.min(total, BLUES.length) - 1));
  const colour = BLUES[index];
  return [colour, index <= 3 ? '#fff' : '#000'];
}

// ---------------------------------------------------------------------------------------------
// Console

export const editor = {
  names: { options: 'Options to rank' },
  lines: ['options'],
  fields() {
    return [
      linesField(name, 'options', 'Options to rank, one per line', '2 to 10 options, each different, up to 200 characters. People must place every one.', { max: OPTION_MAX }),
    ];
  },
  read(form) {
    const lines = readLines(form, name, 'options');
    const problem = checkLines(lines, { min: 2, max: 10, noun: 'option', nouns: 'options', chars: OPTION_MAX });
    return { body: { options: lines.map((l) => l.text) }, problems: problem ? { options: problem } : {} };
  },
};

export function describe(q) {
  return `${label} of ${plural((q.options || []).length, 'option', 'options')}`;
}

export function items(q) {
  return (q.options || []).map((o) => o.label);
}

// ---------------------------------------------------------------------------------------------
// Phone: "Your ranking" (numbered, with up / down / remove buttons and a drag handle) above "Not
// ranked yet" (tap an option to add it at the end). Every move is announced.

export function createInput(q, ctx = {}) {
  const options = q.options || [];
  const byId = new Map(options.map((o) => [o.id, o]));
  let order = [];
  const rankedList = el('ol', { class: 'rank-list', 'aria-label': 'Your ranking' });
  const poolList = el('ul', { class: 'rank-pool', 'aria-label': 'Not ranked yet' });
  const rankedEmpty = el('p', { class: 'small muted', text: 'Nothing ranked yet. Tap the options below, most important first.' });
  const poolHeading = el('h3', { class: 'rank-heading', text: 'Not ranked yet' });
  const live = el('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  const announce = (text) => {
    live.textContent = text;
    if (ctx.announce) ctx.announce(text);
  };

  function focusLater(selector) {
    requestAnimationFrame(() => {
      const target = node.querySelector(selector);
      if (target) target.focus();
    });
  }

  function move(id, delta) {
    const i = order.indexOf(id);
    const j = i + delta;
    if (i < 0 || j < 0 || j >= order.length) return;
    [order[i], order[j]] = [order[j], order[i]];
    render();
    announce(`${byId.get(id).label}: now ${ordinal(j + 1)}.`);
    focusLater(`[data-id="${CSS.escape(id)}"] button[data-move="${delta < 0 ? 'up' : 'down'}"]:not(:disabled), [data-id="${CSS.escape(id)}"] .rank-handle`);
  }

  function add(id) {
    if (order.includes(id)) return;
    order.push(id);
    render();
    announce(`${byId.get(id).label}: ranked ${ordinal(order.length)}.`);
    const next = options.find((o) => !order.includes(o.id));
    focusLater(next ? `.rank-pool [data-id="${CSS.escape(next.id)}"] button` : `.rank-list [data-id="${CSS.escape(id)}"] .rank-handle`);
  }

  function remove(id) {
    order = order.filter((x) => x !== id);
    render();
    announce(`${byId.get(id).label}: taken out of your ranking.`);
    focusLater(`.rank-pool [data-id="${CSS.escape(id)}"] button`);
  }

  function rankedItem(id, index) {
    const option = byId.get(id);
    const up = el('button', { type: 'button', class: 'icon-button', 'data-move': 'up', 'aria-label': `Move ${option.label} up`, text: '↑' });
    const down = el('button', { type: 'button', class: 'icon-button', 'data-move': 'down', 'aria-label': `Move ${option.label} down`, text: '↓' });
    const out = el('button', { type: 'button', class: 'icon-button', 'aria-label': `Take ${option.label} out of the ranking`, text: '✕' });
    const handle = el('span', {
      class: 'rank-handle', tabindex: '0', role: 'button',
      'aria-label': `${option.label}, ${ordinal(index + 1)}. Drag, or use the arrow keys, to move it.`,
      'aria-roledescription': 'draggable item',
    }, '⠿');
    up.disabled = index === 0;
    down.disabled = index === order.length - 1;
    up.addEventListener('click', () => move(id, -1));
    down.addEventListener('click', () => move(id, 1));
    out.addEventListener('click', () => remove(id));
    handle.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowUp') { event.preventDefault(); move(id, -1); focusLater(`[data-id="${CSS.escape(id)}"] .rank-handle`); }
      if (event.key === 'ArrowDown') { event.preventDefault(); move(id, 1); focusLater(`[data-id="${CSS.escape(id)}"] .rank-handle`); }
    });
    handle.addEventListener('pointerdown', (event) => startDrag(event, id));
    return el(
      'li',
      { class: 'rank-item', dataset: { id } },
      handle,
      el('span', { class: 'rank-number', 'aria-hidden': 'true', text: String(index + 1) }),
      el('span', { class: 'rank-label', text: option.label }),
      el('span', { class: 'rank-buttons' }, up, down, out),
    );
  }

  // Dragging by the handle, with pointer events (they work for touch, pen and mouse alike, where
  // HTML drag and drop does not work on phones). The item follows the finger; the order changes
  // when it passes the middle of a neighbour.
  function startDrag(event, id) {
    if (event.button !== undefined && event.button !== 0) return;
    event.preventDefault();
    const item = rankedList.querySelector(`[data-id="${CSS.escape(id)}"]`);
    if (!item) return;
    item.classList.add('dragging');
    // Listen on the document, not with pointer capture on the handle: moving the item in the list
    // detaches the handle for a moment, which releases a capture.
    const onMove = (e) => {
      const siblings = Array.from(rankedList.children).filter((c) => c !== item);
      let target = siblings.length;
      for (let i = 0; i < siblings.length; i += 1) {
        const rect = siblings[i].getBoundingClientRect();
        if (e.clientY < rect.top + rect.height / 2) { target = i; break; }
      }
      const before = siblings[target] || null;
      if (item.nextElementSibling !== before) rankedList.insertBefore(item, before);
    };
    const onUp = () => {
      document.removeEventListener('pointermove', onMove);
      document.removeEventListener('pointerup', onUp);
      document.removeEventListener('pointercancel', onUp);
      item.classList.remove('dragging');
      const before = order.indexOf(id);
      order = Array.from(rankedList.children, (c) => c.dataset.id);
      render();
      const after = order.indexOf(id);
      if (after !== before) announce(`${byId.get(id).label}: now ${ordinal(after + 1)}.`);
      focusLater(`.rank-list [data-id="${CSS.escape(id)}"] .rank-handle`);
    };
    document.addEventListener('pointermove', onMove);
    document.addEventListener('pointerup', onUp);
    document.addEventListener('pointercancel', onUp);
  }

  function render() {
    rankedList.replaceChildren(...order.map(rankedItem));
    rankedEmpty.hidden = order.length > 0;
    const rest = options.filter((o) => !order.includes(o.id));
    poolList.replaceChildren(...rest.map((o) => el(
      'li',
      { dataset: { id: o.id } },
      el('button', { type: 'button', class: 'rank-add', 'aria-label': `Add ${o.label}, as ${ordinal(order.length + 1)}` },
        el('span', { 'aria-hidden': 'true', class: 'rank-plus', text: '+' }), el('span', { text: o.label })),
    )));
    poolList.querySelectorAll('button').forEach((b, i) => b.addEventListener('click', () => add(rest[i].id)));
    poolHeading.hidden = rest.length === 0;
  }

  const node = el(
    'div',
    { class: 'ranking-input' },
    el('p', { class: 'small muted', text: 'Tap the options in order, most important first. Move them with the arrows, or drag the ⠿ handle.' }),
    el('h3', { class: 'rank-heading', text: 'Your ranking' }),
    rankedEmpty,
    rankedList,
    poolHeading,
    poolList,
    live,
  );
  render();

  return {
    node,
    set(value) {
      const wanted = value && Array.isArray(value.order) ? value.order.filter((id) => byId.has(id)) : [];
      order = wanted;
      render();
    },
    clear() {
      order = [];
      render();
    },
    read() {
      if (order.length < options.length) {
        const left = options.length - order.length;
        return { problem: `Place every option first: ${plural(left, 'option is', 'options are')} not ranked yet. Or press “Prefer not to answer”.` };
      }
      return { value: { order: order.slice() } };
    },
    describe(value) {
      const ids = value && Array.isArray(value.order) ? value.order : [];
      return ids.length
        ? `Your ranking: ${ids.map((id, i) => `${i + 1}. ${byId.get(id)?.label || 'an option that no longer exists'}`).join('; ')}.`
        : 'You sent no ranking.';
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Results: options by mean rank (best first), the mean written large, and the distribution of
// ranks as a stacked bar (1st darkest), with a legend.

export function createView(q, ctx = {}) {
  const list = el('ol', { class: `rank-rows rank-${ctx.mode || 'phone'}` });
  const legendBox = el('ul', { class: 'legend', 'aria-hidden': 'true' });
  const declined = el('p', { class: 'small muted view-declined' });
  const node = el('div', { class: 'view-ranking' }, legendBox, list, declined);
  let lines = [];

  function update(question, results) {
    q = question;
    const options = q.options || [];
    const total = options.length;
    const summary = shownSummary(q, results);
    const stats = (summary && summary.options) || {};
    legendBox.replaceChildren(...(summary ? options.map((_, i) => {
      const [colour] = shade(i + 1, total);
      const swatch = el('span', { class: 'swatch' });
      swatch.style.background = colour;
      return el('li', {}, swatch, el('span', { text: ordinal(i + 1) }));
    }) : []));
    const ordered = summary
      ? options.slice().sort((a, b) => (Number(stats[a.id]?.mean_rank) || Infinity) - (Number(stats[b.id]?.mean_rank) || Infinity))
      : options;
    lines = [];
    list.replaceChildren(...ordered.map((option) => {
      const s = stats[option.id];
      const row = el('li', { class: 'rank-row' });
      if (!summary || !s) {
        row.append(el('span', { class: 'rank-mean' }), el('span', { class: 'rank-label', text: option.label }));
        return row;
      }
      const ranks = s.ranks || {};
      const n = Object.values(ranks).reduce((a, b) => a + (Number(b) || 0), 0);
      const bar = el('span', { class: 'rank-dist', 'aria-hidden': 'true' });
      const parts = [];
      for (let r = 1; r <= total; r += 1) {
        const c = Number(ranks[String(r)]) || 0;
        parts.push(`${ordinal(r)} ${c}`);
        if (!c) continue;
        const [colour, ink] = shade(r, total);
        const seg = el('span', { class: 'seg', text: n && c / n >= 0.07 ? String(c) : '' });
        seg.style.width = `${(c / n) * 100}%`;
        seg.style.background = colour;
        seg.style.color = ink;
        bar.append(seg);
      }
      lines.push(`${option.label}: mean rank ${num(s.mean_rank)}; ${parts.join(', ')}.`);
      row.dataset.meanRank = String(s.mean_rank);
      row.append(
        el('span', { class: 'rank-mean', title: 'Mean rank (1 is first)', text: num(s.mean_rank, 1) }),
        el('span', { class: 'rank-label', text: option.label }),
        bar,
      );
      return row;
    }));
    declined.textContent = summary ? `Mean rank: 1 is first. ${declinedLine(summary)}`.trim() : '';
  }

  return { node, update, text: () => lines, count: (r) => plural(Number(r.n) || 0, 'ranking', 'rankings') };
}
