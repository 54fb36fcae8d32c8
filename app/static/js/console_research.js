// The console's research panel, in a module of its own: the export bundle, researchers, information
// sheet versions (counts only), retention, the audit log, and deleting the session.
import { api } from './api.js';
import { charCounter, el, setText, show } from './ui.js';

const root = document.getElementById('research');
const sid = root ? root.dataset.sessionId : '';
const base = `/api/sessions/${encodeURIComponent(sid)}`;
// The server's limit of a researcher's e-mail (ResearcherAdd in app/sessions/schemas.py).
const EMAIL_MAX = 320;

const ACTIONS = {
  'session.create': 'created the session',
  'session.settings': 'changed settings',
  'session.close': 'closed the session',
  'session.delete': 'deleted the session',
  'question.open': 'opened a question',
  'question.close': 'closed a question',
  'question.reveal': 'showed results on phones',
  'question.hide': 'hid results from phones',
  moderation: 'moderated',
  'researcher.add': 'added a researcher',
  'researcher.remove': 'removed a researcher',
  export: 'exported',
  withdrawal: 'withdrew their answers',
  purge: 'purged raw data',
};

function card(id, title, ...children) {
  return el(
    'section',
    { class: 'card', id, 'aria-labelledby': `${id}-heading` },
    el('h2', { id: `${id}-heading` }, title),
    ...children,
  );
}

function status(id) {
  return el('p', { id, class: 'error', role: 'alert', hidden: true });
}

function fail(node, err) {
  setText(node, err.message || 'That did not work. Try again in a moment.');
  show(node, true);
}

function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

// -- Export -----------------------------------------------------------------------------------
function exportCard() {
  return card(
    'export-card',
    'Research export',
    el(
      'p',
      {},
      'The bundle holds the codebook, every answer under random pseudonyms (new in every export), ' +
        'summaries with counts below k hidden, redacted free text, and a README of the protections. ' +
        'After anyone withdraws, make a new bundle and delete the old ones.',
    ),
    el(
      'p',
      { class: 'actions' },
      el(
        'a',
        { class: 'button-link', id: 'export-zip', href: `${base}/export.zip`, download: '' },
        'Download the bundle (.zip)',
      ),
      el(
        'a',
        { class: 'button-link secondary', id: 'export-csv', href: `${base}/export.csv`, download: '' },
        'responses.csv only',
      ),
    ),
  );
}

// -- Researchers ------------------------------------------------------------------------------
function researchersCard() {
  const list = el('ul', { id: 'researchers-list', class: 'plain-list' });
  const input = el('input', {
    id: 'researcher-email',
    type: 'email',
    autocomplete: 'off',
    required: true,
    'aria-describedby': 'researcher-status',
  });
  const failed = status('researcher-status');
  const counter = charCounter(input, EMAIL_MAX);
  const form = el(
    'form',
    { class: 'stack', id: 'researcher-form', novalidate: true },
    el(
      'div',
      { class: 'field' },
      el('label', { for: 'researcher-email' }, 'Add a researcher by e-mail'),
      input,
      counter.node,
    ),
    el('button', { type: 'submit', class: 'secondary' }, 'Add researcher'),
    failed,
  );
  async function load() {
    const reply = await api('GET', `${base}/researchers`);
    list.replaceChildren(
      ...(reply.researchers.length
        ? reply.researchers.map((r) => {
            const remove = el('button', { type: 'button', class: 'link-button' }, 'remove');
            remove.addEventListener('click', async () => {
              try {
                await api('DELETE', `${base}/researchers/${encodeURIComponent(r.id)}`);
                await load();
                await audit.load();
              } catch (err) {
                fail(failed, err);
              }
            });
            return el('li', {}, r.email, ' ', remove);
          })
        : [el('li', { class: 'muted' }, 'None yet.')]),
    );
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    show(failed, false);
    const long = counter.tooLong('The e-mail address');
    if (long) {
      setText(failed, long);
      show(failed, true);
      input.focus();
      return;
    }
    try {
      await api('POST', `${base}/researchers`, { email: input.value.trim() });
      input.value = '';
      counter.update();
      await load();
      await audit.load();
    } catch (err) {
      fail(failed, err);
      input.focus();
    }
  });
  const node = card(
    'researchers-card',
    'Researchers',
    el(
      'p',
      {},
      'Researchers see this session, its results, its presenter screen and its exports. They cannot run it.',
    ),
    list,
    form,
  );
  return { node, load };
}

