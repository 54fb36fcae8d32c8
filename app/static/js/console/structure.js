// Sections and templates in the console (issue 8): add a section, choose a question's section, see
// each card's section, and save the session's plan as a template file.

import { api } from '../api.js';
import { charCounter, el, setText, show, showError } from '../ui.js';

// The server's limit of a section title (SectionTitle in app/polls/template_files.py).
const TITLE_MAX = 200;

export function createStructure({ base, root, form, refresh }) {
  const select = el('select', { id: 'q-section', name: 'section_id' });
  const field = el(
    'div',
    { class: 'field' },
    el('label', { for: 'q-section', text: 'Section' }),
    select,
  );
  const promptField = form.querySelector('#q-prompt').closest('.field') || form.firstElementChild;
  promptField.after(field);

  const title = el('input', { type: 'text', id: 'section-title', autocomplete: 'off' });
  const audience = el('input', { type: 'checkbox', id: 'section-audience' });
  const list = el('ul', { class: 'section-list', id: 'section-list' });
  const status = el('p', { class: 'error', role: 'alert', hidden: true });
  const add = el(
    'form',
    { class: 'inline-form', id: 'add-section', novalidate: true },
    el('label', { for: 'section-title', text: 'New section' }),
    title,
    el('span', { class: 'checkbox-inline' }, audience,
      el('label', { for: 'section-audience', text: 'Audience pace (a survey each person moves through at their own speed)' })),
    el('button', { type: 'submit', class: 'secondary' }, 'Add section'),
  );
  const template = el('a', { class: 'button-link', href: `${base}/template`, download: 'thirdspace-template.json' },
    'Save the plan as a template');
  root.append(list, add, status, el('p', { class: 'actions' }, template));
  const titleCounter = charCounter(title, TITLE_MAX);
  title.after(titleCounter.node);

  // Audience-paced sections: Start as a survey, Finish, and the "finished" count while one runs.
  let polling = null;
  async function sectionAction(section, action) {
    show(status, false);
    if (action === 'finish' && !window.confirm(`Finish “${section.title}”?\n\nIts questions close for good, each with its exact result.`)) return;
    try {
      await api('POST', `${base}/sections/${encodeURIComponent(section.id)}/${action}`);
      await refresh();
    } catch (err) {
      showError(status, err);
    }
  }
  async function pollProgress(section, node) {
    try {
      const p = await api('GET', `${base}/sections/${encodeURIComponent(section.id)}/progress`);
      node.textContent = `${p.finished} finished, ${p.started} started (${p.questions} questions)`;
    } catch {
      node.textContent = '';
    }
  }
  function renderList() {
    clearInterval(polling);
    polling = null;
    list.replaceChildren(...sections.map((section) => {
      const item = el('li', { class: 'section-item', dataset: { sid: section.id } },
        el('strong', { text: section.title }),
        el('span', { class: 'small muted', text: section.pace === 'audience' ? ' · audience pace' : ' · presenter pace' }));
      if (section.pace === 'audience' && !section.started) {
        const b = el('button', { type: 'button', class: 'secondary small-button' }, 'Start as a survey');
        b.addEventListener('click', () => sectionAction(section, 'start'));
        item.append(' ', b);
      }
      if (section.pace === 'audience' && section.started && !section.finished) {
        const count = el('span', { class: 'section-progress', 'aria-live': 'polite' });
        const b = el('button', { type: 'button', class: 'danger small-button' }, 'Finish');
        b.addEventListener('click', () => sectionAction(section, 'finish'));
        item.append(' ', count, ' ', b);
        pollProgress(section, count);
        polling = setInterval(() => pollProgress(section, count), 3000);
      }
      if (section.finished) item.append(el('span', { class: 'small muted', text: ' · finished' }));
      return item;
    }));
  }

  let sections = [];
  add.addEventListener('submit', async (event) => {
    event.preventDefault();
    show(status, false);
    const text = title.value.trim();
    if (!text) {
      setText(status, 'Write the section title first.');
      show(status, true);
      return;
    }
    if (titleCounter.tooLong()) {
      setText(status, titleCounter.tooLong('The section title'));
      show(status, true);
      return;
    }
    try {
      const made = await api('POST', `${base}/sections`, { title: text, pace: audience.checked ? 'audience' : 'presenter' });
      title.value = '';
      titleCounter.update();
      audience.checked = false;
      await refresh();
      select.value = made.id;
    } catch (err) {
      showError(status, err);
    }
  });

  return {
    setSections(given) {
      sections = given || [];
      renderList();
      const chosen = select.value;
      select.replaceChildren(
        el('option', { value: '', text: 'No section' }),
        ...sections.map((s) => el('option', { value: s.id, text: s.title })),
      );
      if (sections.some((s) => s.id === chosen)) select.value = chosen;
      else if (sections.length) select.value = sections[sections.length - 1].id;
    },
    titleOf(id) {
      const found = sections.find((s) => s.id === id);
      return found ? found.title : '';
    },
    chosen() {
      return select.value || null;
    },
    choose(id) {
      select.value = id || '';
    },
  };
}
