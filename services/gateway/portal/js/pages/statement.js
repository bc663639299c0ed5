// The statement: every transaction newest first with the balance after it,
// filtered by posting date and type, ten to a page.

import { api, memberPath } from '../api.js';
import { formatDate, formatMiles, formatNumber, t, tEnum } from '../i18n.js';
import {
  busy, clearErrors, field, fill, formError, formValues, h, pageTitle, showError, toProtoDate,
} from '../ui.js';

const PAGE_SIZE = 10;
const TYPES = ['OWN_FLIGHT', 'PARTNER_FLIGHT', 'PARTNER_ACTIVITY', 'RETRO_CLAIM', 'ADJUSTMENT',
  'REVERSAL', 'PURCHASE', 'TRANSFER_OUT', 'TRANSFER_IN', 'TRANSFER_FEE', 'REDEMPTION',
  'REDEPOSIT', 'REDEPOSIT_FEE', 'EXPIRE', 'MERGE_OUT', 'MERGE_IN'];

// What the line was, in a few words.
function describe(tx) {
  const flight = tx.flight;
  if (flight && flight.origin) {
    return `${flight.carrier || 'FM'}${flight.flightNumber || ''} ${flight.origin}–${flight.destination}` +
      (flight.bookingClass ? ` (${flight.bookingClass})` : '') +
      (flight.flightDate ? ` · ${formatDate(flight.flightDate)}` : '');
  }
  if (tx.partnerCode) return [tx.partnerCode, tx.partnerReference].filter(Boolean).join(' · ');
  if (tx.counterpartyMemberNumber) return t('statement.counterparty', { number: tx.counterpartyMemberNumber });
  if (tx.reasonCode || tx.note) return [tx.reasonCode, tx.note].filter(Boolean).join(' · ');
  return '';
}

export async function render(root) {
  root.append(pageTitle(t('statement.title')));
  const apply = h('button', { type: 'submit', class: 'button-primary' }, t('statement.apply'));
  const filters = h('form', { class: 'form filters', novalidate: true, id: 'statement-filters', role: 'search' },
    formError(),
    h('div', { class: 'row' },
      field({ name: 'from', apiField: 'fromDate', label: t('statement.from'), type: 'date' }),
      field({ name: 'to', apiField: 'toDate', label: t('statement.to'), type: 'date' }),
      field({ name: 'type', apiField: 'types', label: t('statement.type'), type: 'select',
        options: [['', t('statement.allTypes')], ...TYPES.map((type) => [type, tEnum('transactionType', type)])] })),
    h('div', { class: 'actions' }, apply));
  const results = h('div', { id: 'statement-results', 'aria-live': 'polite' });
  root.append(filters, results);

  // Page tokens of the pages seen, to go back as well as on.
  let tokens = [''];
  let query = {};

  async function load() {
    const page = tokens.length;
    const answer = await api('GET', memberPath('/statement'), {
      query: { ...query, page: { pageSize: PAGE_SIZE, pageToken: tokens[tokens.length - 1] } },
    });
    const lines = answer.transactions || [];
    const next = answer.page && answer.page.nextPageToken;
    const previousButton = h('button', { type: 'button', class: 'button-secondary', id: 'previous-page', disabled: page === 1 },
      t('statement.previous'));
    const nextButton = h('button', { type: 'button', class: 'button-secondary', id: 'next-page', disabled: !next },
      t('statement.next'));
    previousButton.addEventListener('click', () => { tokens.pop(); busy(previousButton, show); });
    nextButton.addEventListener('click', () => { tokens.push(next); busy(nextButton, show); });
    fill(results,
      answer.balance
        ? h('p', { class: 'lead' }, t('statement.balanceNow', { miles: formatNumber(answer.balance.balance) }))
        : null,
      lines.length === 0
        ? h('p', { id: 'statement-empty' }, t('statement.empty'))
        : h('div', { class: 'table-wrap' }, h('table', { class: 'table table-stack', id: 'statement-table' },
          h('caption', {}, t('statement.page', { page })),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, t('statement.date')),
            h('th', { scope: 'col' }, t('statement.type')),
            h('th', { scope: 'col' }, t('statement.details')),
            h('th', { scope: 'col', class: 'num' }, t('statement.miles')),
            h('th', { scope: 'col', class: 'num' }, t('statement.balanceAfter')))),
          h('tbody', {}, lines.map((tx) => h('tr', { 'data-type': tx.type },
            h('td', { 'data-label': t('statement.date') }, formatDate(tx.postingDate)),
            h('td', { 'data-label': t('statement.type') }, tEnum('transactionType', tx.type)),
            h('td', { 'data-label': t('statement.details') }, describe(tx)),
            h('td', { 'data-label': t('statement.miles'), class: `num ${Number(tx.miles) < 0 ? 'debit' : 'credit'}` },
              formatMiles(tx.miles)),
            h('td', { 'data-label': t('statement.balanceAfter'), class: 'num' }, formatNumber(tx.balanceAfter))))))),
      h('nav', { class: 'pager', 'aria-label': t('statement.paging') }, previousButton, ' ', nextButton));
  }

  async function show() {
    try {
      await load();
    } catch (error) {
      showError(filters, error);
    }
  }

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(filters);
    const v = formValues(filters);
    query = { fromDate: toProtoDate(v.from), toDate: toProtoDate(v.to), types: v.type ? [v.type] : undefined };
    tokens = [''];
    busy(apply, show);
  });
  await show();
}
