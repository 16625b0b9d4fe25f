// Calls and voicemail, dead letters, do-not-contact, numbers, keys, users.
async function callsPage() {
  const results = el('section', { 'aria-live': 'polite' });
  page('Calls', results);
  const load = async (cursors, cursor) => {
    const data = await api('GET', '/v1/calls' + qs({ cursor, limit: 25 }));
    results.replaceChildren(table('Calls', [
      ['From', c => el('a', { href: '/console/calls/' + c.call_sid }, c.from)],
      ['Outcome', c => badge(c.outcome || c.status)],
      ['Voicemail', c => c.recording ? `${c.recording.duration_s || 0} s` : '—'],
      ['When', c => fmt.when(c.created_at)],
    ], data.calls, 'No calls yet. Calls to your numbers show up here.'), pager(cursors, data.next_cursor, load));
  };
  await load([], undefined);
}

async function callPage(sid) {
  const c = await api('GET', '/v1/calls/' + encodeURIComponent(sid));
  const voicemail = c.recording
    ? [el('h2', {}, 'Voicemail'), el('audio', { controls: true, preload: 'none', src: `/v1/calls/${encodeURIComponent(sid)}/recording`, 'aria-label': 'Voicemail from ' + c.from }),
      el('p', {}, el('strong', {}, 'Transcription: '), c.transcription && c.transcription.text ? c.transcription.text : (c.transcription ? 'not ready yet' : 'none'))]
    : [el('p', { class: 'muted' }, 'No voicemail was left.')];
  const textBack = c.text_back_message_id
    ? el('p', {}, 'A text was sent back: ', el('a', { href: '/console/messages/' + c.text_back_message_id }, 'see the message'))
    : el('p', { class: 'muted' }, 'No text was sent back' + (c.text_back_skipped ? ` (${c.text_back_skipped.replace(/_/g, ' ').toLowerCase()})` : '') + '.');
  page('Call from ' + c.from, el('div', { class: 'cards' }, card('Outcome', c.outcome || c.status), card('To', c.to), card('When', fmt.when(c.created_at))),
    ...voicemail, el('h2', {}, 'Text back'), textBack, el('p', {}, el('a', { href: '/console/calls' }, 'Back to calls')));
}

async function deadLettersPage() {
  const stats = await api('GET', '/v1/dlq/stats');
  const groups = stats.stats || stats;
  const retry = (g) => async e => {
    if (!await confirmFirst(`Send the ${g.count} failed ${g.channel} message(s) with "${g.error_code}" again?`, 'Retry')) return;
    await act(e.target, () => api('POST', '/v1/dlq/retry', { channel: g.channel, error_code: g.error_code }), r => `${r.requeued} message(s) sent again.`);
  };
  const archive = (g) => async e => {
    if (!await confirmFirst(`Archive the ${g.count} failed ${g.channel} message(s) with "${g.error_code}"? They will not be sent.`, 'Archive')) return;
    await act(e.target, () => api('POST', '/v1/dlq/archive', { channel: g.channel, error_code: g.error_code }), r => `${r.archived} archived.`);
  };
  page('Dead letters', el('p', { class: 'muted' }, 'Messages that failed for good, grouped by why. Retry sends them again; archive puts them away.'),
    table('Dead letters by error', [
      ['Error', g => el('span', {}, g.error_code, el('br'), el('small', { class: 'muted' }, ERROR_HELP[g.error_code] || ''))],
      ['Channel', g => g.channel], ['Messages', g => fmt.n(g.count)], ['Last', g => fmt.when(g.last_occurrence)],
      ['', g => el('span', { class: 'row' }, el('button', { onclick: retry(g) }, 'Retry'), el('button', { class: 'secondary', onclick: archive(g) }, 'Archive'))],
    ], groups, 'No dead letters. Every message reached an end.'));
}

async function dncPage() {
  const list = el('section', { 'aria-live': 'polite' });
  const form = el('form', { class: 'filters', onsubmit: e => { e.preventDefault(); const f = formData(form);
    act(e.submitter, () => api('PUT', '/v1/dnc/' + encodeURIComponent(f.address), { reason: f.reason || 'MANUAL' }), 'Added. Nothing more will be sent to them.').then(() => load([], undefined)); } },
    field('Phone or email', el('input', { name: 'address', required: true, autocomplete: 'off' })),
    field('Reason', el('input', { name: 'reason', placeholder: 'Asked by phone' })), el('button', { type: 'submit' }, 'Add'));
  const remove = a => async e => {
    if (!await confirmFirst(`Remove ${a} from Do not contact? Only do this if they asked to hear from you again.`, 'Remove')) return;
    await act(e.target, () => api('DELETE', '/v1/dnc/' + encodeURIComponent(a)), 'Removed.');
    load([], undefined);
  };
  page('Do not contact', el('p', { class: 'muted' }, 'People here get nothing from you. Replies of STOP add people automatically.'), form, list);
  const load = async (cursors, cursor) => {
    const data = await api('GET', '/v1/dnc' + qs({ cursor, limit: 25 }));
    list.replaceChildren(table('Do not contact', [
      ['Who', d => d.address], ['Why', d => d.reason], ['Added by', d => d.source], ['When', d => fmt.date(d.created_at)],
      ['', d => el('button', { class: 'secondary', onclick: remove(d.address), 'aria-label': 'Remove ' + d.address }, 'Remove')],
    ], data.entries, 'Nobody is on the list.'), pager(cursors, data.next_cursor, load));
  };
  await load([], undefined);
}

