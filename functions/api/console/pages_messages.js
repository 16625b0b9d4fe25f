// The dashboard, messages, one message's timeline, and compose.
const COLORS = { delivered: '#17663a', failed: '#a4161a', other: '#7c8a99' };

function chart(days) {
  const W = 700, H = 220, pad = 28, bw = (W - pad) / days.length;
  const max = Math.max(1, ...days.map(d => d.accepted));
  const y = v => (H - 24) * v / max;
  const bars = days.flatMap((d, i) => {
    const other = Math.max(0, d.accepted - d.delivered - d.failed);
    let top = H - 20;
    return [['delivered', d.delivered], ['failed', d.failed], ['other', other]].map(([k, v]) => {
      top -= y(v);
      return svg('rect', { x: pad + i * bw + 2, y: top, width: Math.max(1, bw - 4), height: y(v), fill: COLORS[k] },
        svg('title', {}, `${d.date}: ${v} ${k === 'other' ? 'pending or held' : k}`));
    });
  });
  const labels = days.map((d, i) => (days.length - 1 - i) % 2 === 0 || days.length < 8
    ? svg('text', { x: pad + i * bw + bw / 2, y: H - 4, 'font-size': 11, 'text-anchor': 'middle', fill: '#4a5562' }, d.date.slice(5)) : null);
  const total = days.reduce((a, d) => a + d.accepted, 0);
  const summary = `Messages per day for the last ${days.length} days: ${total} in all, ` +
    `${days.reduce((a, d) => a + d.delivered, 0)} delivered, ${days.reduce((a, d) => a + d.failed, 0)} failed.`;
  return el('figure', { class: 'chart' },
    svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary },
      svg('text', { x: 0, y: 12, 'font-size': 11, fill: '#4a5562' }, String(max)), ...bars, ...labels),
    el('figcaption', { class: 'legend' },
      el('span', { class: 'k-delivered' }, 'Delivered'), el('span', { class: 'k-failed' }, 'Failed'),
      el('span', { class: 'k-other' }, 'Pending or held')));
}

function card(label, value) { return el('div', { class: 'card' }, el('div', { class: 'n' }, value), el('div', { class: 'l' }, label)); }

function outcomeCards(o, budget) {
  return el('div', { class: 'cards' }, card('Accepted', fmt.n(o.accepted)), card('Delivered', fmt.n(o.delivered)),
    card('Failed', fmt.n(o.failed)), card('Delivery rate', fmt.pct(o.delivery_rate)),
    card(budget ? 'Spent of ' + fmt.money(budget) : 'Spent', fmt.money(o.cost_cents)));
}

async function dashboardPage() {
  if (isOperator()) return navigate('/console/ops', true);
  page('Home', el('p', { class: 'muted' }, 'Loading your numbers…'));
  const d = await api('GET', '/v1/tenant/stats?days=14');
  const tenant = await api('GET', '/v1/tenant');
  const paused = tenant.paused ? el('div', { class: 'warn', role: 'status' }, 'Sending is paused. ',
    el('a', { href: '/console/settings' }, 'Resume it in Settings')) : null;
  page('Home', paused,
    el('h2', {}, 'Today'), outcomeCards(d.today, d.daily_budget_cents),
    el('h2', {}, 'This month'), outcomeCards(d.month, d.monthly_budget_cents),
    el('h2', {}, 'Last 14 days'), d.days.some(x => x.accepted) ? chart(d.days) : el('p', { class: 'muted' }, 'No messages in the last 14 days yet.'),
    el('div', { class: 'row' }, el('a', { class: 'button', href: '/console/send' }, 'Send a message')));
}

const STATUSES = ['', 'scheduled', 'queued', 'deferred', 'sending', 'sent', 'delivered', 'read', 'failed', 'canceled', 'suppressed'];

async function messagesPage() {
  const p = new URLSearchParams(location.search);
  const form = el('form', { class: 'filters', role: 'search', onsubmit: e => {
    e.preventDefault();
    const f = formData(form);
    navigate('/console/messages' + qs({ to: f.to, status: f.status, channel: f.channel,
      since: f.since && new Date(f.since).toISOString(), until: f.until && new Date(f.until + 'T23:59:59').toISOString() }));
  } },
    field('Recipient', el('input', { name: 'to', value: p.get('to') || '', placeholder: 'Phone or email', autocomplete: 'off' })),
    field('Status', el('select', { name: 'status' }, STATUSES.map(s => el('option', { value: s, selected: p.get('status') === s }, s || 'Any')))),
    field('Channel', el('select', { name: 'channel' }, ['', 'sms', 'email', 'whatsapp'].map(s => el('option', { value: s, selected: p.get('channel') === s }, s || 'Any')))),
    field('From date', el('input', { type: 'date', name: 'since', value: (p.get('since') || '').slice(0, 10) })),
    field('To date', el('input', { type: 'date', name: 'until', value: (p.get('until') || '').slice(0, 10) })),
    el('button', { type: 'submit' }, 'Search'));
  const results = el('section', { 'aria-live': 'polite' });
  page('Messages', form, results);
  const load = async (cursors, cursor) => {
    const q = Object.fromEntries(p.entries());
    const data = await api('GET', '/v1/messages' + qs({ ...q, cursor, limit: 25 }));
    results.replaceChildren(table('Messages', [
      ['To', m => el('a', { href: '/console/messages/' + m.id }, m.to)],
      ['Channel', m => m.channel], ['Status', m => badge(m.status)],
      ['Sent', m => fmt.when(m.created_at)], ['Cost', m => fmt.money(m.estimated_cost_cents)],
    ], data.messages, 'No messages match. Change the search above.'), pager(cursors, data.next_cursor, load));
  };
  await load([], undefined);
}

