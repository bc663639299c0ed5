// The member portal in a real browser (Debian's chromium, driven by
// playwright-core) against the real running system behind the gateway: each
// page's main path and its error display, in English and in Chinese, with
// screenshots at desktop (1280x800) and phone (375x812) widths.
//
// Environment:
//   PORTAL_URL          the gateway serving the portal, e.g. http://127.0.0.1:8080
//   PORTAL_SEED         the JSON that seed.mjs wrote (members to log in as)
//   PORTAL_SCREENSHOTS  folder for the screenshots (default: a new temp folder)
//   PORTAL_DIR          the portal's files, for its message catalogs
//                       (default: services/gateway/portal of this checkout)
//   PORTAL_NODE_MODULES where playwright-core is installed (default:
//                       node_modules beside this file)
//   CHROMIUM            the browser (default /usr/bin/chromium)
//
//   node --test portal.test.mjs

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.PORTAL_NODE_MODULES || path.join(here, 'node_modules');
const { chromium } = createRequire(path.join(modules, 'noop.js'))('playwright-core');

const base = (process.env.PORTAL_URL || '').replace(/\/$/, '');
assert.ok(base, 'PORTAL_URL must name the gateway, e.g. http://127.0.0.1:8080');
const seed = JSON.parse(fs.readFileSync(process.env.PORTAL_SEED, 'utf8'));
const portalDir = process.env.PORTAL_DIR || path.resolve(here, '../../services/gateway/portal');
const shots = process.env.PORTAL_SCREENSHOTS ||
  fs.mkdtempSync(path.join(os.tmpdir(), 'portal-screenshots-'));
fs.mkdirSync(shots, { recursive: true });

const catalogs = {
  en: (await import(pathToFileURL(path.join(portalDir, 'i18n/en.js')).href)).default,
  'zh-CN': (await import(pathToFileURL(path.join(portalDir, 'i18n/zh-CN.js')).href)).default,
};

// The portal's own message for `key` in `lang`, with {values} filled in.
function message(lang, key, values = {}) {
  const text = key.split('.').reduce((node, part) => node[part], catalogs[lang]);
  assert.equal(typeof text, 'string', `no message ${key} in ${lang}`);
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function isoDay(days) {
  return new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);
}

function digits(n) {
  let text = '';
  while (text.length < n) text += String(Math.floor(Math.random() * 10));
  return text.replace(/^0/, '1');
}

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // playwright-core adds --headless and a new empty --user-data-dir.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  console.log(`screenshots: ${shots}`);
});

test('both message catalogs have the same keys', () => {
  const leaves = (node, prefix = '') => Object.entries(node).flatMap(([key, value]) =>
    (typeof value === 'object' ? leaves(value, `${prefix}${key}.`) : [`${prefix}${key}`]));
  assert.deepEqual(leaves(catalogs['zh-CN']).sort(), leaves(catalogs.en).sort());
});

