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

// One bar per option, in the question's order: label, a bar as wide as its share of n, "count (pct%)".
export function resultBars(options, counts, n) {
  return (options || []).map((option) => {
    const count = Number(counts[option.id]) || 0;
    const pct = n > 0 ? Math.round((count / n) * 100) : 0;
    const fill = el('span', { class: 'bar-fill' });
    fill.style.width = `${Math.min(100, pct)}%`;
    return el(
      'li',
      { class: 'bar' },
      el('span', { class: 'bar-label', text: option.label }),
      el('span', { class: 'bar-track', 'aria-hidden': 'true' }, fill),
      el('span', { class: 'bar-value', text: `${count} (${pct}%)` }),
    );
  });
}
