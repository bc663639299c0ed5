// The member portal: a header (navigation, language switch) and one page at
// a time, chosen by location.hash ("#/statement"). Each page is a module
// under pages/ exporting render(root, context).

import { api, currentSession, memberNumber, saveSession } from './api.js';
import { LANGUAGES, initialLanguage, language, setLanguage, t } from './i18n.js';
import { errorBox, h } from './ui.js';

// path -> [module, whether it needs a signed-in member, nav label key]
const routes = {
  '/login': [() => import('./pages/login.js'), false, null],
  '/join': [() => import('./pages/join.js'), false, null],
  '/dashboard': [() => import('./pages/dashboard.js'), true, 'nav.dashboard'],
  '/statement': [() => import('./pages/statement.js'), true, 'nav.statement'],
  '/claims': [() => import('./pages/claims.js'), true, 'nav.claims'],
  '/awards': [() => import('./pages/awards.js'), true, 'nav.awards'],
  '/redemptions': [() => import('./pages/redemptions.js'), true, 'nav.redemptions'],
  '/nominees': [() => import('./pages/nominees.js'), true, 'nav.nominees'],
  '/profile': [() => import('./pages/profile.js'), true, 'nav.profile'],
  '/password': [() => import('./pages/password.js'), true, 'nav.password'],
};

// A message for the next page shown ("You have logged out").
let flash = null;

function navigate(path, message = null) {
  flash = message;
  if (location.hash === `#${path}`) render();
  else location.hash = `#${path}`;
}

// After log in: the member's preferred language, when the profile has one.
async function startSession(session, message = null) {
  saveSession(session);
  try {
    const answer = await api('GET', `/v1/members/${encodeURIComponent(session.memberNumber)}`);
    const profile = (answer.member && answer.member.profile) || {};
    if (LANGUAGES.includes(profile.preferredLanguage)) setLanguage(profile.preferredLanguage);
  } catch {
    // The dashboard shows what went wrong; the language stays as it is.
  }
  navigate('/dashboard', message);
}

async function logOut() {
  try {
    await api('DELETE', '/v1/session', { auth: true });
  } catch {
    // The tokens are dropped here whatever the gateway said.
  }
  saveSession(null);
  navigate('/login', { text: t('login.loggedOut'), kind: 'info' });
}

function currentPath() {
  return location.hash.replace(/^#/, '').split('?')[0];
}

function languageSwitch() {
  const select = h('select', { id: 'language' },
    LANGUAGES.map((lang) => h('option', { value: lang, selected: lang === language(), lang },
      t(`languages.${lang}`))));
  select.addEventListener('change', () => {
    setLanguage(select.value);
    render().then(() => document.getElementById('language')?.focus());
  });
  return h('div', { class: 'language' },
    h('label', { for: 'language', class: 'visually-hidden' }, t('nav.language')), select);
}

function header(path) {
  const signedIn = Boolean(currentSession());
  const nav = h('nav', { id: 'site-nav', 'aria-label': t('nav.label'), class: 'nav' });
  if (signedIn) {
    const list = h('ul', {});
    for (const [route, [, , labelKey]] of Object.entries(routes)) {
      if (!labelKey) continue;
      list.append(h('li', {}, h('a', {
        href: `#${route}`, 'aria-current': route === path ? 'page' : null,
      }, t(labelKey))));
    }
    list.append(h('li', {}, h('button', { type: 'button', class: 'link-button', id: 'logout', onclick: logOut },
      t('nav.logout'))));
    nav.append(list);
  } else {
    nav.append(h('ul', {},
      h('li', {}, h('a', { href: '#/login', 'aria-current': path === '/login' ? 'page' : null }, t('nav.login'))),
      h('li', {}, h('a', { href: '#/join', 'aria-current': path === '/join' ? 'page' : null }, t('nav.join')))));
  }
  const toggle = h('button', {
    type: 'button', class: 'menu-toggle', 'aria-controls': 'site-nav', 'aria-expanded': 'false',
  }, t('nav.menu'));
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    nav.classList.toggle('open', open);
  });
  const skip = h('a', { href: '#main', class: 'skip-link' }, t('nav.skip'));
  skip.addEventListener('click', (event) => {
    event.preventDefault();
    document.getElementById('main').focus();
  });
  return h('header', { class: 'site-header' },
    skip,
    h('div', { class: 'bar' },
      h('a', { href: signedIn ? '#/dashboard' : '#/login', class: 'brand' }, t('app.name')),
      signedIn ? h('span', { class: 'who' }, t('nav.member', { number: memberNumber() })) : null,
      languageSwitch(),
      toggle),
    nav);
}

let renderCount = 0;

async function render() {
  const mine = ++renderCount;
  let path = currentPath();
  const signedIn = Boolean(currentSession());
  if (!routes[path]) path = signedIn ? '/dashboard' : '/login';
  if (routes[path][1] && !signedIn) {
    navigate('/login', flash);
    return;
  }
  // Log in and join are for visitors; a member goes to the dashboard.
  if (!routes[path][1] && signedIn) path = '/dashboard';
  const [loadPage] = routes[path];
  document.title = t('app.name');
  const app = document.getElementById('app');
  const main = h('main', { id: 'main', tabindex: '-1' });
  if (flash) {
    main.append(h('div', { class: `alert alert-${flash.kind || 'info'}`, role: 'status', id: 'flash' }, flash.text));
    flash = null;
  }
  const content = h('div', { class: 'page' });
  main.append(content);
  app.replaceChildren(header(path), main, h('footer', { class: 'site-footer' }, t('app.footer')));
  try {
    const page = await loadPage();
    if (mine !== renderCount) return;
    await page.render(content, { navigate, startSession });
    if (mine !== renderCount) return;
    const title = content.querySelector('h1');
    if (title) {
      document.title = `${title.textContent} · ${t('app.name')}`;
      title.focus({ preventScroll: true });
    }
  } catch (error) {
    if (mine !== renderCount) return;
    content.append(errorBox(error));
  }
}

window.addEventListener('hashchange', render);
window.addEventListener('mb:session-ended', () => {
  navigate('/login', { text: t('login.sessionEnded'), kind: 'info' });
});

setLanguage(initialLanguage(), { remember: false });
render();
