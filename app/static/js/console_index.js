import { api } from './api.js';
import { charCounter, clearFieldErrors, showError, showFieldErrors, show } from './ui.js';

// The server's limits (Title and ConsentText in app/sessions/schemas.py).
const TITLE_MAX = 200;
const CONSENT_MAX = 20000;

const form = document.getElementById('new-session');
const status = document.getElementById('new-status');
const button = form.querySelector('button[type="submit"]');

// Counters instead of maxlength, which would cut a paste silently.
const titleInput = form.elements.namedItem('title');
const consentInput = form.elements.namedItem('consent_text');
const titleCounter = charCounter(titleInput, TITLE_MAX);
const consentCounter = charCounter(consentInput, CONSENT_MAX);
titleInput.after(titleCounter.node);
consentInput.after(consentCounter.node);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFieldErrors(form);
  show(status, false);

  const title = titleInput.value.trim();
  // Trimmed, as the counter counts it: the server's limit is of the text as sent.
  const consentText = consentInput.value.trim();
  const minGroupRaw = form.elements.namedItem('min_group').value.trim();
  const minGroup = Number(minGroupRaw);

  const problems = {};
  if (!title) {
    problems.title = 'Give the session a title.';
  } else if (titleCounter.tooLong()) {
    problems.title = titleCounter.tooLong('The title');
  }
  if (consentCounter.tooLong()) {
    problems.consent_text = consentCounter.tooLong('The information sheet');
  }
  if (!/^\d+$/.test(minGroupRaw) || minGroup < 3) {
    problems.min_group = 'Enter a whole number of 3 or more.';
  }
  if (Object.keys(problems).length) {
    showFieldErrors(form, problems);
    return;
  }

  const settings = { min_group: minGroup, language: form.elements.namedItem('language').value };
  if (consentText) {
    settings.consent_text = consentText;
  }

  button.disabled = true;
  try {
    const reply = await api('POST', '/api/sessions', { title, settings });
    location.assign(`/console/${encodeURIComponent(reply.id)}`);
  } catch (err) {
    showError(status, err, form);
    button.disabled = false;
  }
});
