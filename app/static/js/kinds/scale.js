// Rating scale (Likert): several statements, each rated 1..5 or 1..7, with anchor labels.

import { el, num, plural } from '../ui.js';
import {
  checkLines, control, declinedLine, linesField, longLine, radioField, readLines, shownSummary, textField, tooLong,
} from './common.js';

export const name = 'scale';
export const label = 'Rating scale';

// The server's limits (StatementText and AnchorLabel in app/polls/schemas.py).
const STATEMENT_MAX = 300;
const LABEL_MAX = 60;

// Diverging colours (ColorBrewer RdBu, colour-blind safe): disagreeing ends red, agreeing ends blue,
// the middle point grey. `ink` is the text colour that keeps 4.5:1 on each.
const PALETTE = {
  5: [['#b2182b', '#fff'], ['#ef8a62', '#000'], ['#d9d9d9', '#000'], ['#67a9cf', '#000'], ['#2166ac', '#fff']],
  7: [
    ['#b2182b', '#fff'], ['#d6604d', '#000'], ['#f4a582', '#000'], ['#d9d9d9', '#000'],
    ['#92c5de', '#000'], ['#4393c3', '#000'], ['#2166ac', '#fff'],
  ],
};

function pointsOf(q) {
  return Number(q.points) === 7 ? 7 : 5;
}

// The label of one point, or '' (labels hold the two ends, or every point).
export function pointLabel(q, point) {
  const labels = Array.isArray(q.labels) ? q.labels : [];
  const points = pointsOf(q);
  if (labels.length === points) return labels[point - 1] || '';
  if (labels.length === 2) {
    if (point === 1) return labels[0];
    if (point === points) return labels[1];
  }
  return '';
}

// ---------------------------------------------------------------------------------------------
// Console

export const editor = {
  names: {
    statements: 'Statements', points: 'Points', labels: 'Point labels', low: 'Label of point 1', high: 'Label of the top point',
  },
  lines: ['statements', 'labels'],
  fields() {
    const every = linesField(
      name, 'labels', 'Label every point (optional), one per line',
      'Leave empty to label only the two ends. Otherwise write one label per point, lowest first, up to 60 characters each.',
      { rows: 5, max: LABEL_MAX },
    );
    return [
      linesField(
        name, 'statements', 'Statements, one per line',
        'Each statement is rated on its own, up to 300 characters. People may rate some and leave others out.',
        { placeholder: 'I feel heard in my team', max: STATEMENT_MAX },
      ),
      radioField(name, 'points', 'Points', [[5, '5 points'], [7, '7 points']], 5),
      el(
        'div',
        { class: 'field-pair' },
        textField(name, 'low', 'Label of point 1', null, { value: 'Strongly disagree', max: LABEL_MAX }),
        textField(name, 'high', 'Label of the top point', null, { value: 'Strongly agree', max: LABEL_MAX }),
      ),
      el('details', { class: 'more-fields' }, el('summary', { text: 'Label every point' }), every),
    ];
  },
  read(form) {
    const problems = {};
    const statements = readLines(form, name, 'statements');
    const problem = checkLines(statements, {
      min: 1, max: 20, noun: 'statement', nouns: 'statements', chars: STATEMENT_MAX,
    });
    if (problem) problems.statements = problem;
    const points = Number(control(form, name, 'points').value) || 5;
    const every = readLines(form, name, 'labels');
    let labels;
    if (every.length) {
      labels = every.map((l) => l.text);
      const long = longLine(every, LABEL_MAX);
      if (long) {
        problems.labels = long;
      } else if (every.length !== points) {
        problems.labels = `There are ${every.length} labels for ${points} points: give one per point, or leave this empty and label only the ends.`;
      }
    } else {
      const low = control(form, name, 'low').value.trim();
      const high = control(form, name, 'high').value.trim();
      if (low || high) {
        labels = [low, high];
        const lowLong = tooLong(name, 'low', 'The label of point 1');
        const highLong = tooLong(name, 'high', 'The label of the top point');
        if (!low) problems.low = 'Label point 1 too, or leave both ends empty.';
        else if (lowLong) problems.low = lowLong;
        if (!high) problems.high = 'Label the top point too, or leave both ends empty.';
        else if (highLong) problems.high = highLong;
      }
    }
    const body = { statements: statements.map((l) => l.text), points };
    if (labels) body.labels = labels;
    return { body, problems };
  },
  // labels.0 / labels.1 belong to the two end fields when the "every point" list is empty.
  slotFor(form, field, index) {
    if (field === 'labels' && !readLines(form, name, 'labels').length) {
      if (index === 0) return { key: `${name}.low`, line: null };
      if (index === 1) return { key: `${name}.high`, line: null };
    }
    return null;
  },
};

