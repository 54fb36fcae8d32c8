// Sections and templates in the console (issue 8): add a section, choose a question's section, see
// each card's section, and save the session's plan as a template file.

import { api } from '../api.js';
import { el, setText, show, showError } from '../ui.js';

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
  const status = el('p', { class: 'error', role: 'alert', hidden: true });
  const add = el(
    'form',
    { class: 'inline-form', id: 'add-section', novalidate: true },
    el('label', { for: 'section-title', text: 'New section' }),
    title,
    el('button', { type: 'submit', class: 'secondary' }, 'Add section'),
  );
  const template = el('a', { class: 'button-link', href: `${base}/template`, download: 'thirdspace-template.json' },
    'Save the plan as a template');
  root.append(add, status, el('p', { class: 'actions' }, template));

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
    if (Array.from(text).length > 200) {
      setText(status, `The section title has ${Array.from(text).length} characters; the limit is 200.`);
      show(status, true);
      return;
    }
    try {
      const made = await api('POST', `${base}/sections`, { title: text });
      title.value = '';
      await refresh();
      select.value = made.id;
    } catch (err) {
      showError(status, err);
    }
  });

  return {
    setSections(list) {
      sections = list || [];
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
