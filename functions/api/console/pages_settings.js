// Settings (the kill switch first), and the operator's pages.
async function settingsPage() {
  const [t, voice] = await Promise.all([api('GET', '/v1/tenant'), api('GET', '/v1/voice').catch(() => null)]);
  const pause = async e => {
    if (!await confirmFirst('Pause all sending? Messages wait, held, until you resume.', 'Pause sending')) return;
    if (await act(e.target, () => api('POST', '/v1/tenant/pause', { reason: 'paused from the console' }))) {
      await settingsPage();
      told('Sending is paused. Nothing goes out until you resume.');
    }
  };
  const resume = async e => {
    const r = await act(e.target, () => api('POST', '/v1/tenant/resume'));
    if (r) { await settingsPage(); told(`Sending resumed; ${r.released} held message(s) are on their way.`); }
  };
  const kill = el('section', {}, el('h2', {}, 'Sending'),
    t.paused ? el('div', { class: 'warn' }, `Paused ${fmt.when(t.paused.at)}: ${t.paused.reason}`) : el('p', {}, 'Sending is on.'),
    el('div', { class: 'row' }, t.paused ? el('button', { onclick: resume }, 'Resume sending') : el('button', { class: 'danger', onclick: pause }, 'Pause sending')));
  const cents = v => v === '' ? null : Math.round(Number(v) * 100);
  const limits = el('form', { class: 'stack', onsubmit: e => { e.preventDefault(); const f = formData(limits);
    const quiet = f.quiet_start && f.quiet_end ? { start: f.quiet_start, end: f.quiet_end } : null;
    act(e.submitter, () => api('PATCH', '/v1/tenant', { quiet_hours: quiet, daily_budget_cents: cents(f.daily), monthly_budget_cents: cents(f.monthly) }), 'Saved.'); } },
    el('h2', {}, 'Quiet hours and spending limits'),
    el('p', { class: 'muted' }, `Times are in ${t.timezone}. Texts due in quiet hours wait until they end.`),
    field('Quiet from', el('input', { type: 'time', name: 'quiet_start', value: t.quiet_hours ? t.quiet_hours.start : '' })),
    field('Quiet until', el('input', { type: 'time', name: 'quiet_end', value: t.quiet_hours ? t.quiet_hours.end : '' })),
    field('Daily limit in dollars (empty: none)', el('input', { type: 'number', min: 0, step: '0.01', name: 'daily', value: t.daily_budget_cents == null ? '' : t.daily_budget_cents / 100 })),
    field('Monthly limit in dollars (empty: none)', el('input', { type: 'number', min: 0, step: '0.01', name: 'monthly', value: t.monthly_budget_cents == null ? '' : t.monthly_budget_cents / 100 })),
    el('button', { type: 'submit' }, 'Save limits'));
  const calls = voice ? el('form', { class: 'stack', onsubmit: e => { e.preventDefault(); const f = formData(calls);
    act(e.submitter, () => api('PUT', '/v1/voice', { ...voice, forward_to: f.forward_to, missed_call_text: f.missed_call_text, greeting: f.greeting,
      text_back: f.text_back === 'on', record_voicemail: f.record_voicemail === 'on', callback_url: f.callback_url || null }), 'Saved.'); } },
    el('h2', {}, 'Calls'),
    field('Forward calls to', el('input', { name: 'forward_to', value: voice.forward_to || '' })),
    field('Greeting', el('input', { name: 'greeting', value: voice.greeting || '' })),
    field('Text to missed callers', el('textarea', { name: 'missed_call_text' }, voice.missed_call_text || '')),
    el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'text_back', checked: voice.text_back }), ' Text missed callers back'),
    el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'record_voicemail', checked: voice.record_voicemail }), ' Take voicemail'),
    field('Callback URL for call events (https)', el('input', { name: 'callback_url', type: 'url', value: voice.callback_url || '' })),
    el('button', { type: 'submit' }, 'Save call settings')) : el('p', { class: 'muted' }, 'Calls are not set up for this account.');
  page('Settings', kill, limits, calls);
  if (!isOwner()) main().querySelectorAll('button').forEach(b => { b.disabled = true; b.title = 'Only an owner can change settings'; });
  if (!isOwner()) main().insertBefore(el('div', { class: 'warn' }, 'Only an owner of this account can change settings.'), main().children[1]);
}

