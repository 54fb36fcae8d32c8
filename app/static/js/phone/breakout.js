// Breakout rounds and private messages on the phone (issue 10), mounted by phone.js:
// - the breakout card: the group's name, the prompt, the countdown, the group's link, and the live
//   board of anonymous notes with +1s; choosing a group in a self-select round; "I'd rather not join a
//   group" (ETHICS 6), which keeps this phone in the plenary, and joining after all;
// - "Message the research team" (ETHICS 7), always available, with its acknowledgement.
// It owns no socket: phone.js passes `send` and adds the returned handlers to its own.
import { charCounter, el, setText, show } from '../ui.js';

const NOTE_MAX = 280;
const PRIVATE_MAX = 2000;

function newId() {
  if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function remaining(endsAt) {
  const ms = Date.parse(endsAt) - Date.now();
  if (!(ms > 0)) return 'Time is up';
  const total = Math.ceil(ms / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return `${minutes}:${seconds} left`;
}

export function mountBreakout({ send }) {
  const card = document.getElementById('breakout');
  const privateBox = document.getElementById('private-box');
  // Messages waiting for their reply, by id: sent again with the same id after a reconnect.
  const pending = new Map();
  let round = null;
  let timer = null;

  function post(type, data) {
    const id = newId();
    pending.set(id, { type, data });
    send({ type, id, data });
    return id;
  }

  // --- The breakout card ------------------------------------------------------------------------

  const title = el('h2', { id: 'breakout-title', class: 'breakout-title' });
  const countdown = el('p', { id: 'breakout-countdown', class: 'countdown', role: 'timer', 'aria-live': 'off' });
  const prompt = el('div', { id: 'breakout-prompt', class: 'sheet breakout-prompt' });
  const link = el('a', { id: 'breakout-link', class: 'button secondary', target: '_blank', rel: 'noopener noreferrer' }, 'Join your group’s call');
  const message = el('p', { id: 'breakout-message', class: 'note', role: 'status', 'aria-live': 'polite', hidden: true });
  const choose = el('div', { id: 'breakout-choose', class: 'stack', hidden: true });
  const board = el('ul', { id: 'breakout-board', class: 'board', 'aria-label': 'Your group’s notes' });
  const boardEmpty = el('p', { class: 'muted small', id: 'breakout-empty' }, 'No notes yet. Write the first one.');
  const noteText = el('textarea', { id: 'note-text', rows: '2', 'aria-describedby': 'note-hint' });
  const noteCounter = charCounter(noteText, NOTE_MAX);
  const noteStatus = el('p', { id: 'note-status', class: 'answer-status', role: 'status', 'aria-live': 'polite' });
  const noteForm = el(
    'form',
    { id: 'note-form', class: 'stack', novalidate: true },
    el('div', { class: 'field' },
      el('label', { for: 'note-text' }, 'Add a note to your group’s board'),
      el('p', { class: 'hint', id: 'note-hint' }, 'Up to 280 characters, without your name. Your group and the facilitators see it.'),
      noteText,
      noteCounter.node),
    el('button', { type: 'submit', class: 'primary', id: 'note-send' }, 'Post note'),
  );
  const groupPart = el('div', { id: 'breakout-group' }, link, el('h3', {}, 'Your group’s board'), boardEmpty, board, noteForm, noteStatus);
  const declineButton = el('button', { type: 'button', class: 'secondary', id: 'breakout-decline' }, 'I’d rather not join a group');
  const rejoinButton = el('button', { type: 'button', class: 'secondary', id: 'breakout-rejoin', hidden: true }, 'Join a group after all');
  const plenary = el('p', { id: 'breakout-plenary', class: 'note', hidden: true }, 'You are staying in the main room for this round. Nothing more is needed from you; you can still answer questions and message the research team.');
  if (card) {
    card.append(title, countdown, message, prompt, choose, groupPart, plenary, el('div', { class: 'actions' }, declineButton, rejoinButton));
  }

  noteForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!round) return;
    const text = noteText.value.trim();
    if (!text) {
      setText(noteStatus, 'Write something first: the note is empty.');
      noteText.focus();
      return;
    }
    const tooLong = noteCounter.tooLong('Your note');
    if (tooLong) {
      setText(noteStatus, tooLong);
      noteText.focus();
      return;
    }
    post('note', { round_id: round.id, text });
    setText(noteStatus, 'Posting…');
  });

  declineButton.addEventListener('click', () => {
    if (round) post('group.decline', { round_id: round.id });
  });
  rejoinButton.addEventListener('click', () => {
    if (round) post('group.rejoin', { round_id: round.id });
  });

  function renderNote(note) {
    const group = round && round.group;
    const mine = group && (group.mine || []).includes(note.id);
    const plussed = group && (group.plussed || []).includes(note.id);
    let action = 'give this note a +1';
    if (mine) action = 'your note';
    else if (plussed) action = 'you gave it a +1';
    // aria-disabled, not disabled: a +1 given stays focusable, so the focus stays on it (renderBoard).
    const button = el(
      'button',
      {
        type: 'button',
        class: 'plus',
        'aria-pressed': plussed ? 'true' : 'false',
        'aria-disabled': mine || plussed ? 'true' : null,
        // The name starts with the visible text (WCAG 2.5.3, axe label-content-name-mismatch).
        'aria-label': `+1 · ${note.plus}, ${action}`,
        dataset: { note: note.id },
      },
      `+1 · ${note.plus}`,
    );
    button.addEventListener('click', () => {
      if (button.getAttribute('aria-disabled') === 'true') return;
      button.setAttribute('aria-disabled', 'true');
      post('plus', { note_id: note.id });
    });
    return el('li', { class: mine ? 'board-note mine' : 'board-note', dataset: { note: note.id } },
      el('p', { class: 'prewrap' }, note.text), button);
  }

  function renderBoard() {
    const notes = (round && round.group && round.group.notes) || [];
    // The board is drawn again on every note and +1 in the group: a +1 that had the focus keeps it
    // (WCAG 2.4.3), instead of the focus falling back to the top of the page.
    const active = document.activeElement;
    const focused = active && board.contains(active) ? active.dataset.note : null;
    board.replaceChildren(...notes.map(renderNote));
    if (focused) {
      const again = board.querySelector(`button[data-note="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
    show(boardEmpty, notes.length === 0);
  }

  function renderChoices() {
    const groups = (round && round.groups) || [];
    choose.replaceChildren();
    if (groups.length) {
      choose.append(el('h3', {}, 'Choose your group'));
      for (const group of groups) {
        const button = el('button', { type: 'button', class: 'secondary big', disabled: group.full, dataset: { group: group.id } },
          group.full ? `${group.name} (full)` : group.name);
        button.addEventListener('click', () => post('group.choose', { round_id: round.id, group_id: group.id }));
        choose.append(button);
      }
    }
    show(choose, groups.length > 0);
  }

  function tick() {
    if (round && round.ends_at) setText(countdown, remaining(round.ends_at));
  }

  function render() {
    if (!card) return;
    clearInterval(timer);
    timer = null;
    show(card, Boolean(round));
    document.body.classList.toggle('in-breakout', Boolean(round && round.group));
    if (!round) return;
    const group = round.group;
    setText(title, group ? group.name : 'Breakout round');
    prompt.innerHTML = round.prompt_html || ''; // sanitised on the server (markdown-it-py + nh3)
    show(prompt, Boolean(round.prompt_html));
    show(countdown, Boolean(round.ends_at));
    if (round.ends_at) {
      tick();
      timer = setInterval(tick, 1000);
    }
    show(groupPart, Boolean(group));
    if (group) {
      show(link, Boolean(group.link));
      if (group.link) link.setAttribute('href', group.link);
      renderBoard();
    }
    renderChoices();
    show(plenary, !group && Boolean(round.declined));
    show(declineButton, !round.declined);
    show(rejoinButton, Boolean(round.declined));
  }

  // --- Message the research team ----------------------------------------------------------------

  const privateText = el('textarea', { id: 'private-text', rows: '4', 'aria-describedby': 'private-hint' });
  const privateCounter = charCounter(privateText, PRIVATE_MAX);
  const privateStatus = el('p', { id: 'private-status', class: 'answer-status', role: 'status', 'aria-live': 'polite' });
  const privateForm = el(
    'form',
    { id: 'private-form', class: 'stack', novalidate: true },
    el('div', { class: 'field' },
      el('label', { for: 'private-text' }, 'Your message'),
      el('p', { class: 'hint', id: 'private-hint' }, 'Only the facilitators and researchers of this session read it; it never appears on the big screen. Up to 2,000 characters. Your name is not attached, but what you write may identify you.'),
      privateText,
      privateCounter.node),
    el('button', { type: 'submit', class: 'secondary', id: 'private-send' }, 'Send to the research team'),
  );
  if (privateBox) {
    privateBox.append(el('details', { class: 'private', id: 'private-details' },
      el('summary', {}, 'Message the research team'), privateForm, privateStatus));
  }
  privateForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = privateText.value.trim();
    if (!text) {
      setText(privateStatus, 'Write something first: the message is empty.');
      privateText.focus();
      return;
    }
    const tooLong = privateCounter.tooLong('Your message');
    if (tooLong) {
      setText(privateStatus, tooLong);
      privateText.focus();
      return;
    }
    post('private', { text });
    setText(privateStatus, 'Sending…');
  });

  // --- Socket handlers ---------------------------------------------------------------------------

  function settled(reply) {
    const entry = pending.get(reply.id);
    pending.delete(reply.id);
    return entry;
  }

  const handlers = {
    'round.state'(state) {
      const before = round;
      round = state.round || null;
      if (!before && round) message.hidden = true;
      render();
    },
    'round.message'(data) {
      if (!round || data.round_id !== round.id) return;
      setText(message, `From the facilitator: ${data.text}`);
      show(message, true);
    },
    'note.new'(note) {
      if (!round || !round.group) return;
      if (round.group.notes.some((n) => n.id === note.id)) return;
      round.group.notes.push(note);
      renderBoard();
    },
    'note.plus'(data) {
      if (!round || !round.group) return;
      const note = round.group.notes.find((n) => n.id === data.id);
      if (note) note.plus = data.plus;
      renderBoard();
    },
    'note.ack'(ack) {
      const entry = settled(ack);
      if (!entry) return;
      if (ack.note_id && round && round.group) {
        // The server names the new note: it is this phone's own, so it takes no +1 from here.
        round.group.mine = [...(round.group.mine || []), ack.note_id];
        renderBoard();
      }
      noteText.value = '';
      noteCounter.update();
      setText(noteStatus, 'Note posted ✓');
    },
    'note.error'(error) {
      settled(error);
      setText(noteStatus, error.message || 'Your note was not posted. Try again.');
    },
    'plus.ack'(ack) {
      const entry = settled(ack);
      if (entry && round && round.group) {
        round.group.plussed = [...(round.group.plussed || []), entry.data.note_id];
        renderBoard();
      }
    },
    'plus.error'(error) {
      const entry = settled(error);
      if (entry && error.code === 'already_plussed' && round && round.group) {
        round.group.plussed = [...(round.group.plussed || []), entry.data.note_id];
      } else {
        setText(noteStatus, error.message || 'Your +1 was not counted.');
      }
      renderBoard();
    },
    'private.ack'(ack) {
      if (!settled(ack)) return;
      privateText.value = '';
      privateCounter.update();
      setText(privateStatus, 'Sent ✓ — the research team has your message. Thank you.');
    },
    'private.error'(error) {
      settled(error);
      setText(privateStatus, error.message || 'Your message was not sent. Try again.');
    },
  };
  for (const type of ['group.choose', 'group.decline', 'group.rejoin']) {
    handlers[`${type}.ack`] = (ack) => settled(ack);
    handlers[`${type}.error`] = (error) => {
      settled(error);
      setText(message, error.message || 'That did not work. Try again.');
      show(message, true);
    };
  }

  return {
    handlers,
    // After a reconnect: send again what had no reply, under the same ids (the server acks each once).
    resend() {
      for (const [id, entry] of pending) send({ type: entry.type, id, data: entry.data });
    },
  };
}
