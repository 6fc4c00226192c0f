// The shell: header, navigation per role, language switch and a small history router.

import * as api from './api.js';
import { t, label, getLang, setLang, loadVocabulary } from './i18n.js';
import { h, clear, announce, errorBox, loading } from './ui.js';
import { loginPage, totpPage } from './login.js';
import { filePage } from './file.js';
import { incidentsPage } from './incidents.js';
import { detailPage } from './detail.js';
import { queuePage } from './queue.js';
import { statsPage } from './stats.js';
import { dispatchesPage } from './dispatches.js';
import { inboxPage } from './conversation.js';
import { mapPage, campaignsPage, campaignPage } from './national.js';
import { advisoriesPage, advisoryPage, advisoryNewPage, advisoryAckPage } from './advisories.js';
import { profilePage } from './profile.js';

const state = { me: null, cleanup: [] };

/** Pages anyone may open without signing in. */
const PUBLIC = new Set(['/login', '/advisory-ack']);

export function me() { return state.me; }

/** The landing page of each role. */
function home(role) {
  switch (role) {
    case 'duty_officer': return '/queue';
    case 'responder': return '/dispatches';
    default: return '/incidents';
  }
}

function navItems(role) {
  switch (role) {
    case 'reporter': return [['/incidents', 'nav_incidents'], ['/file', 'nav_file'], ['/advisories', 'nav_advisories'], ['/profile', 'nav_profile']];
    case 'duty_officer': return [['/queue', 'nav_queue'], ['/map', 'nav_map'], ['/campaigns', 'nav_campaigns'], ['/advisories', 'nav_advisories'],
      ['/inbox', 'nav_inbox'], ['/file?proxy=1', 'nav_proxy'], ['/stats', 'nav_stats']];
    case 'responder': return [['/dispatches', 'nav_dispatches']];
    default: return [['/incidents', 'nav_incidents']];
  }
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route();
}

/** Registers a function to run when the page is left (timers, listeners). */
export function onLeave(fn) { state.cleanup.push(fn); }

function renderHeader() {
  const top = clear(document.getElementById('top'));
  const path = location.pathname + location.search;
  const langBtn = h('button', {
    type: 'button', class: 'link-button lang', lang: getLang() === 'ja' ? 'en' : 'ja',
    'aria-label': t('lang_switch_label'),
    on: { click: () => { setLang(getLang() === 'ja' ? 'en' : 'ja'); route(); } },
  }, t('lang_switch'));
  const brand = h('a', { href: state.me ? home(state.me.role) : '/login', class: 'brand' },
    h('img', { src: '/assets/icon.svg', alt: '', width: 28, height: 28 }), h('span', {}, t('app')));
  const row = h('div', { class: 'top-row' }, brand, h('div', { class: 'top-actions' }, langBtn,
    state.me ? h('button', { type: 'button', class: 'link-button', on: { click: signOut } }, t('sign_out')) : null));
  top.append(row);
  if (state.me) {
    top.append(h('p', { class: 'who' }, `${state.me.name}（${label('role', state.me.role)}・${state.me.org.name}）`));
    top.append(h('nav', { 'aria-label': t('main_nav') }, h('ul', { class: 'nav' },
      navItems(state.me.role).map(([href, key]) => h('li', {},
        h('a', { href, 'aria-current': path === href ? 'page' : null }, t(key)))))));
  }
  document.title = `${t('app')}`;
  document.querySelector('.skip').textContent = t('skip');
}

async function signOut() {
  await api.logout();
  state.me = null;
  announce(t('signed_out'));
  navigate('/login', { replace: true });
}

export async function afterSignIn(enrolmentRequired) {
  state.me = await api.get('/me');
  if (enrolmentRequired) return navigate('/totp', { replace: true });
  const next = sessionStorage.getItem('hikeshi:next');
  sessionStorage.removeItem('hikeshi:next');
  return navigate(next && next !== '/login' ? next : home(state.me.role), { replace: true });
}

async function route() {
  for (const fn of state.cleanup.splice(0)) {
    try { fn(); } catch { /* ignore */ }
  }
  const main = clear(document.getElementById('main'));
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  renderHeader();
  if (!state.me && !PUBLIC.has(path)) {
    sessionStorage.setItem('hikeshi:next', path + location.search);
    return navigate('/login', { replace: true });
  }
  if (state.me && path === '/login') return navigate(home(state.me.role), { replace: true });
  main.append(loading());
  try {
    const page = await pageFor(path, params);
    clear(main).append(page);
  } catch (e) {
    clear(main).append(errorBox(e instanceof api.NetworkError ? t('offline') : (e.message || t('error'))));
  }
  const h1 = main.querySelector('h1');
  if (h1) document.title = `${h1.textContent} — ${t('app')}`;
  if (route.moved) main.focus({ preventScroll: true });
  route.moved = true;
  window.scrollTo(0, 0);
  return undefined;
}

function pageFor(path, params) {
  if (path === '/login') return loginPage();
  if (path === '/totp') return totpPage();
  if (path === '/' ) { navigate(home(state.me.role), { replace: true }); return h('div'); }
  if (path === '/file') return filePage({ proxy: params.get('proxy') === '1' });
  if (path === '/incidents') return incidentsPage();
  const m = path.match(/^\/incidents\/([0-9A-Za-z-]{1,64})$/);
  if (m) return detailPage(m[1]);
  if (path === '/queue') return queuePage();
  if (path === '/stats') return statsPage();
  if (path === '/inbox') return inboxPage();
  if (path === '/dispatches') return dispatchesPage();
  if (path === '/map') return mapPage();
  if (path === '/campaigns') return campaignsPage();
  const c = path.match(/^\/campaigns\/([0-9A-Za-z-]{1,64})$/);
  if (c) return campaignPage(c[1]);
  if (path === '/advisories') return advisoriesPage();
  if (path === '/advisories/new') return advisoryNewPage(params);
  const a = path.match(/^\/advisories\/([0-9A-Za-z-]{1,64})$/);
  if (a) return advisoryPage(a[1]);
  if (path === '/advisory-ack') return advisoryAckPage(params);
  if (path === '/profile') return profilePage();
  return errorBox(t('not_found'));
}

// Same-origin links navigate inside the page.
document.addEventListener('click', (ev) => {
  const a = ev.target.closest && ev.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download') || ev.defaultPrevented || ev.button !== 0
    || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/docs')) return;
  if (url.hash && url.pathname === location.pathname) return;
  ev.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', route);

api.setSignedOutHandler(() => {
  if (state.me) {
    state.me = null;
    announce(t('session_expired'), 'error');
    navigate('/login', { replace: true });
  }
});

async function start() {
  setLang(getLang());
  await loadVocabulary();
  try {
    if (await api.resume()) state.me = await api.get('/me');
  } catch {
    /* offline or no session: the sign-in page says so */
  }
  route();
}

start();