async function opsPage() {
  const [s, queues, health] = await Promise.all([api('GET', '/v1/admin/stats?window=24h'), api('GET', '/v1/system/queues'), api('GET', '/v1/system/health/providers')]);
  const circuit = (p, action) => async e => {
    if (!await confirmFirst(`${action === 'open' ? 'Stop' : 'Resume'} sending through ${p.provider} account ${p.account}?`, action === 'open' ? 'Open circuit' : 'Close circuit')) return;
    await act(e.target, () => api('POST', `/v1/admin/circuits/${p.provider}/${encodeURIComponent(p.account)}/${action}`, { reason: 'from the console' }), 'Done.');
    opsPage();
  };
  page('Operations',
    el('h2', {}, 'Last 24 hours'),
    el('div', { class: 'cards' }, card('Accepted', fmt.n(s.accepted)), card('Delivered', fmt.n(s.delivered)), card('Failed', fmt.n(s.failed)),
      card('Delivery rate', fmt.pct(s.delivery_rate)), card('p50 latency', s.latency_ms.p50 == null ? '—' : s.latency_ms.p50 + ' ms'),
      card('p95 latency', s.latency_ms.p95 == null ? '—' : s.latency_ms.p95 + ' ms'), card('p99 latency', s.latency_ms.p99 == null ? '—' : s.latency_ms.p99 + ' ms')),
    el('h2', {}, 'Errors'), table('Errors by code', [['Code', r => r[0]], ['Messages', r => fmt.n(r[1])]], Object.entries(s.by_error_code), 'No errors.'),
    el('h2', {}, 'Queues'), table('Queues', [['Queue', q => q.queue], ['Waiting', q => fmt.n(q.depth)], ['In flight', q => fmt.n(q.in_flight)],
      ['Dead letters', q => fmt.n(q.dlq_depth)], ['Held', q => Object.entries(q.held).map(([k, v]) => `${k}: ${v}`).join(', ') || '—']], queues),
    el('h2', {}, 'Circuits'), table('Circuits', [['Provider', p => p.provider], ['Account', p => p.account], ['State', p => badge(p.state)],
      ['Failures', p => `${p.window_failures} of ${p.window_attempts}`],
      ['', p => p.state === 'closed' ? el('button', { class: 'danger', onclick: circuit(p, 'open') }, 'Open') : el('button', { onclick: circuit(p, 'close') }, 'Close')]],
    health, 'No provider has been called yet.'));
}

async function opsTenantsPage() {
  const p = new URLSearchParams(location.search);
  const form = el('form', { class: 'filters', role: 'search', onsubmit: e => { e.preventDefault(); navigate('/console/ops/tenants' + qs({ q: formData(form).q })); } },
    field('Name or id', el('input', { name: 'q', value: p.get('q') || '', autocomplete: 'off' })), el('button', { type: 'submit' }, 'Search'));
  const list = el('section', { 'aria-live': 'polite' });
  const ask = (t, what, path) => async e => {
    const reason = window.prompt(`Why ${what} ${t.name}? (kept in the audit log)`);
    if (!reason) return;
    await act(e.target, () => api('POST', `/v1/admin/tenants/${t.id}/${path}`, path === 'pause' ? { reason } : undefined), 'Done.');
    load([], undefined);
  };
  page('Tenants', form, list);
  const load = async (cursors, cursor) => {
    const data = await api('GET', '/v1/admin/tenants' + qs({ q: p.get('q'), cursor, limit: 25 }));
    list.replaceChildren(table('Tenants', [['Name', t => t.name], ['Id', t => el('small', {}, t.id)],
      ['Sending', t => t.paused_by ? badge('paused') : 'on'],
      ['', t => el('span', { class: 'row' }, t.paused_by ? el('button', { onclick: ask(t, 'resume', 'resume') }, 'Resume') : el('button', { class: 'danger', onclick: ask(t, 'pause', 'pause') }, 'Pause'),
        el('button', { class: 'secondary', onclick: ask(t, 'reset the budget of', 'budget/reset') }, 'Reset budget'))]],
    data.tenants, 'No tenant matches.'), pager(cursors, data.next_cursor, load));
  };
  await load([], undefined);
}

async function opsAuditPage() {
  const p = new URLSearchParams(location.search);
  const form = el('form', { class: 'filters', role: 'search', onsubmit: e => { e.preventDefault(); const f = formData(form); navigate('/console/ops/audit' + qs(f)); } },
    field('Tenant id', el('input', { name: 'tenant_id', value: p.get('tenant_id') || '', autocomplete: 'off' })),
    field('Action', el('input', { name: 'action', value: p.get('action') || '', placeholder: 'tenant.pause', autocomplete: 'off' })),
    el('button', { type: 'submit' }, 'Search'));
  const list = el('section', { 'aria-live': 'polite' });
  page('Audit log', form, list);
  const load = async (cursors, cursor) => {
    const data = await api('GET', '/v1/admin/audit' + qs({ tenant_id: p.get('tenant_id'), action: p.get('action'), cursor, limit: 50 }));
    list.replaceChildren(table('Audit log', [['When', a => fmt.when(a.at)], ['Who', a => a.actor], ['Tenant', a => a.tenant_id || '—'],
      ['What', a => a.action], ['Detail', a => el('small', {}, JSON.stringify(a.detail))]], data.entries), pager(cursors, data.next_cursor, load));
  };
  await load([], undefined);
}