async function messagePage(id) {
  const m = await api('GET', '/v1/messages/' + encodeURIComponent(id));
  const events = [...m.history.map(h => ({ at: h.at, what: 'Status: ' + h.status })),
    ...m.attempts.map(a => ({ at: a.at, what: `Attempt ${a.n} with ${a.provider}: ${a.outcome}` + (a.error_code ? ` (${a.error_code})` : '') }))]
    .sort((a, b) => new Date(a.at) - new Date(b.at));
  const why = m.error_code ? el('div', { class: 'alert' }, el('strong', {}, 'Why it failed: '),
    (m.error_message || m.error_code) + '. ', el('span', {}, ERROR_HELP[m.error_code] || 'Check the number or address, then send again.')) : null;
  page('Message to ' + m.to, why,
    el('div', { class: 'cards' }, card('Status', m.status), card('Channel', m.channel),
      card('Segments', fmt.n(m.segments)), card('Cost', fmt.money(m.estimated_cost_cents))),
    m.body ? el('p', {}, el('strong', {}, 'Text: '), m.body) : null,
    el('h2', {}, 'Timeline'),
    el('ol', { class: 'timeline' }, events.map(e => el('li', {}, el('time', { datetime: new Date(e.at).toISOString() }, fmt.when(e.at)), ' — ', e.what))),
    el('p', {}, el('a', { href: '/console/messages' }, 'Back to messages')));
}

const ERROR_HELP = {
  INVALID_PHONE_NUMBER: 'The number cannot receive texts. Check it with the person.',
  UNDELIVERABLE: 'The phone was off, out of coverage or blocked it. Try again later, or reach them another way.',
  RECIPIENT_OPTED_OUT: 'The person replied STOP. They must reply START before you can text them.',
  QUOTA_EXCEEDED: 'A sending limit was reached. It resets tomorrow; the message can be retried then.',
  ACCOUNT_SUSPENDED: 'The provider account is suspended. Tell the Herald operator.',
  AUTHENTICATION_ERROR: 'The provider refused the account\'s credentials. An owner should check Channels, or tell the operator.',
  WINDOW_EXPIRED: 'WhatsApp allows free-form text only within 24 hours of their last message. Use an approved template.',
  TEMPLATE_NOT_APPROVED: 'The WhatsApp template is not approved yet.',
  PROVIDER_ERROR: 'The provider failed. Retry it from Dead letters.',
  TEMPORARY_ERROR: 'A temporary failure. Retry it from Dead letters.',
  RATE_LIMIT_EXCEEDED: 'The provider asked Herald to slow down. Retry it from Dead letters.',
};

async function sendPage() {
  const info = el('p', { class: 'muted', 'aria-live': 'polite' }, 'Type a message to see its size and cost.');
  const form = el('form', { class: 'stack' },
    field('Channel', el('select', { name: 'channel' }, el('option', { value: 'sms' }, 'Text message (SMS)'), el('option', { value: 'email' }, 'Email'))),
    field('To', el('input', { name: 'to', required: true, autocomplete: 'off', placeholder: '+1 512 555 0100 or name@example.org' })),
    field('Subject (email only)', el('input', { name: 'subject' })),
    field('Message', el('textarea', { name: 'body', required: true, maxlength: 1600 })),
    info, el('button', { type: 'submit' }, 'Send'));
  let timer;
  const body = () => { const f = formData(form); return f.channel === 'email' ? { channel: 'email', to: f.to, subject: f.subject, body: f.body } : { channel: 'sms', to: f.to, body: f.body }; };
  form.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(async () => {
    const b = body(); if (!b.to || !b.body) return;
    try { const p = await api('POST', '/v1/messages/preview', b);
      info.textContent = `${p.characters} characters, ${p.segments} segment${p.segments === 1 ? '' : 's'}` + (p.encoding ? ` (${p.encoding})` : '') + `, about ${fmt.money(p.estimated_cost_cents)}.`;
    } catch (e) { info.textContent = e.message; }
  }, 300); });
  form.addEventListener('submit', e => { e.preventDefault(); act(e.submitter || form.querySelector('button'), async () => {
    const out = await api('POST', '/v1/messages', body());
    navigate('/console/messages/' + out.id);
  }); });
  page('Send a message', form);
}
