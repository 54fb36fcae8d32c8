// A new session from a template file: the file's text goes to POST /api/sessions/import as it is, so
// the server can name the line that is wrong.

import { csrfToken } from '../api.js';

const form = document.getElementById('import-template');
const file = document.getElementById('template-file');
const error = document.getElementById('template-error');

function fail(message) {
  error.textContent = message;
  error.hidden = false;
  file.setAttribute('aria-invalid', 'true');
  file.focus();
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.hidden = true;
  file.removeAttribute('aria-invalid');
  const chosen = file.files && file.files[0];
  if (!chosen) {
    fail('Choose a template file first.');
    return;
  }
  const text = await chosen.text();
  let reply;
  try {
    reply = await fetch('/api/sessions/import', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken() },
      body: text,
    });
  } catch {
    fail('The server could not be reached. Check the connection and try again.');
    return;
  }
  const body = await reply.json().catch(() => null);
  if (!reply.ok) {
    fail((body && body.error && body.error.message) || 'That file could not be used.');
    return;
  }
  location.assign(`/console/${encodeURIComponent(body.id)}`);
});
