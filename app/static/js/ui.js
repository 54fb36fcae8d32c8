// Small DOM helpers shared by the pages. Text is always set with textContent, never as HTML.

export function pageData() {
  const node = document.getElementById('page-data');
  if (!node) {
    return {};
  }
  try {
    return JSON.parse(node.textContent || '{}') || {};
  } catch {
    return {};
  }
}

// el('p', {class: 'note', hidden: true}, 'text', otherNode)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) {
      continue;
    }
    if (key === 'class') {
      node.className = value;
    } else if (key === 'dataset') {
      Object.assign(node.dataset, value);
    } else if (key === 'text') {
      node.textContent = value;
    } else if (value === true) {
      node.setAttribute(key, '');
    } else {
      node.setAttribute(key, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function setText(node, text) {
  if (node) {
    node.textContent = text ?? '';
  }
}

export function show(node, visible = true) {
  if (node) {
    node.hidden = !visible;
  }
}

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

// Field errors. Each input may have a sibling <p class="error field-error" data-error-for="NAME">.
// error.fields keys can be dotted paths ("settings.min_group", "options.2"); the first segment
// naming a control in the form wins, from the most specific end.

export function clearFieldErrors(form) {
  for (const slot of form.querySelectorAll('[data-error-for]')) {
    slot.textContent = '';
    slot.hidden = true;
  }
  for (const control of form.querySelectorAll('[aria-invalid]')) {
    control.removeAttribute('aria-invalid');
  }
}

function describeField(key) {
  return String(key).replace(/^body\./, '').replace(/[._]/g, ' ');
}

export function showFieldErrors(form, fields) {
  const leftovers = [];
  let first = null;
  for (const [key, message] of Object.entries(fields || {})) {
    const text = Array.isArray(message) ? message.join(' ') : String(message);
    const segments = String(key).split('.').filter((part) => part && !/^\d+$/.test(part)).reverse();
    let placed = false;
    for (const name of segments) {
      const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
      if (slot) {
        slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
        slot.hidden = false;
        const control = form.elements.namedItem(name);
        if (control && control instanceof Element) {
          control.setAttribute('aria-invalid', 'true');
          first = first || control;
        }
        placed = true;
        break;
      }
    }
    if (!placed) {
      leftovers.push(`${describeField(key)}: ${text}`);
    }
  }
  if (first && typeof first.focus === 'function') {
    first.focus();
  }
  return leftovers;
}

// Show an ApiError (or any Error) in a status element, with field errors placed in the form.
export function showError(statusNode, err, form) {
  let leftovers = [];
  if (form) {
    clearFieldErrors(form);
    if (err && err.fields) {
      leftovers = showFieldErrors(form, err.fields);
    }
  }
  const message = (err && err.message) || 'Something went wrong. Try again in a moment.';
  setText(statusNode, leftovers.length ? `${message} ${leftovers.join(' ')}` : message);
  show(statusNode, true);
}

// A live "12 / 40" under a text field, tied to it with aria-describedby. There is no maxlength: a
// paste over the limit would be cut silently. The counter turns red and says how many characters
// are too many, and `tooLong()` gives the sentence the form shows when it is sent anyway.
// Characters are counted as the server counts them (code points, trimmed).
//
// With `perLine` (lists typed one per line: options, statements, point labels, group names, links) the
// limit is of each line, as the server's is of each item: the counter shows the longest line against
// the limit, or names the first line that is too long ("Line 3: 214 / 200: 14 too many").
//
// The count itself is not announced at every key (aria-live off); a polite live region says once
// that the field went over the limit, and once that it is back within it.
export function charCounter(input, max, { perLine = false } = {}) {
  const id = `${input.id || 'field'}-count`;
  const node = el('p', { class: 'counter small muted', id, 'aria-live': 'off' });
  const said = el('span', { class: 'visually-hidden', 'aria-live': 'polite' });
  const box = el('div', { class: 'counter-box' }, node, said);
  const size = (text) => Array.from(text.trim()).length;
  // The first line over the limit, else the longest line (or the whole text): {line, used}.
  const measure = () => {
    if (!perLine) return { line: null, used: size(input.value) };
    let longest = { line: null, used: 0 };
    const lines = input.value.split('\n');
    for (const [index, text] of lines.entries()) {
      const used = size(text);
      if (used > max) return { line: index + 1, used, lines: lines.filter((l) => size(l) > max).length };
      if (used > longest.used) longest = { line: index + 1, used };
    }
    return longest;
  };
  let wasOver = false;
  const update = () => {
    const { line, used, lines = 0 } = measure();
    const over = used - max;
    if (!perLine) {
      node.textContent = over > 0 ? `${used} / ${max}: ${over} too many` : `${used} / ${max}`;
    } else if (over > 0) {
      const more = lines > 1 ? ` (${lines} lines are too long)` : '';
      node.textContent = `Line ${line}: ${used} / ${max}: ${over} too many${more}`;
    } else {
      node.textContent = `Longest line: ${used} / ${max}`;
    }
    node.classList.toggle('counter-over', over > 0);
    if (over > 0) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    if (over > 0 !== wasOver) {
      const each = perLine ? ' a line' : '';
      said.textContent = over > 0 ? `Over the limit of ${max} characters${each}.` : `Within the limit of ${max} characters${each}.`;
      wasOver = over > 0;
    }
  };
  const describedBy = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  input.setAttribute('aria-describedby', [...describedBy, id].join(' '));
  input.addEventListener('input', update);
  update();
  return {
    node: box,
    update,
    // The sentence a form shows when the field is sent over the limit (naming `what`, and the line
    // of a one-per-line list), or null.
    tooLong(what = 'This') {
      const { line, used } = measure();
      if (used <= max) return null;
      if (perLine) {
        return `${what}, line ${line}: ${used} characters; the limit is ${max}. Shorten it by ${used - max}.`;
      }
      return `${what} has ${used} characters; the limit is ${max}. Shorten it by ${used - max}.`;
    },
  };
}

// Shrink a box's font size (which its children inherit through em units) until its content fits,
// between `max` and `min` pixels. Used by the presenter, whose content varies from two words to ten
// long options: the text is as large as the room allows, never cut and never overlapping.
export function fitText(box, { max, min = 12, step = 0.92 } = {}) {
  if (!box || !box.isConnected) return;
  let size = max;
  box.style.fontSize = `${size}px`;
  while (size > min && (box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1)) {
    size = Math.max(min, Math.floor(size * step));
    box.style.fontSize = `${size}px`;
  }
}

// "1st", "2nd", "3rd", "4th" ... for ranks.
export function ordinal(n) {
  const rest = n % 100;
  if (rest >= 11 && rest <= 13) return `${n}th`;
  return `${n}${{ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th'}`;
}

// Numbers as people read them: at most `digits` decimals, no trailing zeros ("3.4", "4", "2.67").
export function num(value, digits = 2) {
  const x = Number(value);
  if (!Number.isFinite(x)) return '–';
  return String(Number(x.toFixed(digits)));
}

export function pct(count, total) {
  return total > 0 ? Math.round((count / total) * 100) : 0;
}
