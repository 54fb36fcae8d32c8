// Shared websocket client for Thirdspace pages.
//
// connect(path, handlers, {onStatus}) opens ws(s)://<this host><path>. The browser sends the
// page's cookies with the handshake, so no token ever goes in the URL (it would land in logs).
// Every server message {"type", "seq"?, "data"} goes to handlers[type](data, msg).
// The client remembers the last `seq` it saw and, after a drop, reconnects with ?last_seq=N so
// the server can replay what was missed. Reconnects back off from 0.5 s, doubling up to 30 s,
// with jitter so a room full of phones does not reconnect in lockstep after a server restart.
// Close code 1008 means "not allowed": the client stops and reports it.

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 30000;

export const CLOSE_NOT_ALLOWED = 1008;
export const CLOSE_RESTARTING = 1012;

function socketUrl(path, lastSeq) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = new URL(path, `${scheme}//${location.host}`);
  url.protocol = scheme;
  if (lastSeq !== null) {
    url.searchParams.set('last_seq', String(lastSeq));
  }
  return url.toString();
}

export function connect(path, handlers = {}, { onStatus } = {}) {
  let ws = null;
  let lastSeq = null;
  let attempt = 0;
  let timer = null;
  let stopped = false;

  function status(state, detail = {}) {
    if (typeof onStatus === 'function') {
      try {
        onStatus(state, detail);
      } catch (err) {
        console.error('onStatus handler failed', err);
      }
    }
  }

  function dispatch(msg) {
    if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') {
      return;
    }
    if (typeof msg.seq === 'number' && Number.isFinite(msg.seq)) {
      lastSeq = msg.seq;
    }
    const handler = Object.prototype.hasOwnProperty.call(handlers, msg.type) ? handlers[msg.type] : null;
    if (typeof handler !== 'function') {
      return;
    }
    try {
      handler(msg.data ?? {}, msg);
    } catch (err) {
      console.error(`handler for ${msg.type} failed`, err);
    }
  }

  function schedule(delayMs) {
    clearTimeout(timer);
    status('connecting', { attempt, delay: delayMs });
    timer = setTimeout(open, delayMs);
  }

  function nextDelay() {
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
    attempt += 1;
    // Between half and all of the ceiling: keeps growth, spreads the crowd.
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  function open() {
    if (stopped) {
      return;
    }
    clearTimeout(timer);
    status('connecting', { attempt, delay: 0 });
    let sock;
    try {
      sock = new WebSocket(socketUrl(path, lastSeq));
    } catch (err) {
      console.error('could not open websocket', err);
      schedule(nextDelay());
      return;
    }
    ws = sock;
    let gotMessage = false;

    sock.addEventListener('open', () => {
      if (ws !== sock) return;
      status('open', {});
    });

    sock.addEventListener('message', (event) => {
      if (ws !== sock) return;
      if (!gotMessage) {
        // Only count the connection as healthy once the server has said something, so a
        // server that accepts and immediately closes still gets backed off from.
        gotMessage = true;
        attempt = 0;
      }
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        console.warn('ignored a message that is not JSON');
        return;
      }
      dispatch(msg);
    });

    sock.addEventListener('close', (event) => {
      if (ws !== sock) return;
      ws = null;
      if (stopped) {
        status('closed', { code: event.code, reason: event.reason, final: true });
        return;
      }
      if (event.code === CLOSE_NOT_ALLOWED) {
        stopped = true;
        status('closed', { code: event.code, reason: event.reason, final: true, notAllowed: true });
        return;
      }
      status('closed', { code: event.code, reason: event.reason, final: false });
      // 1012: the server is restarting and asks for an immediate reconnect (jittered a little).
      let delay;
      if (event.code === CLOSE_RESTARTING && attempt === 0) {
        attempt = 1;
        delay = Math.round(Math.random() * BASE_DELAY_MS);
      } else {
        delay = nextDelay();
      }
      schedule(delay);
    });

    // 'error' is always followed by 'close'; nothing to do here.
    sock.addEventListener('error', () => {});
  }

  // When the device comes back online, do not wait out a long backoff.
  function onOnline() {
    if (!stopped && ws === null) {
      attempt = 0;
      open();
    }
  }
  window.addEventListener('online', onOnline);

  open();

  return {
    send(obj) {
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        return false;
      }
      try {
        ws.send(JSON.stringify(obj));
        return true;
      } catch {
        return false;
      }
    },
    close() {
      stopped = true;
      clearTimeout(timer);
      window.removeEventListener('online', onOnline);
      if (ws) {
        ws.close(1000);
      } else {
        status('closed', { final: true });
      }
    },
    get lastSeq() {
      return lastSeq;
    },
    get isOpen() {
      return !!ws && ws.readyState === WebSocket.OPEN;
    },
  };
}