// -- Information sheet versions ---------------------------------------------------------------
function versionsCard() {
  const table = el('table', { class: 'data-table', id: 'versions-table' });
  const empty = el('p', { class: 'muted', hidden: true }, 'This session has no information sheet.');
  async function load() {
    const { versions } = await api('GET', `${base}/consent/versions`);
    show(empty, versions.length === 0);
    show(table, versions.length > 0);
    table.replaceChildren(
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { scope: 'col' }, 'Version'),
          el('th', { scope: 'col' }, 'Saved'),
          el('th', { scope: 'col' }, 'Participants who agreed'),
        ),
      ),
      el(
        'tbody',
        {},
        versions.map((v, i) =>
          el(
            'tr',
            {},
            el('td', {}, `${i + 1}${v.current ? ' (current)' : ''}`),
            el('td', {}, when(v.created_at)),
            el('td', {}, String(v.participants)),
          ),
        ),
      ),
    );
  }
  const node = card(
    'versions-card',
    'Information sheet versions',
    el(
      'p',
      {},
      'Editing the sheet after people agreed makes a new version; each participant keeps the one they agreed to. Counts only.',
    ),
    table,
    empty,
  );
  return { node, load };
}

// -- Retention and deletion -------------------------------------------------------------------
function retentionCard(session) {
  const input = el('input', {
    id: 'retention-days',
    type: 'number',
    min: '1',
    max: '3650',
    value: String(session.settings.retention_days),
  });
  const saved = el('p', { class: 'small', role: 'status', 'aria-live': 'polite' });
  const failed = status('retention-status');
  const save = el('button', { type: 'button', class: 'secondary', id: 'retention-save' }, 'Save');
  save.addEventListener('click', async () => {
    show(failed, false);
    try {
      await api('PATCH', base, { settings: { retention_days: Number(input.value) } });
      setText(saved, 'Saved.');
      await audit.load();
    } catch (err) {
      fail(failed, err);
    }
  });
  const del = el('button', { type: 'button', class: 'danger', id: 'delete-session' }, 'Delete this session');
  const deleteFailed = status('delete-status');
  del.addEventListener('click', async () => {
    // A typed confirmation: deleting cannot be undone.
    const typed = window.prompt(
      `Deleting removes every question, answer and result of this session for good. Type DELETE to confirm.`,
    );
    if (typed !== 'DELETE') return;
    try {
      await api('DELETE', base);
      location.assign('/console');
    } catch (err) {
      fail(deleteFailed, err);
    }
  });
  return card(
    'retention-card',
    'Retention',
    el(
      'div',
      { class: 'field' },
      el('label', { for: 'retention-days' }, 'Keep raw answers for (days after closing)'),
      input,
    ),
    el(
      'p',
      { class: 'hint' },
      'The operator\'s daily "thirdspace purge" then deletes answers, entries, notes and messages; questions and final results stay.',
    ),
    save,
    saved,
    failed,
    el('hr'),
    el('p', {}, 'Delete the session outright: everything goes, except the audit log entry that says so.'),
    del,
    deleteFailed,
  );
}

// -- Audit log --------------------------------------------------------------------------------
const audit = (() => {
  const list = el('ol', { id: 'audit-list', class: 'audit-list', reversed: true });
  async function load() {
    const { events } = await api('GET', `${base}/audit`);
    list.replaceChildren(
      ...events.map((e) =>
        el(
          'li',
          {},
          el('time', { datetime: e.at }, when(e.at)),
          ' · ',
          e.actor,
          ' ',
          ACTIONS[e.action] || e.action,
        ),
      ),
    );
  }
  const node = card(
    'audit-card',
    'Audit log',
    el('p', { class: 'small' }, 'Who changed what is collected or shown, and when. No answers, no codes.'),
    list,
  );
  return { node, load };
})();

async function mount() {
  if (!root || !sid) return;
  let session;
  try {
    session = await api('GET', base);
  } catch {
    return;
  }
  const researchers = researchersCard();
  const versions = versionsCard();
  root.append(exportCard(), researchers.node, versions.node, retentionCard(session), audit.node);
  await Promise.allSettled([researchers.load(), versions.load(), audit.load()]);
  // Keep the log current while the facilitator works: cheap, and only while the tab is visible.
  setInterval(() => {
    if (document.visibilityState === 'visible') audit.load().catch(() => {});
  }, 15000);
}

mount();
