// The phone after Send (issue 8): a clear "Thanks, your answer is in" with "Change my answer", kept
// after a reload (the server's `answers.mine` says what this participant already sent), gone when the
// question closes; and "Your answer" marked in the results the facilitator shows.

import { el, setText, show } from '../ui.js';

// Which questions the person chose to change: the form shows again until the new answer is in.
const editing = new Set();

export function startEditing(questionId) {
  editing.add(questionId);
}

export function stopEditing(questionId) {
  editing.delete(questionId);
}

export function isEditing(questionId) {
  return editing.has(questionId);
}

// Shows the thanks panel for an answered question, or hides it. `answer` is {value} or null.
export function renderThanks(ui, { answer, describe }) {
  if (!answer) {
    show(ui.thanks, false);
    return false;
  }
  const declined = answer.value === null;
  setText(ui.thanksHeading, declined ? 'Thanks, your response is in' : 'Thanks, your answer is in');
  setText(ui.thanksText, declined ? 'You chose not to answer this question.' : describe(answer.value));
  setText(ui.changeAnswer, declined ? 'Answer after all' : 'Change my answer');
  show(ui.thanks, true);
  return true;
}

// Marks the options this phone chose in a shown choice result ("Your answer").
export function markMine(box, question, value) {
  for (const old of box.querySelectorAll('.mine-tag')) old.remove();
  for (const bar of box.querySelectorAll('.bar.is-mine')) bar.classList.remove('is-mine');
  if (!question || question.kind !== 'choice' || !value || !Array.isArray(value.choices)) return;
  for (const id of value.choices) {
    const bar = box.querySelector(`.bar[data-option="${CSS.escape(id)}"]`);
    if (!bar) continue;
    bar.classList.add('is-mine');
    const label = bar.querySelector('.bar-label');
    if (label) label.append(' ', el('span', { class: 'mine-tag', text: 'Your answer' }));
  }
}
