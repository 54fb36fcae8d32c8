import { api } from './api.js';
import { clearFieldErrors, showError, showFieldErrors, show } from './ui.js';

const form = document.getElementById('new-session');
const status = document.getElementById('new-status');
const button = form.querySelector('button[type="submit"]');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFieldErrors(form);
  show(status, false);

  const title = form.elements.namedItem('title').value.trim();
  const consentText = form.elements.namedItem('consent_text').value;
  const minGroupRaw = form.elements.namedItem('min_group').value.trim();
  const minGroup = Number(minGroupRaw);

  const problems = {};
  if (!title) {
    problems.title = 'Give the session a title.';
  }
  if (!/^\d+$/.test(minGroupRaw) || minGroup < 3) {
    problems.min_group = 'Enter a whole number of 3 or more.';
  }
  if (Object.keys(problems).length) {
    showFieldErrors(form, problems);
    return;
  }

  const settings = { min_group: minGroup, language: form.elements.namedItem('language').value };
  if (consentText.trim()) {
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
