// Herald console: helpers every page uses (elements, the API, errors in plain words,
// tables, paging, confirmation). Served as one script with the pages (see console.rs).
'use strict';
const main = () => document.getElementById('main');
// `gen` counts renders: an answer that arrives after the page changed is dropped.
const state = { me: null, gen: 0 };

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat(3)) if (k != null && k !== false) e.append(k instanceof Node ? k : String(k));
  return e;
}

function svg(tag, attrs, ...kids) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids.flat()) if (k != null) e.append(k instanceof Node ? k : String(k));
  return e;
}

// What an error code means to a person, and what to do next.
const EXPLAIN = {
  OWNER_ONLY: 'Only an owner of this account can do this. Ask one of your account\'s owners.',
  FORBIDDEN: 'Your account cannot do this. Ask an owner or the Herald operator.',
  CROSS_ORIGIN: 'This change did not come from the Herald console. Reload the page and try again.',
  PAUSED_BY_OPERATOR: 'Sending was paused by the Herald operator. Contact them to resume it.',
  INVALID_CREDENTIALS: 'That email and password do not match. Check them and try again.',
  SESSION_EXPIRED: 'You were signed out. Sign in again.',
  RATE_LIMITED: 'Too many messages at once. Wait a minute and try again.',
  BUDGET_EXCEEDED: 'Your spending limit is reached. Raise it in Settings, or wait for the next period.',
  RECIPIENT_OPTED_OUT: 'This person asked not to be contacted. Remove them from Do not contact only if they asked you to.',
  SERVICE_UNAVAILABLE: 'Herald could not finish this just now. Try again in a minute.',
  NOT_FOUND: 'This was not found. It may have been removed; go back and reload the list.',
  WEAK_PASSWORD: 'Choose a password of at least 8 characters with a capital, a small letter, a digit and a symbol.',
};

function explain(err) {
  if (!err) return 'Something went wrong. Try again.';
  const plain = EXPLAIN[err.code];
  const fields = err.fields ? Object.keys(err.fields).join(', ') : '';
  if (plain) return plain;
  return err.message + (fields ? ` (check: ${fields})` : '') + '.';
}

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) { opts.headers['content-type'] = 'application/json'; opts.body = JSON.stringify(body); }
  const gen = state.gen;
  const r = await fetch(path, opts);
  const text = await r.text();
  if (gen !== state.gen) throw Object.assign(new Error('the page changed'), { quiet: true });
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (r.status === 401 && !path.startsWith('/v1/session')) {
    location.assign('/console/login?next=' + encodeURIComponent(location.pathname + location.search));
    throw Object.assign(new Error('signed out'), { quiet: true });
  }
  if (!r.ok) throw Object.assign(new Error(explain(data && data.error)), { code: data && data.error && data.error.code, status: r.status });
  return data;
}

// A page: its title, its one <h1>, its content.
function page(title, ...content) {
  document.title = title + ' · Herald';
  const m = main();
  m.replaceChildren(el('h1', { text: title }), ...content.flat().filter(c => c != null && c !== false));
  return m;
}

// A notice under the page's heading (after a page is drawn again).
function told(text) { main().querySelector('h1').after(notice(text)); }

function alertBox(e) { return el('div', { class: 'alert', role: 'alert' }, e.message || String(e)); }
function notice(text) { return el('div', { class: 'notice', role: 'status' }, text); }

// Runs an action from a button: disabled while it runs, the outcome shown next to it.
async function act(button, work, done) {
  const where = button.closest('section, form, main') || main();
  where.querySelectorAll(':scope > .alert, :scope > .notice').forEach(n => n.remove());
  button.disabled = true;
  try {
    const out = await work();
    if (done) where.prepend(notice(typeof done === 'function' ? done(out) : done));
    return out;
  } catch (e) {
    if (!e.quiet) where.prepend(alertBox(e));
  } finally { button.disabled = false; }
}

// Asks before anything destructive; resolves true only on "Yes".
function confirmFirst(text, yes) {
  const d = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = yes || 'Yes';
  return new Promise(resolve => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.showModal();
  });
}

const fmt = {
  when: t => t ? new Date(typeof t === 'number' ? t : t).toLocaleString() : '—',
  date: t => t ? new Date(t).toLocaleDateString() : '—',
  money: c => c == null ? '—' : '$' + (c / 100).toFixed(2),
  pct: r => r == null ? '—' : (r * 100).toFixed(1) + '%',
  n: v => v == null ? '—' : Number(v).toLocaleString(),
};

function badge(text) { return el('span', { class: 'badge ' + String(text || '').toLowerCase() }, text || '—'); }

// A table; each column is [heading, cell(row)]. Narrow screens show it as labelled rows.
function table(label, columns, rows, empty) {
  if (!rows.length) return el('p', { class: 'muted' }, empty || 'Nothing here yet.');
  const head = el('tr', {}, columns.map(([h]) => el('th', { scope: 'col' }, h || el('span', { class: 'vh' }, 'Actions'))));
  const body = rows.map(r => el('tr', {}, columns.map(([h, cell]) => el('td', { 'data-label': h || null }, cell(r)))));
  return el('div', { class: 'scroll' }, el('table', { class: 'wide', 'aria-label': label }, el('thead', {}, head), el('tbody', {}, body)));
}

// Paging by cursor: "Newer" goes back through the cursors seen, "Older" forward.
function pager(cursors, next, go) {
  const row = el('div', { class: 'row' });
  if (cursors.length) row.append(el('button', { class: 'secondary', onclick: () => go(cursors.slice(0, -1), cursors[cursors.length - 2]) }, 'Newer'));
  if (next) row.append(el('button', { class: 'secondary', onclick: () => go([...cursors, next], next) }, 'Older'));
  return row;
}

function field(label, input) { return el('label', {}, label, input); }
function formData(form) { return Object.fromEntries(new FormData(form).entries()); }
function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
}
const isOwner = () => state.me && state.me.user.role === 'owner';
const isOperator = () => state.me && state.me.user.role === 'operator';
