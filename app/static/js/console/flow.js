// The console's question flow (issue 8): one "Start" (make current and open) and one "Next" (close
// this one, start the next); only the next step is the filled button; questions can be moved, edited
// while nobody answered them, and deleted while never opened. Closing is final, so it is confirmed.

import { api } from '../api.js';
import { el } from '../ui.js';

function button(label, action, qid, cls = 'secondary', extra = {}) {
  return el('button', { type: 'button', class: cls, dataset: { action, qid }, ...extra }, label);
}

// The question the facilitator will most likely act on next, and how: {qid, action}.
export function nextStep(session) {
  const questions = session.questions || [];
  const current = questions.find((q) => q.id === session.current_question_id) || null;
  if (current && current.open && !current.closed) {
    return { qid: current.id, action: followerOf(session, current.id) ? 'next' : 'close' };
  }
  if (current && !current.open && !current.closed) return { qid: current.id, action: 'start' };
  const follower = followerOf(session, current ? current.id : null);
  return follower ? { qid: follower.id, action: 'start' } : null;
}

// The first question after `qid` (or from the top) that was never opened.
export function followerOf(session, qid) {
  const questions = session.questions || [];
  const from = qid ? questions.findIndex((q) => q.id === qid) + 1 : 0;
  return questions.slice(from).find((q) => !q.open && !q.closed) || null;
}

// The flow buttons of one card: Start / Next / Close, Move, Edit, Delete.
export function flowActions(q, index, session) {
  const step = nextStep(session);
  const filled = (action) => (step && step.qid === q.id && step.action === action ? 'primary' : 'secondary');
  const isCurrent = session.current_question_id === q.id;
  const count = (session.questions || []).length;
  const actions = [];
  if (!q.open && !q.closed) actions.push(button('Start', 'start', q.id, filled('start')));
  if (q.open && !q.closed) {
    if (isCurrent && followerOf(session, q.id)) actions.push(button('Next', 'next', q.id, filled('next')));
    actions.push(button('Close', 'close', q.id, step && step.qid === q.id && step.action === 'close' ? 'primary' : 'danger'));
  }
  if (!isCurrent) actions.push(button(q.open && !q.closed ? 'Show on screens' : 'Make current', 'current', q.id));
  const move = [];
  if (index > 0) move.push(button('Move up', 'up', q.id, 'secondary small-button', { 'aria-label': `Move question ${index + 1} up` }));
  if (index < count - 1) move.push(button('Move down', 'down', q.id, 'secondary small-button', { 'aria-label': `Move question ${index + 1} down` }));
  if (!q.closed && !q.open) {
    move.push(button('Edit', 'edit', q.id, 'secondary small-button'));
    move.push(button('Delete', 'delete', q.id, 'danger small-button'));
  } else if (q.open && !q.closed) {
    move.push(button('Edit', 'edit', q.id, 'secondary small-button'));
  }
  if (q.open && !q.closed) {
    move.push(q.closes_at
      ? button('Stop the countdown', 'countdown-stop', q.id, 'secondary small-button')
      : button('Close in 1 minute', 'countdown', q.id, 'secondary small-button'));
  }
  if (q.open || q.closed) move.push(button('Reset answers', 'reset', q.id, 'danger small-button'));
  return { actions, move };
}

// The requests behind the flow actions; null for actions this module does not own.
export function flowRequest(action, q, session, base) {
  const url = `${base}/questions/${encodeURIComponent(q.id)}`;
  const questions = session.questions || [];
  const start = async (target) => {
    if (session.current_question_id !== target.id) {
      await api('PUT', `${base}/current`, { question_id: target.id });
    }
    if (!target.open) await api('PATCH', `${base}/questions/${encodeURIComponent(target.id)}`, { open: true });
  };
  if (action === 'start') return () => start(q);
  if (action === 'next') {
    const follower = followerOf(session, q.id);
    if (!follower) return null;
    const message = `Close “${q.prompt}” for good and start “${follower.prompt}”?\n\n`
      + 'Phones can no longer answer the closed question, and it cannot be opened again.';
    if (!window.confirm(message)) return 'cancelled';
    return async () => {
      await api('PATCH', url, { open: false });
      await start(follower);
    };
  }
  if (action === 'up' || action === 'down') {
    const ids = questions.map((x) => x.id);
    const at = ids.indexOf(q.id);
    const to = action === 'up' ? at - 1 : at + 1;
    if (at === -1 || to < 0 || to >= ids.length) return null;
    [ids[at], ids[to]] = [ids[to], ids[at]];
    return () => api('PUT', `${base}/order`, { question_ids: ids });
  }
  if (action === 'countdown' || action === 'countdown-stop') {
    return () => api('PUT', `${url}/countdown`, { seconds: action === 'countdown' ? 60 : null });
  }
  if (action === 'reset') {
    const message = `Reset the answers to “${q.prompt}”?\n\nEvery answer, entry, vote and comment to it is deleted: `
      + 'it leaves the results and every export made from now on. This cannot be undone.';
    if (!window.confirm(message)) return 'cancelled';
    return () => api('POST', `${url}/reset`);
  }
  if (action === 'delete') {
    if (!window.confirm(`Delete “${q.prompt}”?\n\nIt was never opened, so nobody answered it. This cannot be undone.`)) {
      return 'cancelled';
    }
    return () => api('DELETE', url);
  }
  return null;
}
