// My redemptions, newest first: issue or cancel one that is held (issuing
// is what the awards page does right after booking; here when that step
// failed), refund one that was issued and has not flown yet.

import { api, memberPath, redemptionPath } from '../api.js';
import { formatDate, formatNumber, formatTime, t, tEnum } from '../i18n.js';
import { compareDates, confirmButton, errorBox, h, pageTitle, statusLine, todayUtc } from '../ui.js';

const PAGE_SIZE = 20;

function journeyText(journey) {
  const segments = (journey && journey.segments) || [];
  if (!segments.length) return '';
  const route = [segments[0].origin, ...segments.map((s) => s.destination)].join('–');
  const flights = segments.map((s) => `${s.carrier || 'FM'}${s.flightNumber}`).join(', ');
  return `${route} (${flights}, ${formatDate(segments[0].flightDate)})`;
}

function passengerNames(passengers) {
  return (passengers || []).map((p) => [p.givenName, p.familyName].filter(Boolean).join(' ') ||
    (p.member ? t('redemptions.member') : t('redemptions.nominee', { id: p.nomineeId }))).join(', ');
}

function card(r, act) {
  const itinerary = r.itinerary || {};
  const actions = [];
  if (r.state === 'HELD') {
    actions.push(confirmButton({
      label: t('redemptions.issue'), question: t('redemptions.issueQuestion'),
      yes: t('redemptions.issueYes'), no: t('common.no'),
      action: () => act(r, 'issue'),
    }));
    actions.push(confirmButton({
      label: t('redemptions.cancel'), question: t('redemptions.cancelQuestion'),
      yes: t('redemptions.cancelYes'), no: t('common.no'),
      action: () => act(r, 'cancel'),
    }));
  }
  if (r.state === 'ISSUED' && r.firstFlightDate && compareDates(r.firstFlightDate, todayUtc()) > 0) {
    actions.push(confirmButton({
      label: t('redemptions.refund'), question: t('redemptions.refundQuestion'),
      yes: t('redemptions.refundYes'), no: t('common.no'),
      action: () => act(r, 'refund'),
    }));
  }
  const facts = [
    ['route', itinerary.outbound ? [journeyText(itinerary.outbound),
      itinerary.inbound && itinerary.inbound.segments?.length ? ` / ${journeyText(itinerary.inbound)}` : ''].join('') : ''],
    ['type', r.awardType === 'UPGRADE_AWARD' ? tEnum('awardType', r.awardType)
      : [tEnum('journeyType', itinerary.journeyType), tEnum('cabin', r.cabin)].filter(Boolean).join(' · ')],
    ['passengers', passengerNames(r.passengers)],
    ['miles', formatNumber(r.totalMiles)],
    ['created', formatTime(r.createdAt)],
    r.state === 'HELD' && r.holdExpiresAt ? ['holdUntil', formatTime(r.holdExpiresAt)] : null,
    (r.awardTicketNumbers || []).length ? ['tickets', r.awardTicketNumbers.join(', ')] : null,
    r.state === 'REFUNDED' ? ['fee', formatNumber(r.redepositFeeMiles)] : null,
  ].filter(Boolean);
  return h('li', { class: 'card redemption', 'data-redemption': r.redemptionId, 'data-state': r.state },
    h('h2', {}, t('redemptions.award', { id: r.redemptionId }), ' ',
      h('span', { class: `state state-${String(r.state).toLowerCase()}` }, tEnum('redemptionState', r.state))),
    h('dl', { class: 'facts' }, facts.map(([key, value]) => [h('dt', {}, t(`redemptions.${key}`)), h('dd', {}, value)])),
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

export async function render(root) {
  root.append(pageTitle(t('redemptions.title')));
  const status = statusLine();
  const list = h('ul', { class: 'cards', id: 'redemptions' });
  const more = h('div', { class: 'pager' });
  root.append(status, list, more);

  async function act(r, verb) {
    status.textContent = '';
    try {
      // An issue takes no reason: the tickets come from the airline's stock.
      const answer = await api('POST', redemptionPath(r.redemptionId, verb),
        { body: verb === 'issue' ? {} : { reason: 'MEMBER_REQUEST' } });
      const state = answer.redemption?.state;
      await load('');
      status.textContent = t(`redemptions.${verb}Done`, { id: r.redemptionId, state: tEnum('redemptionState', state) });
      status.setAttribute('tabindex', '-1');
      status.focus();
    } catch (error) {
      const item = list.querySelector(`[data-redemption="${CSS.escape(r.redemptionId)}"]`);
      const box = errorBox(error, { FAILED_PRECONDITION: `redemptions.${verb}NotPossible` });
      if (item) item.append(box); else root.append(box);
      box.setAttribute('tabindex', '-1');
      box.focus();
    }
  }

  async function load(pageToken) {
    try {
      const answer = await api('GET', memberPath('/redemptions'), { query: { page: { pageSize: PAGE_SIZE, pageToken } } });
      const items = answer.redemptions || [];
      if (!pageToken) list.replaceChildren();
      list.append(...items.map((r) => card(r, act)));
      if (!list.children.length) list.replaceChildren(h('li', { id: 'no-redemptions' }, t('redemptions.none'), ' ',
        h('a', { href: '#/awards' }, t('nav.awards'))));
      const next = answer.page && answer.page.nextPageToken;
      more.replaceChildren(next ? h('button', {
        type: 'button', class: 'button-secondary', id: 'more-redemptions', onclick: () => load(next),
      }, t('redemptions.more')) : '');
    } catch (error) {
      list.replaceChildren(errorBox(error));
    }
  }
  await load('');
}
