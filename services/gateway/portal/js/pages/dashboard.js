// The member's miles at a glance: balance, available and held miles, the
// tier with this year's progress toward the next, and miles due to expire
// by month. One call: GET /v1/members/{n}/dashboard.

import { api, memberPath } from '../api.js';
import { formatDate, formatMonth, formatNumber, t, tEnum } from '../i18n.js';
import { h, pageTitle } from '../ui.js';

function figure(id, label, value, note) {
  return h('div', { class: 'figure', id },
    h('p', { class: 'figure-label' }, label),
    h('p', { class: 'figure-value' }, value),
    note ? h('p', { class: 'figure-note' }, note) : null);
}

// One progress bar: this year's figure toward the next tier's threshold
// (the threshold is what the member has plus what is still needed).
function progress(id, label, have, needed) {
  const max = have + needed;
  return h('div', { class: 'progress', id },
    h('label', { for: `${id}-bar` }, label),
    h('progress', { id: `${id}-bar`, max: String(max || 1), value: String(Math.min(have, max)) }),
    h('p', { class: 'progress-text' }, t('dashboard.progressText', {
      have: formatNumber(have), threshold: formatNumber(max), needed: formatNumber(needed),
    })));
}

function tierCard(tier) {
  const current = tier.tier || 'BLUE';
  const next = tier.nextTier && tier.nextTier !== 'TIER_UNSPECIFIED' ? tier.nextTier : null;
  const qm = Number(tier.qualifyingMiles || 0);
  const qs = Number(tier.qualifyingSegments || 0);
  return h('section', { class: 'card', id: 'tier', 'aria-labelledby': 'tier-title' },
    h('h2', { id: 'tier-title' }, t('dashboard.tier')),
    h('p', { class: `tier-badge tier-${current.toLowerCase()}`, id: 'tier-name' }, tEnum('tier', current)),
    next
      ? [h('p', {}, t('dashboard.nextTier', { tier: tEnum('tier', next) })),
        progress('progress-qm', t('dashboard.qm'), qm, Number(tier.milesToNextTier || 0)),
        progress('progress-qs', t('dashboard.qs'), qs, Number(tier.segmentsToNextTier || 0)),
        h('p', { class: 'hint' }, t('dashboard.eitherCounts'))]
      : [h('p', {}, t('dashboard.topTier')),
        h('p', {}, t('dashboard.thisYear', { qm: formatNumber(qm), qs: formatNumber(qs) }))],
    h('p', { class: 'hint' }, t('dashboard.lastYear', {
      qm: formatNumber(tier.previousYearQualifyingMiles || 0),
      qs: formatNumber(tier.previousYearQualifyingSegments || 0),
    })));
}

// Miles left in lots, summed by the month of their expiry date.
function expiryCard(lots) {
  const months = new Map();
  for (const lot of lots) {
    const left = Number(lot.remainingMiles || 0);
    if (lot.expired || left <= 0 || !lot.expiryDate) continue;
    const key = `${lot.expiryDate.year}-${String(lot.expiryDate.month).padStart(2, '0')}`;
    const entry = months.get(key) || { year: lot.expiryDate.year, month: lot.expiryDate.month, miles: 0, last: lot.expiryDate };
    entry.miles += left;
    months.set(key, entry);
  }
  const rows = [...months.entries()].sort(([a], [b]) => a.localeCompare(b)).slice(0, 12);
  return h('section', { class: 'card', id: 'expiry', 'aria-labelledby': 'expiry-title' },
    h('h2', { id: 'expiry-title' }, t('dashboard.expiring')),
    rows.length === 0
      ? h('p', {}, t('dashboard.nothingExpires'))
      : h('table', { class: 'table' },
        h('caption', { class: 'visually-hidden' }, t('dashboard.expiring')),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('dashboard.month')),
          h('th', { scope: 'col', class: 'num' }, t('dashboard.miles')))),
        h('tbody', {}, rows.map(([key, entry]) => h('tr', { 'data-month': key },
          h('th', { scope: 'row' }, formatMonth(entry.year, entry.month)),
          h('td', { class: 'num' }, formatNumber(entry.miles)))))),
    h('p', { class: 'hint' }, t('dashboard.expiryRule')));
}

export async function render(root) {
  root.append(pageTitle(t('dashboard.title')));
  const answer = await api('GET', memberPath('/dashboard'));
  const member = (answer.member && answer.member.member) || {};
  const balance = (answer.balance && answer.balance.balance) || {};
  const tier = answer.tier || {};
  const lots = (answer.lots && answer.lots.lots) || [];
  const name = [member.profile?.givenName, member.profile?.familyName].filter(Boolean).join(' ');
  const nextExpiry = balance.nextExpiryDate && balance.nextExpiryDate.year
    ? t('dashboard.nextExpiry', { miles: formatNumber(balance.nextExpiryMiles), date: formatDate(balance.nextExpiryDate) })
    : null;
  root.append(
    h('p', { class: 'lead' }, t('dashboard.hello', { name, number: member.memberNumber || '' })),
    h('section', { class: 'figures', 'aria-label': t('dashboard.balance') },
      figure('balance', t('dashboard.balance'), formatNumber(balance.balance), nextExpiry),
      figure('available', t('dashboard.available'), formatNumber(balance.available)),
      figure('held', t('dashboard.held'), formatNumber(balance.held), t('dashboard.heldNote')),
      figure('lifetime', t('dashboard.lifetime'), formatNumber(balance.lifetimeEarned))),
    h('div', { class: 'columns' }, tierCard(tier), expiryCard(lots)),
    h('p', { class: 'quick-links' },
      h('a', { href: '#/statement', class: 'button-secondary' }, t('dashboard.seeStatement')), ' ',
      h('a', { href: '#/awards', class: 'button-secondary' }, t('dashboard.redeem'))));
}
