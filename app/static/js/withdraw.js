// Withdrawal (ETHICS 5), in a module of its own so the phone page only mounts it:
// - on the phone: "Copy" and "Save as text" beside the withdrawal code, and "Withdraw my answers"
//   in the privacy panel (the phone's own token stands in for the code);
// - on /withdraw: the form that takes the five-word code.
import { api } from './api.js';
import { el, pageData, setText, show } from './ui.js';

const $ = (id) => document.getElementById(id);

function sayIn(node, message) {
  setText(node, message);
  show(node, Boolean(message));
}

// ---------------------------------------------------------------------------------------------
// The /withdraw page

function mountPage(form) {
  const input = $('withdraw-code');
  const status = $('withdraw-status');
  const button = $('withdraw-send');
  const done = $('withdraw-done');
  if (new URLSearchParams(location.search).get('done') === '1') {
    show(form, false);
    show(done, true);
    return;
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const code = input.value.trim();
    if (code.split(/[\s\-_.,;:/]+/).filter(Boolean).length < 5) {
      input.setAttribute('aria-invalid', 'true');
      sayIn(status, 'The code is five words. Check the words you noted and type them again.');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    button.disabled = true;
    sayIn(status, '');
    try {
      await api('POST', '/api/withdraw', { code });
      show(form, false);
      show(done, true);
      done.querySelector('p').focus?.();
    } catch (err) {
      input.setAttribute('aria-invalid', 'true');
      sayIn(status, err.message || 'That did not work. Try again in a moment.');
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The phone page

function saveAsText(code, title) {
  const text =
    `Thirdspace withdrawal code for "${title}"\n\n${code}\n\n` +
    `To remove everything you gave in this session, during or after it, go to ${location.origin}/withdraw ` +
    'and type these five words. The code is not linked to your name.\n';
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const link = el('a', { href: url, download: 'thirdspace-withdrawal-code.txt' });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function mountPhone(card) {
  const data = pageData();
  const session = data.session || {};
  const codeNode = $('withdrawal-code');
  const status = el('p', { class: 'small', role: 'status', 'aria-live': 'polite' });
  const copy = el('button', { type: 'button', class: 'secondary', id: 'withdrawal-copy' }, 'Copy');
  const save = el('button', { type: 'button', class: 'secondary', id: 'withdrawal-save' }, 'Save as text');
  const row = el('div', { class: 'actions' }, copy, save);
  codeNode.after(row, status);
  copy.addEventListener('click', async () => {
    const code = codeNode.textContent.trim();
    try {
      await navigator.clipboard.writeText(code);
      setText(status, 'Copied. Paste it somewhere you will find it again.');
    } catch {
      // No clipboard (not a secure context, or refused): select the words for a manual copy.
      const range = document.createRange();
      range.selectNodeContents(codeNode);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      setText(status, 'Your phone did not let the page copy: the code is selected, copy it from there.');
    }
  });
  save.addEventListener('click', () => {
    saveAsText(codeNode.textContent.trim(), session.title || 'this session');
    setText(status, 'Saved as a text file.');
  });

  // "Withdraw my answers", in the privacy panel, with a confirmation step.
  const privacy = document.querySelector('details.privacy');
  if (!privacy || !session.id) return;
  const ask = el('button', { type: 'button', class: 'secondary', id: 'withdraw-me' }, 'Withdraw my answers');
  const confirmText = el(
    'p',
    { class: 'small' },
    'This removes everything you gave in this session (answers, words, comments, questions, votes) from ' +
      'its results, its screens and every export made from now on, and takes you out of the session.',
  );
  const yes = el('button', { type: 'button', class: 'primary', id: 'withdraw-confirm' }, 'Yes, withdraw');
  const no = el('button', { type: 'button', class: 'secondary', id: 'withdraw-cancel' }, 'Keep my answers');
  const confirmBox = el(
    'div',
    { class: 'stack', id: 'withdraw-confirm-box', hidden: '' },
    confirmText,
    el('div', { class: 'actions' }, yes, no),
  );
  const failed = el('p', { class: 'error', role: 'alert', hidden: '' });
  privacy.append(el('div', { class: 'stack withdraw-me' }, ask, confirmBox, failed));
  ask.addEventListener('click', () => {
    show(confirmBox, true);
    show(ask, false);
    yes.focus();
  });
  no.addEventListener('click', () => {
    show(confirmBox, false);
    show(ask, true);
    ask.focus();
  });
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    try {
      await api('POST', `/api/sessions/${encodeURIComponent(session.id)}/withdraw`);
      try {
        for (const key of Object.keys(sessionStorage)) {
          if (key.endsWith(`:${session.id}`)) sessionStorage.removeItem(key);
        }
      } catch {
        // Storage may be disabled: nothing was kept there.
      }
      location.replace('/withdraw?done=1');
    } catch (err) {
      yes.disabled = false;
      sayIn(failed, err.message || 'That did not work. Try again in a moment.');
    }
  });
  void card;
}

const form = $('withdraw-form');
if (form) mountPage(form);
const card = $('withdrawal');
if (card) mountPhone(card);
