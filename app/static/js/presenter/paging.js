// Pages a presenter list that cannot fit the screen even at the smallest readable size: the items are
// split into pages that fill the box, shown in turn every few seconds, with "Options 1–5 of 10" under
// them. Items are never shrunk below the floor and never overlap; a list that fits is left alone.

const TURN_MS = 8000;

// The list of the view worth paging: the <ul>/<ol> with the most items (bars, statements, ranks).
function pagedList(box) {
  let best = null;
  for (const list of box.querySelectorAll('ul, ol')) {
    if (list.closest('.legend')) continue;
    if (!best || list.children.length > best.children.length) best = list;
  }
  return best && best.children.length > 1 ? best : null;
}

function overflows(box) {
  return box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1;
}

export function createPager(box, note, { noun = 'Items' } = {}) {
  let pages = []; // [[first, last]] item indexes
  let index = 0;
  let timer = null;
  let list = null;

  function showPage() {
    const items = Array.from(list.children);
    const [first, last] = pages[index];
    items.forEach((item, i) => { item.hidden = i < first || i > last; });
    note.textContent = `${noun} ${first + 1}–${last + 1} of ${items.length} · page ${index + 1} of ${pages.length}`;
    note.hidden = false;
  }

  function stop() {
    clearInterval(timer);
    timer = null;
  }

  // Measure again (new content, new size): call after the box's font size is settled.
  function layout(nounNow) {
    if (nounNow) noun = nounNow;
    list = pagedList(box);
    const items = list ? Array.from(list.children) : [];
    for (const item of items) item.hidden = false;
    note.hidden = true;
    if (!list || !overflows(box)) {
      pages = [];
      stop();
      return false;
    }
    // Greedy: add items to a page until the box overflows; that item starts the next page.
    note.hidden = false; // the note takes room too
    note.textContent = `${noun} 1–1 of ${items.length} · page 1 of 1`;
    pages = [];
    let start = 0;
    while (start < items.length) {
      items.forEach((item, i) => { item.hidden = i < start; });
      let last = start;
      for (let i = start + 1; i < items.length; i += 1) {
        items.forEach((item, j) => { item.hidden = j < start || j > i; });
        if (overflows(box)) break;
        last = i;
      }
      pages.push([start, last]);
      start = last + 1;
    }
    index = Math.min(index, pages.length - 1);
    showPage();
    if (!timer) {
      timer = setInterval(() => {
        if (!pages.length) return stop();
        index = (index + 1) % pages.length;
        showPage();
        return undefined;
      }, TURN_MS);
    }
    return true;
  }

  return { layout, stop, get pages() { return pages.length; } };
}
