import { api } from './api.js';

const form = document.getElementById('join-form');
const input = document.getElementById('code');
const status = document.getElementById('join-status');
const button = form.querySelector('button[type="submit"]');

let busy = false;
let retryTimer = null;

function say(message) {
  status.textContent = message;
  status.hidden = !message;
}

function normalise(value) {
  // People type "1234 5678" or "1234-5678"; only the digits matter.
  return value.replace(/[\s-]/g, '');
}

function waitBeforeRetry(seconds) {
  if (!seconds) return;
  // A few seconds at most, whatever Retry-After says: behind a venue's shared address the server
  // refuses codes it has not seen joined from there, but the room's own code still works, so the
  // person must be able to correct a typo at once.
  button.disabled = true;
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => {
    button.disabled = false;
  }, Math.min(seconds, 3) * 1000);
}

async function join() {
  if (busy) return;
  const code = normalise(input.value);
  if (!/^\d{8}$/.test(code)) {
    input.setAttribute('aria-invalid', 'true');
    say('The code is 8 digits. Check the screen and type it again.');
    input.focus();
    return;
  }
  input.removeAttribute('aria-invalid');
  busy = true;
  button.disabled = true;
  say('');
  button.textContent = 'Joining…';
  try {
    const reply = await api('POST', '/api/join', { code });
    const session = reply && reply.session;
    if (!session || !session.id) {
      throw new Error('The server gave an unexpected reply. Try again in a moment.');
    }
    if (reply.withdrawal_code) {
      // Shown on the next page so the participant can note it down (ETHICS.md, promise 5).
      try {
        sessionStorage.setItem(`ts:withdrawal:${session.id}`, String(reply.withdrawal_code));
      } catch {
        // Storage may be disabled; the phone page will just not show it.
      }
    }
    location.assign(`/s/${encodeURIComponent(session.id)}`);
  } catch (err) {
    busy = false;
    button.disabled = false;
    button.textContent = 'Join';
    if (err.status === 404) {
      say(err.message || 'No open session has that code. Check the code on the screen and try again.');
      input.setAttribute('aria-invalid', 'true');
    } else {
      say(err.message || 'Could not join. Try again in a moment.');
    }
    if (err.status === 429) {
      waitBeforeRetry(err.retryAfter);
    }
    input.focus();
  }
}

// Back from the phone page may restore this page as it was left (the back/forward cache), with the
// button still saying "Joining…": make it usable again. Joining again with the same code continues as
// the same participant (the server knows this browser by its cookie for that session).
window.addEventListener('pageshow', (event) => {
  if (event.persisted) {
    busy = false;
    button.disabled = false;
    button.textContent = 'Join';
    say('');
  }
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  join();
});

input.addEventListener('input', () => {
  input.removeAttribute('aria-invalid');
});

// A QR code leads to /j/<code>: join straight away, but only once per tab, so that coming
// back to this page (the Back button) does not silently join again as a new participant.
if (form.dataset.autostart === 'true') {
  const code = normalise(input.value);
  const key = `ts:autojoined:${code}`;
  let already = false;
  try {
    already = sessionStorage.getItem(key) === '1';
    sessionStorage.setItem(key, '1');
  } catch {
    already = false;
  }
  if (!already && /^\d{8}$/.test(code)) {
    join();
  }
}
