// The presenter's keys and buttons: arrows move to the previous/next question, H hides or shows the
// results on this screen, Q shows the QR code large, F toggles full screen, D the dark theme.

import { api } from '../api.js';

const THEME_KEY = 'ts:presenter-theme';

export function setupTheme(button) {
  const apply = (dark) => {
    document.body.classList.toggle('theme-dark', dark);
    button.setAttribute('aria-pressed', String(dark));
  };
  let dark = new URLSearchParams(location.search).get('theme') === 'dark';
  try {
    dark = dark || localStorage.getItem(THEME_KEY) === 'dark';
  } catch {
    // Storage may be off: the theme lasts for this page.
  }
  apply(dark);
  const toggle = () => {
    dark = !document.body.classList.contains('theme-dark');
    apply(dark);
    try {
      localStorage.setItem(THEME_KEY, dark ? 'dark' : 'light');
    } catch {
      // ignore
    }
  };
  button.addEventListener('click', toggle);
  return toggle;
}

export function setupFullscreen(button) {
  const label = () => {
    button.firstChild.textContent = document.fullscreenElement ? 'Exit full screen ' : 'Full screen ';
  };
  const toggle = async () => {
    if (!document.fullscreenEnabled) return;
    try {
      if (document.fullscreenElement) await document.exitFullscreen();
      else await document.documentElement.requestFullscreen();
    } catch {
      // The browser refused (for example inside a frame); nothing else to do.
    }
  };
  if (document.fullscreenEnabled) {
    button.addEventListener('click', toggle);
    document.addEventListener('fullscreenchange', label);
  } else {
    button.hidden = true;
  }
  return toggle;
}

export function setupBigQr(dialog, openButton, closeButton) {
  let before = null;
  const set = (open) => {
    if (open === !dialog.hidden) return;
    if (open) before = document.activeElement;
    dialog.hidden = !open;
    if (open) closeButton.focus();
    else if (before && typeof before.focus === 'function') before.focus();
  };
  openButton.addEventListener('click', () => set(true));
  closeButton.addEventListener('click', () => set(false));
  return { toggle: () => set(dialog.hidden), close: () => set(false), isOpen: () => !dialog.hidden };
}

// Previous/next question: the session's questions in their order; makes the neighbour current (it
// does not open it: opening takes answers, which the console does with Start).
export function createStepper(sid, say) {
  let order = [];
  async function refresh() {
    try {
      const detail = await api('GET', `/api/sessions/${encodeURIComponent(sid)}`);
      order = (detail.questions || []).map((q) => q.id);
    } catch {
      order = [];
    }
  }
  async function step(currentId, delta) {
    if (!order.includes(currentId)) await refresh();
    if (!order.length) {
      say('There are no questions to move to.');
      return;
    }
    const at = order.indexOf(currentId);
    const next = at === -1 ? (delta > 0 ? 0 : order.length - 1) : at + delta;
    if (next < 0 || next >= order.length) {
      say(delta > 0 ? 'This is the last question.' : 'This is the first question.');
      return;
    }
    try {
      await api('PUT', `/api/sessions/${encodeURIComponent(sid)}/current`, { question_id: order[next] });
    } catch (err) {
      say(err.message || 'The question could not be changed.');
    }
  }
  return { refresh, step };
}

export function bindKeys(actions) {
  document.addEventListener('keydown', (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    const action = {
      ArrowLeft: actions.previous,
      ArrowUp: actions.previous,
      PageUp: actions.previous,
      ArrowRight: actions.next,
      ArrowDown: actions.next,
      PageDown: actions.next,
      h: actions.hide,
      H: actions.hide,
      q: actions.qr,
      Q: actions.qr,
      f: actions.fullscreen,
      F: actions.fullscreen,
      d: actions.theme,
      D: actions.theme,
      Escape: actions.escape,
    }[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
}