async function numbersPage() {
  const numbers = await api('GET', '/v1/numbers');
  const linking = async n => { try { return await api('GET', `/v1/numbers/${encodeURIComponent(n.phone_number)}/linking`); } catch (_) { return null; } };
  const states = await Promise.all(numbers.map(n => n.provider === 'telnyx' ? linking(n) : null));
  const retry = n => e => act(e.target, () => api('POST', `/v1/numbers/${encodeURIComponent(n.phone_number)}/linking/retry`), 'Linking again; check back in a few minutes.');
  const buy = el('form', { class: 'filters', onsubmit: async e => {
    e.preventDefault();
    const f = formData(buy);
    if (!await confirmFirst(`Buy a ${f.provider} number in area code ${f.area_code}? It is billed every month.`, 'Buy')) return;
    const n = await act(e.submitter, () => api('POST', '/v1/numbers', { provider: f.provider, area_code: f.area_code, purchase: true }));
    if (n) { await numbersPage(); told(`Bought ${n.phone_number}: it is yours to send from.`); }
  } },
    field('Area code', el('input', { name: 'area_code', inputmode: 'numeric', pattern: '[0-9]{3}', maxlength: 3, required: true, placeholder: '415' })),
    field('Provider', el('select', { name: 'provider' }, el('option', { value: 'twilio' }, 'Twilio'), el('option', { value: 'telnyx' }, 'Telnyx'))),
    el('button', { type: 'submit' }, 'Buy a number'));
  page('Numbers', table('Your numbers', [
    ['Number', n => n.phone_number], ['Provider', n => n.provider], ['Added', n => fmt.date(n.created_at)],
    ['Ready to send', (n) => { const s = states[numbers.indexOf(n)]; return s ? el('span', {}, badge(s.status), s.can_retry && isOwner() ? el('button', { class: 'secondary', onclick: retry(n) }, 'Retry linking') : null) : 'yes'; }],
  ], numbers, 'No numbers yet.'), isOwner() ? [el('h2', {}, 'Get a new number'), buy] : null);
}

async function keysPage() {
  const data = await api('GET', '/v1/keys');
  const shown = el('section', { 'aria-live': 'polite' });
  const create = e => act(e.target, async () => {
    const k = await api('POST', '/v1/keys', { mode: 'live' });
    shown.replaceChildren(el('div', { class: 'notice' }, el('p', {}, 'Your new key. Copy it now: it is shown only once.'), el('p', { class: 'secret' }, k.api_key || k.key)));
  });
  const revoke = k => async e => {
    if (!await confirmFirst(`Revoke key ${k.key_id}? Anything using it stops working at once.`, 'Revoke')) return;
    await act(e.target, () => api('DELETE', '/v1/keys/' + k.key_id));
    await keysPage();
    told(`Key ${k.key_id} was revoked.`);
  };
  page('API keys', el('p', { class: 'muted' }, 'Keys let your other software send through Herald.'), shown,
    el('div', { class: 'row' }, el('button', { onclick: create }, 'Create a key')),
    table('Keys', [['Key', k => k.key_id], ['Kind', k => k.mode], ['Created', k => fmt.date(k.created_at)], ['Last used', k => fmt.when(k.last_used_at)],
      ['', k => el('button', { class: 'danger', onclick: revoke(k), 'aria-label': 'Revoke ' + k.key_id }, 'Revoke')]], data.keys));
}

async function usersPage() {
  const data = await api('GET', '/v1/users');
  const form = el('form', { class: 'filters', onsubmit: e => { e.preventDefault(); const f = formData(form);
    act(e.submitter, () => api('POST', '/v1/users', { email: f.email, role: f.role })).then(async u => {
      if (u) { await usersPage(); told(`Invited ${u.email}: they get an email with a temporary password.`); }
    }); } },
    field('Email', el('input', { name: 'email', type: 'email', required: true, autocomplete: 'off' })),
    field('Role', el('select', { name: 'role' }, el('option', { value: 'member' }, 'Member: reads and sends'), el('option', { value: 'owner' }, 'Owner: also changes settings'))),
    el('button', { type: 'submit' }, 'Invite'));
  const remove = u => async e => {
    if (!await confirmFirst(`Remove ${u.email}? They are signed out everywhere and cannot sign in again.`, 'Remove')) return;
    if (await act(e.target, () => api('DELETE', '/v1/users/' + u.id))) { await usersPage(); told(`${u.email} was removed.`); }
  };
  page('People', el('h2', {}, 'Invite someone'), form, el('h2', {}, 'Who can sign in'), table('People', [
    ['Email', u => u.email], ['Role', u => u.role], ['Status', u => badge(u.status)], ['Last sign-in', u => fmt.when(u.last_sign_in_at)],
    ['', u => u.status !== 'disabled' && u.id !== state.me.user.id ? el('button', { class: 'danger', onclick: remove(u), 'aria-label': 'Remove ' + u.email }, 'Remove') : null],
  ], data.users));
}