export function describe(q) {
  const ends = [pointLabel(q, 1), pointLabel(q, pointsOf(q))].filter(Boolean);
  return `${label}, ${pointsOf(q)} points${ends.length === 2 ? ` (${ends[0]} … ${ends[1]})` : ''}`;
}

export function items(q) {
  return (q.statements || []).map((s) => s.text);
}

// ---------------------------------------------------------------------------------------------
// Phone: each statement a row of large point buttons (radios), its end labels under it,
// "Prefer not to answer" and "Clear" beside. A statement left alone is "not answered".

export function createInput(q) {
  const points = pointsOf(q);
  const rows = (q.statements || []).map((statement, index) => {
    const group = `st-${index}`;
    const radios = [];
    for (let p = 1; p <= points; p += 1) {
      const id = `${group}-${p}`;
      const text = pointLabel(q, p);
      // The number is what shows; a screen reader also hears the point's label ("5, Strongly agree").
      const input = el('input', {
        type: 'radio', id, name: group, value: String(p), 'aria-label': text ? `${p}, ${text}` : String(p),
      });
      radios.push(el(
        'label',
        { for: id, class: 'point' },
        input,
        el('span', { class: 'point-number', 'aria-hidden': 'true', text: String(p) }),
      ));
    }
    const declineId = `${group}-decline`;
    const decline = el(
      'label',
      { for: declineId, class: 'point-decline' },
      el('input', { type: 'radio', id: declineId, name: group, value: 'decline' }),
      el('span', { text: 'Prefer not to answer' }),
    );
    const chosen = el('p', { class: 'point-chosen small', 'aria-hidden': 'true' });
    const clear = el('button', { type: 'button', class: 'link-button', text: 'Clear', hidden: true });
    const low = pointLabel(q, 1);
    const high = pointLabel(q, points);
    const fieldset = el(
      'fieldset',
      { class: 'scale-item', dataset: { statement: statement.id } },
      el('legend', { class: 'scale-statement', text: statement.text }),
      el('div', { class: `points points-${points}` }, radios),
      low || high
        ? el('p', { class: 'anchors small', 'aria-hidden': 'true' }, el('span', { text: low ? `1 = ${low}` : '' }), el('span', { text: high ? `${points} = ${high}` : '' }))
        : null,
      chosen,
      el('div', { class: 'scale-extra' }, decline, clear),
    );
    const refresh = () => {
      const picked = fieldset.querySelector('input:checked');
      clear.hidden = !picked;
      const p = picked && picked.value !== 'decline' ? Number(picked.value) : null;
      chosen.textContent = p && pointLabel(q, p) && p !== 1 && p !== points ? `${p} = ${pointLabel(q, p)}` : '';
    };
    fieldset.addEventListener('change', refresh);
    clear.addEventListener('click', () => {
      for (const input of fieldset.querySelectorAll('input')) input.checked = false;
      refresh();
      const first = fieldset.querySelector('input');
      if (first) first.focus();
    });
    return { statement, fieldset, refresh };
  });

  const node = el(
    'div',
    { class: 'scale-input' },
    el('p', { class: 'small muted', text: `Rate each statement from 1 to ${points}. You can leave out any statement.` }),
    rows.map((r) => r.fieldset),
  );

  return {
    node,
    set(value) {
      const ratings = (value && value.ratings) || {};
      for (const row of rows) {
        const given = Object.prototype.hasOwnProperty.call(ratings, row.statement.id) ? ratings[row.statement.id] : undefined;
        for (const input of row.fieldset.querySelectorAll('input')) {
          input.checked = given === null ? input.value === 'decline' : given !== undefined && input.value === String(given);
        }
        row.refresh();
      }
    },
    clear() {
      this.set(null);
    },
    read() {
      const ratings = {};
      for (const row of rows) {
        const picked = row.fieldset.querySelector('input:checked');
        if (picked) ratings[row.statement.id] = picked.value === 'decline' ? null : Number(picked.value);
      }
      if (!Object.keys(ratings).length) {
        return { problem: 'Rate at least one statement first, or press “Prefer not to answer”.' };
      }
      return { value: { ratings } };
    },
    describe(value) {
      const ratings = (value && value.ratings) || {};
      const parts = (q.statements || []).map((s) => {
        if (!Object.prototype.hasOwnProperty.call(ratings, s.id)) return `${s.text}: not answered`;
        const r = ratings[s.id];
        if (r === null) return `${s.text}: preferred not to answer`;
        const text = pointLabel(q, r);
        return `${s.text}: ${r}${text ? ` (${text})` : ''}`;
      });
      return `Your ratings: ${parts.join('; ')}.`;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Results: one diverging stacked bar per statement. Points below the middle go left of the centre
// line, points above it go right, the middle point straddles it. n, mean and median are written
// beside each bar; agree_pct is written as what it is (the share in the top two points).

function legend(q) {
  const points = pointsOf(q);
  const chips = [];
  for (let p = 1; p <= points; p += 1) {
    const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.background = PALETTE[points][p - 1][0];
    const text = pointLabel(q, p);
    chips.push(el('li', {}, swatch, el('span', { text: text ? `${p} ${text}` : String(p) })));
  }
  return el('ul', { class: 'legend', 'aria-hidden': 'true' }, chips);
}

function divergingBar(q, stats) {
  const points = pointsOf(q);
  const n = Number(stats.n) || 0;
  const counts = stats.counts || {};
  const middle = (points + 1) / 2;
  let before = 0; // share of n left of the centre line
  for (let p = 1; p <= points; p += 1) {
    const c = Number(counts[String(p)]) || 0;
    if (p < middle) before += c;
    if (p === middle) before += c / 2;
  }
  const track = el('div', { class: 'diverging', 'aria-hidden': 'true' });
  let left = 50 - (n ? (before / n) * 50 : 0);
  for (let p = 1; p <= points; p += 1) {
    const c = Number(counts[String(p)]) || 0;
    if (!c) continue;
    const width = (c / n) * 50;
    const seg = el('span', { class: 'seg', text: width >= 3.5 ? String(c) : '' });
    const [colour, ink] = PALETTE[points][p - 1];
    seg.style.left = `${left}%`;
    seg.style.width = `${width}%`;
    seg.style.background = colour;
    seg.style.color = ink;
    track.append(seg);
    left += width;
  }
  track.append(el('span', { class: 'centre-line' }));
  return track;
}

export function statsLine(q, stats) {
  const points = pointsOf(q);
  return `n ${stats.n} · mean ${num(stats.mean)} · median ${num(stats.median)} · ${num(stats.agree_pct, 0)}% chose ${points - 1} or ${points}`;
}

export function createView(q, ctx = {}) {
  const list = el('ul', { class: `scale-rows scale-${ctx.mode || 'phone'}` });
  const declined = el('p', { class: 'small muted view-declined' });
  const node = el('div', { class: 'view-scale' }, legend(q), list, declined);
  let lines = [];
  // Phones are not told k; they say "enough people".
  const enough = ctx.minGroup ? `${ctx.minGroup} people` : 'enough people';

  function update(question, results) {
    q = question;
    const summary = shownSummary(q, results);
    const all = (summary && summary.statements) || {};
    lines = [];
    list.replaceChildren(...(q.statements || []).map((statement) => {
      const stats = summary ? all[statement.id] : null;
      const row = el('li', { class: 'scale-row' }, el('p', { class: 'scale-text', text: statement.text }));
      if (!summary) {
        row.append(el('p', { class: 'scale-wait muted', text: '' }));
        return row;
      }
      if (!stats) {
        const msg = `Shown once ${enough} rate it.`;
        lines.push(`${statement.text}: ${msg}`);
        row.append(el('p', { class: 'scale-wait muted', text: msg }));
        return row;
      }
      const points = pointsOf(q);
      const counts = stats.counts || {};
      const dist = [];
      for (let p = 1; p <= points; p += 1) dist.push(`${p}: ${Number(counts[String(p)]) || 0}`);
      lines.push(`${statement.text}: ${statsLine(q, stats)}; ratings ${dist.join(', ')}${stats.declined ? `; ${stats.declined} preferred not to answer` : ''}.`);
      const extra = Number(stats.declined) ? ` · ${stats.declined} declined` : '';
      // The numbers go on the statement's line, so every bar has the same width and one centre.
      row.firstChild.replaceWith(el(
        'div',
        { class: 'scale-head' },
        el('p', { class: 'scale-text', text: statement.text }),
        el('p', { class: 'scale-stats', text: statsLine(q, stats) + extra }),
      ));
      row.append(divergingBar(q, stats));
      row.dataset.n = String(stats.n);
      return row;
    }));
    declined.textContent = summary ? declinedLine(summary) : '';
  }

  return { node, update, text: () => lines, count: (r) => plural(Number(r.n) || 0, 'answer', 'answers') };
}


