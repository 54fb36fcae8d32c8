// Resending what the phone sent and the server has not acknowledged yet.
//
// The phone keeps every answer, comment and upvote until its ack or a refusal (phone.js stores them
// in sessionStorage, keyed by session, so a reload keeps them too). This module decides when to send
// them again, always with the same id (the server acks an id once and changes nothing the second
// time):
//   - after every reconnect, all of them, in the order they were made;
//   - after a refusal that says "not saved, try again" (server_error, too_many_pending, server_busy,
//     server_restarting, rate_limited), that one,
//     after a backoff with jitter from 0.5 s doubling up to 30 s, so a room of phones does not
//     resend in lockstep to a server that is struggling.
// Any other refusal is final: the server judged the message and recorded nothing.

export const BASE_DELAY_MS = 500;
export const MAX_DELAY_MS = 30000;

// Refusals that mean "nothing was judged, send it again".
export const RESEND_CODES = new Set([
  'server_error', 'too_many_pending', 'server_busy', 'server_restarting', 'rate_limited',
]);

export function shouldResend(code) {
  return RESEND_CODES.has(code);
}

// Between half and all of min(30 s, 0.5 s * 2^attempt).
export function backoff(attempt, random = Math.random) {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

// A sentence for the connection line while messages wait (null when none do).
export function waitingSentence(count) {
  if (count <= 0) return null;
  return count === 1
    ? '1 answer is waiting and will be sent when the connection is back.'
    : `${count} answers are waiting and will be sent when the connection is back.`;
}

// pendingList() returns the messages still waiting ({id, type, data}); send(entry) sends one and
// returns whether the socket took it.
export function createResender({ pendingList, send, setTimer = setTimeout, clearTimer = clearTimeout, random = Math.random }) {
  const attempts = new Map(); // id -> refusals in a row
  const timers = new Map(); // id -> timer of its next try

  function stillPending(id) {
    return pendingList().some((p) => p.id === id);
  }

  function forget(id) {
    attempts.delete(id);
    const timer = timers.get(id);
    if (timer !== undefined) clearTimer(timer);
    timers.delete(id);
  }

  return {
    // After (re)connecting: everything waiting, oldest first.
    resendAll() {
      for (const entry of pendingList()) {
        const timer = timers.get(entry.id);
        if (timer !== undefined) {
          clearTimer(timer);
          timers.delete(entry.id);
        }
        send(entry);
      }
    },
    // A refusal that asks for a resend: send it again later; returns the delay in ms.
    later(entry) {
      const attempt = attempts.get(entry.id) || 0;
      attempts.set(entry.id, attempt + 1);
      const delay = backoff(attempt, random);
      const old = timers.get(entry.id);
      if (old !== undefined) clearTimer(old);
      timers.set(entry.id, setTimer(() => {
        timers.delete(entry.id);
        if (stillPending(entry.id)) send(entry);
      }, delay));
      return delay;
    },
    // The message was acked or refused for good.
    settled(id) {
      forget(id);
    },
  };
}
