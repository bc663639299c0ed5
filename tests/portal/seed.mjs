// Seeds the running mileage bank with the members the browser test uses,
// one per portal language, and writes what it made as JSON.
//
// Each member joins through the gateway's REST API (as the portal would),
// then earns miles on own flights, buys some, and gets one award issued by
// staff and two held through mbctl talking to accrual and redemption
// directly (what staff and the flown-data feed do; members cannot credit
// flights themselves). The portal issues one held award and cancels the
// other.
//
// Environment:
//   PORTAL_URL               the gateway's REST face, e.g. http://127.0.0.1:8080
//   MBCTL                    the mbctl binary (default: mbctl on PATH)
//   MBCTL_ACCRUAL_TARGET, MBCTL_REDEMPTION_TARGET   read by mbctl itself
//   PORTAL_SEED              where to write the JSON (default: stdout)
//
//   node seed.mjs

import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

const base = process.env.PORTAL_URL;
if (!base) throw new Error('PORTAL_URL is not set (the gateway, e.g. http://127.0.0.1:8080)');
const mbctl = process.env.MBCTL || 'mbctl';
const PASSWORD = 'Portal-pass-1';

// A UTC calendar date `days` from today, as "YYYY-MM-DD".
function isoDay(days = 0) {
  return new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);
}

function digits(n) {
  let text = String(randomInt(1, 10));
  while (text.length < n) text += String(randomInt(0, 10));
  return text;
}

// One request on its own connection (the gateway closes idle keep-alive
// connections quickly, and a POST on a connection closed meanwhile would
// not be retried).
function rest(method, path, body, token) {
  const payload = body === undefined ? '' : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(new URL(path, base), {
      method,
      agent: false,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(payload),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
    }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => {
        if (response.statusCode >= 300) {
          reject(new Error(`${method} ${path}: HTTP ${response.statusCode} ${text}`));
        } else {
          resolve(text ? JSON.parse(text) : {});
        }
      });
    });
    request.on('error', reject);
    request.end(payload);
  });
}

function run(...args) {
  try {
    return JSON.parse(execFileSync(mbctl, ['--json', ...args], { encoding: 'utf8' }));
  } catch (error) {
    throw new Error(`mbctl ${args.join(' ')}: ${error.stderr || error.message}`);
  }
}

async function seedMember(language, tag) {
  const enrolled = await rest('POST', '/v1/members', {
    profile: {
      familyName: 'Portal',
      givenName: language === 'en' ? 'Emma' : 'Mei',
      chineseName: language === 'en' ? '' : '林美',
      gender: 'FEMALE',
      dateOfBirth: { year: 1984, month: language === 'en' ? 3 : 9, day: 14 },
      nationality: 'CN',
      identityDocument: { type: 'PASSPORT', number: `P${digits(8)}`, issuingCountry: 'CN' },
      mobilePhone: `+86139${digits(8)}`,
      email: `portal.${tag}.${digits(6)}@example.com`,
      preferredLanguage: language,
    },
    password: PASSWORD,
    requestId: `portal-seed-${tag}-${digits(8)}`,
  });
  const member = enrolled.member.memberNumber;

  // Three long first-class flights (over SILVER's 25,000 QM, short of
  // GOLD's 50,000) and nine short ones: twelve statement lines, two pages.
  const ticketBase = `78${digits(9)}`;
  const flights = [
    ...Array.from({ length: 3 }, () => ['981', 'PEK', 'JFK', 'F']),
    ...Array.from({ length: 9 }, () => ['1501', 'PEK', 'PVG', 'Y']),
  ];
  let qualifyingMiles = 0;
  for (const [i, [flight, from, to, bookingClass]] of flights.entries()) {
    const posted = run('accrual', 'post-flight', member, `--ticket=${ticketBase}${String(i).padStart(2, '0')}`,
      '--coupon=1', `--flight=${flight}`, `--date=${isoDay(0)}`, `--from=${from}`, `--to=${to}`,
      `--class=${bookingClass}`);
    qualifyingMiles += Number(posted.transaction.qualifyingMiles || 0);
  }

  // Bought miles (not qualifying: the tier stays) pay for the held awards
  // besides the portal's own.
  run('accrual', 'purchase', member, '20000', '--currency=CNY', '--amount=60000',
    `--payment=portal-seed-${digits(8)}`, `--request-id=portal-seed-${tag}-${digits(6)}`,
    '--channel=COUNTER', '--office=PEK01', '--operator=portal-seed');

  // Awards not flown yet, one a day (a flight-date has few award seats).
  const redeem = (days) => run('award', 'redeem', member, '--type=ONE_WAY',
    `--out=FM1501/${isoDay(days)}/PEK-PVG`, '--cabin=ECONOMY', '--member-passenger',
    `--password=${PASSWORD}`, '--channel=COUNTER', '--office=PEK01', '--operator=portal-seed',
    `--request-id=portal-seed-${tag}-${digits(6)}`).redemption.redemptionId;
  // Staff issue one with a ticket number of their own.
  run('award', 'issue', redeem(30), `--ticket=784${digits(10)}`, '--channel=COUNTER',
    '--office=PEK01', '--operator=portal-seed');
  const heldToIssue = redeem(31);
  const heldToCancel = redeem(32);

  // Membership learns the qualifying miles from accrual's event stream:
  // wait until the tier reflects them, so the dashboard is settled.
  const session = await rest('POST', '/v1/session', { login: member, password: PASSWORD });
  const deadline = Date.now() + 30000;
  let tier;
  for (;;) {
    tier = await rest('GET', `/v1/members/${member}/tier`, undefined, session.accessToken);
    if (Number(tier.qualifyingMiles) >= qualifyingMiles || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const balance = await rest('GET', `/v1/members/${member}/balance`, undefined, session.accessToken);
  await rest('DELETE', '/v1/session', undefined, session.accessToken);
  return {
    member,
    password: PASSWORD,
    email: enrolled.member.profile.email,
    heldToIssue,
    heldToCancel,
    balance: balance.balance,
    tier,
    // The flights, the purchase and the staff's issued award.
    transactions: flights.length + 2,
  };
}

const seed = {
  en: await seedMember('en', 'en'),
  'zh-CN': await seedMember('zh-CN', 'zh'),
};
const json = JSON.stringify(seed, null, 2);
if (process.env.PORTAL_SEED) fs.writeFileSync(process.env.PORTAL_SEED, json);
else process.stdout.write(`${json}\n`);
