import { connect } from './socket.js';
import { el, pageData, plural, setText, show } from './ui.js';

const data = pageData();
const session = data.session || {};
const sid = String(session.id || '');
const minGroup = Number(session.min_group) || 5;

const $ = (id) => document.getElementById(id);
const ui = {
  conn: $('conn'),
  badge: $('state-badge'),
  prompt: $('prompt'),
  chartBox: $('chart-box'),
  canvas: $('chart'),
  hiddenNote: $('results-hidden'),
  resultsText: $('results-text'),
  answersN: $('answers-n'),
  presence: $('presence'),
  fullscreen: $('fullscreen'),
};

const HIDDEN_MESSAGE = `Results appear once at least ${minGroup} people have answered — this protects anonymity.`;
const BAR_COLOUR = '#1d4f91';
const TEXT_COLOUR = '#111111';

let current = null;
let results = null;
let chart = null;
let chartKey = '';

// ---------------------------------------------------------------------------------------------
// Chart

function fontSize() {
  // Readable from the back of the room: about 1/55 of the width, between 16 and 40 px.
  return Math.round(Math.min(40, Math.max(16, window.innerWidth / 55)));
}

function wrapLabel(text, width = 28) {
  const words = String(text).split(/\s+/);
  const lines = [];
  let line = '';
  for (const word of words) {
    if (line && (line + ' ' + word).length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.length > 1 ? lines : lines[0] || '';
}

// Writes "count (pct%)" at the end of each bar, so the numbers are readable without a tooltip.
const valueLabels = {
  id: 'thirdspaceValueLabels',
  afterDatasetsDraw(c) {
    if (!results || results.hidden || !results.summary) return;
    const n = Number(results.n) || 0;
    const meta = c.getDatasetMeta(0);
    const values = c.data.datasets[0].data;
    const { ctx } = c;
    ctx.save();
    ctx.fillStyle = TEXT_COLOUR;
    ctx.font = `600 ${fontSize()}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    meta.data.forEach((bar, index) => {
      const count = Number(values[index]) || 0;
      const pct = n > 0 ? Math.round((count / n) * 100) : 0;
      ctx.fillText(`${count} (${pct}%)`, bar.x + 10, bar.y);
    });
    ctx.restore();
  },
};

function makeChart() {
  if (typeof window.Chart !== 'function') {
    return null;
  }
  const reduceMotion = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  const size = fontSize();
  return new window.Chart(ui.canvas, {
    type: 'bar',
    data: {
      labels: [],
      datasets: [{
        label: 'Answers',
        data: [],
        backgroundColor: BAR_COLOUR,
        borderRadius: 4,
        maxBarThickness: 90,
      }],
    },
    options: {
      indexAxis: 'y',
      responsive: true,
      maintainAspectRatio: false,
      animation: reduceMotion ? false : { duration: 200 },
      transitions: { resize: { animation: { duration: 0 } } },
      events: [],
      layout: { padding: { right: size * 6 } },
      plugins: {
        legend: { display: false },
        tooltip: { enabled: false },
      },
      scales: {
        x: {
          beginAtZero: true,
          suggestedMax: 1,
          ticks: { precision: 0, color: TEXT_COLOUR, font: { size: Math.round(size * 0.7) } },
          grid: { color: '#d0d0d0' },
        },
        y: {
          ticks: { color: TEXT_COLOUR, font: { size, weight: '600' }, autoSkip: false },
          grid: { display: false },
        },
      },
    },
    plugins: [valueLabels],
  });
}

function resizeFonts() {
  if (!chart) return;
  const size = fontSize();
  chart.options.scales.y.ticks.font.size = size;
  chart.options.scales.x.ticks.font.size = Math.round(size * 0.7);
  chart.options.layout.padding.right = size * 6;
  chart.update('none');
}

// ---------------------------------------------------------------------------------------------
// Rendering

function renderState() {
  if (!current) {
    setText(ui.prompt, 'Waiting for the first question');
    show(ui.badge, false);
    show(ui.chartBox, false);
    setText(ui.answersN, '');
    ui.resultsText.replaceChildren();
    return;
  }
  setText(ui.prompt, current.prompt || '');
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
  show(ui.chartBox, true);
  renderResults();
}

function renderResults() {
  if (!current) return;
  if (current.kind !== 'choice') {
    if (chart) {
      chart.data.labels = [];
      chart.data.datasets[0].data = [];
      chart.update('none');
    }
    setText(ui.hiddenNote, 'This screen shows charts for multiple-choice questions only.');
    show(ui.hiddenNote, true);
    setText(ui.answersN, results ? plural(Number(results.n) || 0, 'answer', 'answers') : '');
    return;
  }

  const options = current.options || [];
  const mine = results && results.question_id === current.id ? results : null;
  const visible = !!(mine && !mine.hidden && mine.summary);
  const counts = visible ? mine.summary.counts || {} : {};
  const values = options.map((o) => (visible ? Number(counts[o.id]) || 0 : 0));

  if (chart) {
    const key = JSON.stringify([current.id, options.map((o) => [o.id, o.label])]);
    if (key !== chartKey) {
      chart.data.labels = options.map((o) => wrapLabel(o.label));
      chartKey = key;
    }
    chart.data.datasets[0].data = values;
    chart.update();
  }

  if (mine && !visible) {
    setText(ui.hiddenNote, HIDDEN_MESSAGE);
    show(ui.hiddenNote, true);
  } else if (!chart) {
    setText(ui.hiddenNote, 'The chart could not be loaded. The counts are listed below.');
    show(ui.hiddenNote, true);
  } else {
    show(ui.hiddenNote, false);
  }

  setText(ui.answersN, mine ? plural(Number(mine.n) || 0, 'answer', 'answers') : '');

  // A text version of the chart for screen readers (and for a missing chart library).
  const n = mine ? Number(mine.n) || 0 : 0;
  ui.resultsText.replaceChildren(
    ...(visible
      ? options.map((o, i) => el('li', {
        text: `${o.label}: ${values[i]} (${n > 0 ? Math.round((values[i] / n) * 100) : 0}%)`,
      }))
      : []),
  );
  ui.resultsText.className = chart ? 'visually-hidden' : 'fallback-list';
}

// ---------------------------------------------------------------------------------------------
// Socket

const handlers = {
  'session.state'(state) {
    const next = state.current || null;
    if (!next || !current || next.id !== current.id) {
      results = null;
      chartKey = '';
      if (chart) {
        chart.data.labels = [];
        chart.data.datasets[0].data = [];
        chart.update('none');
      }
    }
    current = next;
    renderState();
  },
  'poll.results'(result) {
    if (!current || result.question_id !== current.id) return;
    results = result;
    renderResults();
  },
  presence(p) {
    const count = Number(p.participants) || 0;
    setText(ui.presence, `${plural(count, 'phone', 'phones')} connected`);
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
// Full screen

function updateFullscreenButton() {
  setText(ui.fullscreen, document.fullscreenElement ? 'Exit full screen' : 'Full screen');
}

if (document.fullscreenEnabled) {
  ui.fullscreen.addEventListener('click', async () => {
    try {
      if (document.fullscreenElement) {
        await document.exitFullscreen();
      } else {
        await document.documentElement.requestFullscreen();
      }
    } catch {
      // The browser refused (for example inside a frame); nothing else to do.
    }
  });
  document.addEventListener('fullscreenchange', updateFullscreenButton);
} else {
  show(ui.fullscreen, false);
}

// ---------------------------------------------------------------------------------------------

// The QR code arrives as inline SVG with fixed width/height and perhaps no viewBox; give it a
// viewBox so CSS can scale it to the panel (a QR code must stay square and sharp).
function makeQrScalable() {
  const svg = document.querySelector('.qr svg');
  if (!svg) return;
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
chart = makeChart();
let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(resizeFonts, 150);
});
renderState();
connect(`/ws/presenter/${encodeURIComponent(sid)}`, handlers, { onStatus });
