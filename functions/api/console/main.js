// Sign-in, the header and the router: fixed paths, one page each.
const ROUTES = [
  [/^\/console\/?$/, dashboardPage, 'Home'], [/^\/console\/messages\/?$/, messagesPage, 'Messages'],
  [/^\/console\/messages\/([^/]+)$/, messagePage], [/^\/console\/send$/, sendPage, 'Send'],
  [/^\/console\/calls\/?$/, callsPage, 'Calls'], [/^\/console\/calls\/([^/]+)$/, callPage],
  [/^\/console\/dead-letters$/, deadLettersPage, 'Dead letters'], [/^\/console\/dnc$/, dncPage, 'Do not contact'],
  [/^\/console\/numbers$/, numbersPage, 'Numbers'], [/^\/console\/keys$/, keysPage, 'Keys', 'owner'],
  [/^\/console\/users$/, usersPage, 'People', 'owner'], [/^\/console\/settings$/, settingsPage, 'Settings'],
  [/^\/console\/ops\/?$/, opsPage, 'Operations', 'operator'], [/^\/console\/ops\/tenants$/, opsTenantsPage, 'Tenants', 'operator'],
  [/^\/console\/ops\/audit$/, opsAuditPage, 'Audit log', 'operator'],
];
const PATHS = { Home: '/console', Messages: '/console/messages', Send: '/console/send', Calls: '/console/calls', 'Dead letters': '/console/dead-letters',
  'Do not contact': '/console/dnc', Numbers: '/console/numbers', Keys: '/console/keys', People: '/console/users', Settings: '/console/settings',
  Operations: '/console/ops', Tenants: '/console/ops/tenants', 'Audit log': '/console/ops/audit' };

function header() {
  const role = state.me.user.role;
  const links = ROUTES.filter(r => r[2] && (role === 'operator' ? r[3] === 'operator' : r[3] !== 'operator' && (r[3] !== 'owner' || role === 'owner')));
  const here = location.pathname.replace(/\/$/, '') || '/console';
  // The link whose path is the longest one the page's path starts with is the current one.
  const best = links.map(r => PATHS[r[2]]).filter(p => here === p || here.startsWith(p + '/')).sort((a, b) => b.length - a.length)[0];
  const nav = el('nav', { 'aria-label': 'Main' }, el('ul', {}, links.map(r => el('li', {},
    el('a', { href: PATHS[r[2]], 'aria-current': PATHS[r[2]] === best ? 'page' : null }, r[2])))));
  const narrow = window.matchMedia('(max-width: 700px)').matches;
  document.getElementById('top').replaceChildren(
    el('a', { class: 'brand', href: '/console' }, 'Herald'),
    narrow ? el('details', { class: 'menu' }, el('summary', {}, 'Menu'), nav) : nav,
    el('span', { class: 'who' }, role === 'operator' ? `${state.me.user.email} · Herald operator` : `${state.me.user.email} · ${state.me.tenant_name} (${role})`),
    el('button', { class: 'secondary', onclick: signOut }, 'Sign out'));
}

async function signOut() {
  await fetch('/v1/session', { method: 'DELETE', credentials: 'same-origin' });
  state.me = null;
  location.assign('/console/login');
}

function loginPage() {
  document.getElementById('top').replaceChildren(el('span', { class: 'brand' }, 'Herald'));
  const next = new URLSearchParams(location.search).get('next');
  const done = () => location.assign(next && next.startsWith('/console') ? next : '/console');
  const box = el('div', { class: 'login' });
  const signIn = el('form', { class: 'stack', onsubmit: e => { e.preventDefault(); const f = formData(signIn);
    act(e.submitter, async () => {
      const r = await api('POST', '/v1/session', { email: f.email, password: f.password });
      if (r.challenge === 'NEW_PASSWORD_REQUIRED') return choose(f.email, r.session);
      done();
    }); } },
    field('Email', el('input', { name: 'email', type: 'email', autocomplete: 'username', required: true })),
    field('Password', el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    el('button', { type: 'submit' }, 'Sign in'));
  const choose = (email, session) => {
    const form = el('form', { class: 'stack', onsubmit: e => { e.preventDefault(); const f = formData(form);
      if (f.new_password !== f.again) { form.prepend(alertBox(new Error('The two passwords differ. Type the same password twice.'))); return; }
      act(e.submitter, async () => { await api('POST', '/v1/session/password', { email, session, new_password: f.new_password }); done(); }); } },
      el('p', {}, 'Welcome! Choose your own password: at least 8 characters, with a capital, a small letter, a digit and a symbol.'),
      field('New password', el('input', { name: 'new_password', type: 'password', autocomplete: 'new-password', required: true })),
      field('New password again', el('input', { name: 'again', type: 'password', autocomplete: 'new-password', required: true })),
      el('button', { type: 'submit' }, 'Set password and sign in'));
    box.replaceChildren(form);
    document.querySelector('h1').textContent = 'Choose a password';
  };
  box.append(signIn);
  page('Sign in', box);
}

async function render() {
  state.gen += 1;
  const path = location.pathname;
  if (path === '/console/login') return loginPage();
  if (!state.me) {
    try { state.me = await api('GET', '/v1/session'); } catch (e) {
      if (e.status === 401) return location.replace('/console/login?next=' + encodeURIComponent(path + location.search));
      if (!e.quiet) page('Herald is unavailable', alertBox(e));
      return;
    }
  }
  header();
  const route = ROUTES.find(r => r[0].test(path));
  if (!route) return page('Page not found', el('p', {}, 'There is no such page. ', el('a', { href: '/console' }, 'Go home')));
  try { await route[1](...path.match(route[0]).slice(1).map(decodeURIComponent)); main().focus({ preventScroll: true }); }
  catch (e) { if (!e.quiet) page(route[2] || 'Something went wrong', alertBox(e)); }
}

function navigate(to, replace) {
  if (replace) history.replaceState(null, '', to); else history.pushState(null, '', to);
  return render();
}

document.addEventListener('click', e => {
  const a = e.target.closest('a[href^="/console"]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || a.target) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', render);
render();
