// The time left on a question's countdown (`closes_at`), shown on the phone and the presenter; the
// server closes the question at zero, this only shows the time.

let timer = null;

function left(closesAt) {
  const ms = Date.parse(closesAt) - Date.now();
  return Math.max(0, Math.ceil(ms / 1000));
}

function format(seconds) {
  const m = Math.floor(seconds / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return `${m}:${s}`;
}

// Show "Closes in 0:42" in `node` while the question is open with a countdown, else hide it.
export function showCountdown(node, question) {
  clearInterval(timer);
  timer = null;
  const closesAt = question && question.open && !question.closed ? question.closes_at : null;
  if (!node) return;
  if (!closesAt || Number.isNaN(Date.parse(closesAt))) {
    node.hidden = true;
    return;
  }
  const tick = () => {
    const seconds = left(closesAt);
    node.textContent = seconds > 0 ? `Closes in ${format(seconds)}` : 'Closing…';
    node.setAttribute('aria-label', seconds > 0 ? `Closes in ${Math.floor(seconds / 60)} minutes ${seconds % 60} seconds` : 'Closing');
  };
  tick();
  node.hidden = false;
  timer = setInterval(tick, 1000);
}
