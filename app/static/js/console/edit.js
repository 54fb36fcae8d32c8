// Editing a question in the "Add a question" form: the form is filled with the question, its button
// says "Save changes", and the save is a PUT of the same body (allowed while nobody answered it).

import { setText, show } from '../ui.js';

function lines(value) {
  if (!Array.isArray(value)) return '';
  return value.map((item) => (typeof item === 'string' ? item : item.label ?? item.text ?? '')).join('\n');
}

// Fill the add form with a question: the kind, the prompt, each of the kind's fields by name.
export function fillForm(form, q) {
  form.reset();
  const radio = form.querySelector(`input[name="kind"][value="${CSS.escape(q.kind)}"]`);
  if (radio) radio.checked = true;
  form.elements.namedItem('prompt').value = q.prompt || '';
  const comments = form.elements.namedItem('comments');
  if (comments) comments.checked = !!q.comments;
  const moderated = form.elements.namedItem('moderated');
  if (moderated) moderated.checked = !!q.moderated;
  const prefix = `${q.kind}-`;
  for (const control of form.querySelectorAll(`[name^="${CSS.escape(prefix)}"]`)) {
    const field = control.name.slice(prefix.length);
    const value = q[field];
    if (control.type === 'checkbox') control.checked = !!value;
    else if (control.type === 'radio') control.checked = String(control.value) === String(value);
    else if (control.tagName === 'TEXTAREA') control.value = lines(value);
    else if (value !== undefined && value !== null && typeof value !== 'object') control.value = String(value);
  }
  // A scale's two end labels live in their own fields.
  if (q.kind === 'scale' && Array.isArray(q.labels) && q.labels.length === 2) {
    const low = form.elements.namedItem('scale-low');
    const high = form.elements.namedItem('scale-high');
    if (low) low.value = q.labels[0];
    if (high) high.value = q.labels[1];
    const every = form.elements.namedItem('scale-labels');
    if (every) every.value = '';
  }
}

export function createEditMode({ form, heading, submit, cancel }) {
  let editing = null; // the question being edited
  const addHeading = heading.textContent;
  const addLabel = submit.textContent;
  return {
    get id() {
      return editing ? editing.id : null;
    },
    start(q) {
      editing = q;
      fillForm(form, q);
      setText(heading, `Edit question: ${q.prompt}`);
      setText(submit, 'Save changes');
      show(cancel, true);
      form.scrollIntoView({ block: 'start' });
    },
    stop() {
      editing = null;
      setText(heading, addHeading);
      setText(submit, addLabel);
      show(cancel, false);
    },
  };
}