// Each run: a member whose preferred language is `lang`, in a browser whose
// own language is the other one, so that the browser's language (before log
// in) and the profile's (after) can both be seen.
for (const [lang, other, flightNumber] of [['en', 'zh-CN', '1502'], ['zh-CN', 'en', '1504']]) {
  describe(`the portal in ${lang}`, () => {
    const account = seed[lang];
    const m = (key, values) => message(lang, key, values);
    let context;
    let page;
    const scriptErrors = [];
    // The award the portal redeems and issues, for the refund.
    let redeemed;

    before(async () => {
      context = await browser.newContext({ locale: other === 'en' ? 'en-US' : 'zh-CN', viewport: DESKTOP });
      page = await context.newPage();
      page.setDefaultTimeout(15000);
      page.on('pageerror', (error) => scriptErrors.push(error.message));
    });

    after(async () => {
      await context?.close();
    });

    // Full-page screenshots at both widths, named by the language shown.
    async function snap(name) {
      const shown = await page.getAttribute('html', 'lang');
      for (const [width, size] of [['desktop', DESKTOP], ['phone', PHONE]]) {
        await page.setViewportSize(size);
        await page.screenshot({ path: path.join(shots, `${shown}-${name}-${width}.png`), fullPage: true });
      }
      await page.setViewportSize(DESKTOP);
    }

    async function heading(text) {
      await page.locator('h1', { hasText: text }).waitFor();
    }

    async function go(navKey) {
      await page.locator('#site-nav a', { hasText: m(navKey) }).click();
    }

    // The error line of a form control, once shown.
    async function fieldError(selector) {
      const control = page.locator(selector);
      await page.waitForSelector(`${selector}[aria-invalid="true"]`);
      const id = await control.getAttribute('id');
      const line = page.locator(`#${id}-error`);
      await line.waitFor({ state: 'visible' });
      return (await line.textContent()).trim();
    }

    async function logIn(login, password) {
      await page.fill('#login-form [name=login]', login);
      await page.fill('#login-form [name=password]', password);
      await page.click('#login-form button[type=submit]');
    }

    test('the log in page speaks the browser\'s language, and the switch changes it', async () => {
      await page.goto(`${base}/`);
      await heading(message(other, 'login.title'));
      assert.equal(await page.getAttribute('html', 'lang'), other);
      await page.selectOption('#language', lang);
      await heading(m('login.title'));
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      await snap('login');
    });

    test('a wrong password is refused with a readable message', async () => {
      await logIn(account.member, 'not-the-password');
      const alert = page.locator('#login-form .form-error');
      await alert.waitFor({ state: 'visible' });
      assert.match(await alert.textContent(), new RegExp(escape(m('login.wrong'))));
      await snap('login-error');
    });

    test('join: a field error is shown next to the field, then the new member is welcomed', async () => {
      await page.click('a[href="#/join"] >> nth=-1');
      await heading(m('join.title'));
      const form = '#join-form';
      await page.fill(`${form} [name=familyName]`, 'Joiner');
      await page.fill(`${form} [name=givenName]`, lang === 'en' ? 'Ava' : 'Lan');
      await page.selectOption(`${form} [name=gender]`, 'FEMALE');
      await page.fill(`${form} [name=dateOfBirth]`, '1990-06-15');
      await page.fill(`${form} [name=nationality]`, 'CN');
      await page.fill(`${form} [name=documentNumber]`, `J${digits(8)}`);
      await page.fill(`${form} [name=documentCountry]`, 'CN');
      await page.fill(`${form} [name=mobilePhone]`, `+86137${digits(8)}`);
      await page.fill(`${form} [name=email]`, 'not-an-e-mail');
      await page.selectOption(`${form} [name=preferredLanguage]`, lang);
      await page.fill(`${form} [name=password]`, 'Joiner-pass-1');
      await page.fill(`${form} [name=confirm]`, 'Joiner-pass-1');
      await page.click(`${form} button[type=submit]`);
      assert.ok((await fieldError(`${form} [name=email]`)).length > 0);
      // The general message points at the fields.
      assert.match(await page.textContent(`${form} .form-error`), new RegExp(escape(m('errors.checkFields'))));
      await snap('join-error');

      await page.fill(`${form} [name=email]`, `joiner.${digits(8)}@example.com`);
      await page.click(`${form} button[type=submit]`);
      await heading(m('dashboard.title'));
      const welcome = await page.textContent('#flash');
      const number = /\d{10}/.exec(welcome)?.[0];
      assert.ok(number, `no member number in "${welcome}"`);
      assert.equal(welcome.trim(), m('join.welcome', { number }));
      await snap('join-welcome');
      await page.click('#logout');
      await heading(m('login.title'));
      assert.equal((await page.textContent('#flash')).trim(), m('login.loggedOut'));
    });

    test('log in by keyboard: the profile\'s language wins over the one chosen', async () => {
      await page.selectOption('#language', other);
      await heading(message(other, 'login.title'));
      // The heading has the focus after a page is shown; Tab reaches the fields.
      await page.locator('h1').focus();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.name), 'login');
      await page.keyboard.type(account.email);
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.name), 'password');
      await page.keyboard.type(account.password);
      await page.keyboard.press('Enter');
      await heading(m('dashboard.title'));
      assert.equal(await page.getAttribute('html', 'lang'), lang);
    });

    test('the dashboard shows balance, tier progress and expiring miles', async () => {
      const format = (n) => new Intl.NumberFormat(lang).format(Number(n));
      const balance = account.balance;
      assert.equal((await page.textContent('#balance .figure-value')).trim(), format(balance.balance));
      assert.equal((await page.textContent('#available .figure-value')).trim(), format(balance.available));
      assert.equal((await page.textContent('#held .figure-value')).trim(), format(balance.held));
      assert.equal((await page.textContent('#tier-name')).trim(), m(`enums.tier.${account.tier.tier}`));
      const bar = page.locator('#progress-qm-bar');
      assert.equal(Number(await bar.getAttribute('value')), Number(account.tier.qualifyingMiles));
      assert.equal(Number(await bar.getAttribute('max')),
        Number(account.tier.qualifyingMiles) + Number(account.tier.milesToNextTier));
      assert.ok(await page.locator('#expiry tbody tr').count() >= 1);
      await snap('dashboard');
    });

    test('a refused access token is refreshed once; a dead session goes back to log in', async () => {
      const session = () => page.evaluate(() => JSON.parse(sessionStorage.getItem('mb.session')));
      const spoil = (fields) => page.evaluate((values) => {
        const current = JSON.parse(sessionStorage.getItem('mb.session'));
        sessionStorage.setItem('mb.session', JSON.stringify({ ...current, ...values }));
      }, fields);
      await spoil({ accessToken: 'no-longer-valid' });
      await go('nav.claims');
      await heading(m('claims.title'));
      await page.locator('#claims-list h2').waitFor();
      assert.equal(await page.locator('#claims-list .alert-error').count(), 0);
      assert.notEqual((await session()).accessToken, 'no-longer-valid');

      await spoil({ accessToken: 'no-longer-valid', refreshToken: 'no-longer-valid' });
      await go('nav.dashboard');
      await heading(m('login.title'));
      assert.equal((await page.textContent('#flash')).trim(), m('login.sessionEnded'));
      await logIn(account.member, account.password);
      await heading(m('dashboard.title'));
    });

    test('the statement pages through the lines and filters them', async () => {
      await go('nav.statement');
      await heading(m('statement.title'));
      const rows = page.locator('#statement-table tbody tr');
      await rows.first().waitFor();
      assert.equal(await rows.count(), 10);
      await snap('statement');
      await page.click('#next-page');
      await page.locator('#statement-table caption', { hasText: m('statement.page', { page: 2 }) }).waitFor();
      assert.equal(await rows.count(), account.transactions - 10);
      await page.click('#previous-page');
      await page.locator('#statement-table caption', { hasText: m('statement.page', { page: 1 }) }).waitFor();

      await page.selectOption('#statement-filters [name=type]', 'REDEMPTION');
      await page.click('#statement-filters button[type=submit]');
      await page.waitForFunction(() => document.querySelectorAll('#statement-table tbody tr').length === 1);
      assert.equal(await rows.first().getAttribute('data-type'), 'REDEMPTION');

      await page.selectOption('#statement-filters [name=type]', '');
      await page.fill('#statement-filters [name=from]', isoDay(1));
      await page.fill('#statement-filters [name=to]', isoDay(-1));
      await page.click('#statement-filters button[type=submit]');
      await page.waitForSelector('#statement-filters [aria-invalid="true"]');
      assert.ok(await page.locator('#statement-filters .field-error:visible').count() >= 1);
      await snap('statement-error');
    });

    test('a claim for missing miles: too old is refused at the date, a recent one waits', async () => {
      await go('nav.claims');
      await heading(m('claims.title'));
      const form = '#claim-form';
      const ticket = `78${digits(11)}`;
      await page.fill(`${form} [name=ticketNumber]`, ticket);
      await page.fill(`${form} [name=flightNumber]`, '1501');
      await page.fill(`${form} [name=flightDate]`, isoDay(-250));
      await page.fill(`${form} [name=origin]`, 'PEK');
      await page.fill(`${form} [name=destination]`, 'PVG');
      await page.fill(`${form} [name=bookingClass]`, 'Y');
      await page.click(`${form} button[type=submit]`);
      assert.ok((await fieldError(`${form} [name=flightDate]`)).length > 0);
      await snap('claims-error');

      await page.fill(`${form} [name=flightDate]`, isoDay(-3));
      await page.click(`${form} button[type=submit]`);
      await page.locator(`${form} .status`, { hasText: m('enums.claimState.CLAIM_PENDING') }).waitFor();
      const row = page.locator('#claims-table tbody tr[data-state="CLAIM_PENDING"]', { hasText: ticket });
      await row.waitFor();
      await snap('claims');
    });

    test('nominees: a missing name is shown at the field; add one, remove another', async () => {
      await go('nav.nominees');
      await heading(m('nominees.title'));
      const form = '#nominee-form';
      const fill = async (family, given) => {
        await page.fill(`${form} [name=familyName]`, family);
        await page.fill(`${form} [name=givenName]`, given);
        await page.fill(`${form} [name=dateOfBirth]`, '2012-05-20');
        await page.fill(`${form} [name=documentNumber]`, `N${digits(8)}`);
        await page.fill(`${form} [name=documentCountry]`, 'CN');
        await page.click(`${form} button[type=submit]`);
      };
      await fill('', 'Xiao');
      assert.ok((await fieldError(`${form} [name=familyName]`)).length > 0);
      await snap('nominees-error');

      await fill('Portal', 'Xiao');
      await page.locator('#nominees-table tbody tr', { hasText: 'Xiao' }).waitFor();
      await fill('Portal', 'Temp');
      const temp = page.locator('#nominees-table tbody tr', { hasText: 'Temp' });
      await temp.waitFor();
      await temp.locator('button', { hasText: m('nominees.remove') }).click();
      await temp.locator('button', { hasText: m('nominees.removeYes') }).click();
      await temp.waitFor({ state: 'detached' });
      assert.equal(await page.locator('#nominees-table tbody tr').count(), 1);
      await snap('nominees');
    });

    test('awards: an unknown airport is shown at the field; a quote; the password; held, then issued', async () => {
      await go('nav.awards');
      await heading(m('awards.title'));
      const form = '#award-search';
      await page.fill(`${form} [name=outboundFlightNumber]`, flightNumber);
      await page.fill(`${form} [name=outboundDate]`, isoDay(40));
      await page.fill(`${form} [name=outboundOrigin]`, 'QQQ');
      await page.fill(`${form} [name=outboundDestination]`, 'PVG');
      await page.selectOption(`${form} [name=cabin]`, 'ECONOMY');
      await page.locator(`${form} #passengers label`, { hasText: 'Xiao' }).click();
      await page.click(`${form} button[type=submit]`);
      assert.ok((await fieldError(`${form} [name=outboundOrigin]`)).length > 0);
      await snap('awards-error');

      await page.fill(`${form} [name=outboundOrigin]`, 'PEK');
      await page.click(`${form} button[type=submit]`);
      await page.locator('#quote-card').waitFor();
      // PEK-PVG is in the 601-1,200 band: 12,000 economy, two passengers.
      const format = (n) => new Intl.NumberFormat(lang).format(n);
      assert.equal((await page.textContent('#quote-total')).trim(), format(24000));
      await snap('awards-quote');

      await page.fill('#redeem-form [name=memberPassword]', 'not-the-password');
      await page.click('#redeem-form button[type=submit]');
      assert.equal(await fieldError('#redeem-form [name=memberPassword]'), m('awards.wrongPassword'));
      await snap('awards-wrong-password');

      await page.fill('#redeem-form [name=memberPassword]', account.password);
      await page.click('#redeem-form button[type=submit]');
      const done = page.locator('#redeemed');
      await done.waitFor();
      assert.equal(await done.getAttribute('data-state'), 'ISSUED', await done.innerText());
      redeemed = await done.getAttribute('data-redemption');
      assert.match(await done.textContent(), new RegExp(escape(m('awards.issued', { id: redeemed, miles: format(24000) }))));
      // One ticket per passenger, from the default award ticket stock.
      assert.match(await page.textContent('#issued-tickets'), /774\d{10}, 774\d{10}$/);
      await snap('awards-issued');
    });

    // The outcome of a cancel or refund: the new state, or the page's error
    // message, which fails the test with what the gateway said.
    async function outcome(done) {
      await page.locator(`${done}, #redemptions .alert-error`).first().waitFor();
      const errors = page.locator('#redemptions .alert-error');
      if (await errors.count()) {
        await snap('redemptions-error');
        assert.fail(`the page says: ${(await errors.first().innerText()).replace(/\s+/g, ' ')}`);
      }
    }

    test('my awards: issue a held one', async () => {
      await go('nav.redemptions');
      await heading(m('redemptions.title'));
      const held = page.locator(`#redemptions li[data-redemption="${account.heldToIssue}"]`);
      await held.waitFor();
      assert.equal(await held.getAttribute('data-state'), 'HELD');
      await snap('redemptions');
      await held.locator('button', { hasText: m('redemptions.issue') }).click();
      await held.locator('button', { hasText: m('redemptions.issueYes') }).click();
      await outcome(`#redemptions li[data-redemption="${account.heldToIssue}"][data-state="ISSUED"]`);
      assert.match(await page.textContent(`#redemptions li[data-redemption="${account.heldToIssue}"]`), /774\d{10}/);
    });

    test('my awards: cancel the held one', async () => {
      const held = page.locator(`#redemptions li[data-redemption="${account.heldToCancel}"]`);
      await held.waitFor();
      await held.locator('button', { hasText: m('redemptions.cancel') }).click();
      await held.locator('button', { hasText: m('redemptions.cancelYes') }).click();
      await outcome(`#redemptions li[data-redemption="${account.heldToCancel}"][data-state="CANCELLED"]`);
      assert.match(await page.textContent('main .status'),
        new RegExp(escape(m('enums.redemptionState.CANCELLED'))));
    });

    test('my awards: refund the one issued on the web', async () => {
      await go('nav.dashboard');
      await heading(m('dashboard.title'));
      await go('nav.redemptions');
      await heading(m('redemptions.title'));
      const issued = page.locator(`#redemptions li[data-redemption="${redeemed}"]`);
      await issued.waitFor();
      assert.equal(await issued.getAttribute('data-state'), 'ISSUED');
      await issued.locator('button', { hasText: m('redemptions.refund') }).click();
      await issued.locator('button', { hasText: m('redemptions.refundYes') }).click();
      await outcome(`#redemptions li[data-redemption="${redeemed}"][data-state="REFUNDED"]`);
      assert.match(await page.textContent('main .status'),
        new RegExp(escape(m('enums.redemptionState.REFUNDED'))));
      await snap('redemptions-done');
    });

    test('profile: a bad phone number is shown at the field; preferences are saved', async () => {
      await go('nav.profile');
      await heading(m('profile.title'));
      const form = '#profile-form';
      await page.fill(`${form} [name=mobilePhone]`, '12345');
      await page.click(`${form} button[type=submit]`);
      assert.ok((await fieldError(`${form} [name=mobilePhone]`)).length > 0);
      await snap('profile-error');

      const phone = `+86135${digits(8)}`;
      await page.fill(`${form} [name=mobilePhone]`, phone);
      await page.selectOption(`${form} [name=seatPreference]`, 'AISLE');
      await page.fill(`${form} [name=mealPreference]`, 'VGML');
      await page.click(`${form} button[type=submit]`);
      await page.locator('#flash', { hasText: m('profile.saved') }).waitFor();
      assert.equal(await page.inputValue(`${form} [name=mobilePhone]`), phone);
      assert.equal(await page.inputValue(`${form} [name=seatPreference]`), 'AISLE');
      assert.equal(await page.inputValue(`${form} [name=mealPreference]`), 'VGML');
      await snap('profile');
    });

    test('password: a wrong current password is shown at the field; then it is changed', async () => {
      await go('nav.password');
      await heading(m('password.title'));
      const form = '#password-form';
      await page.fill(`${form} [name=currentPassword]`, 'not-the-password');
      await page.fill(`${form} [name=newPassword]`, 'Portal-pass-2');
      await page.fill(`${form} [name=confirm]`, 'Portal-pass-2');
      await page.click(`${form} button[type=submit]`);
      assert.ok((await fieldError(`${form} [name=currentPassword]`)).length > 0);
      await snap('password-error');

      await page.fill(`${form} [name=currentPassword]`, account.password);
      await page.fill(`${form} [name=confirm]`, 'Portal-pass-3');
      await page.click(`${form} button[type=submit]`);
      assert.equal(await fieldError(`${form} [name=confirm]`), m('password.mismatch'));

      await page.fill(`${form} [name=confirm]`, 'Portal-pass-2');
      await page.click(`${form} button[type=submit]`);
      await page.locator(`${form} .status`, { hasText: m('password.changed') }).waitFor();
      await snap('password');
    });

    test('log out, and log in again with the new password', async () => {
      await page.click('#logout');
      await heading(m('login.title'));
      await logIn(account.member, 'Portal-pass-2');
      await heading(m('dashboard.title'));
      await page.click('#logout');
      await heading(m('login.title'));
    });

    test('no script errors', () => {
      assert.deepEqual(scriptErrors, []);
    });
  });
}

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
