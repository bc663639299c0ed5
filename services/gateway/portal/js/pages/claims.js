// Missing miles: claim an own flight that was not credited (up to six
// months after the flight), and see the claims made and their state.

import { api, memberPath } from '../api.js';
import { formatDate, formatTime, t, tEnum } from '../i18n.js';
import {
  busy, clearErrors, errorBox, field, formError, formValues, h, pageTitle, showError, statusLine, toProtoDate,
} from '../ui.js';

function claimRow(claim) {
  const flight = claim.flight || {};
  const identity = claim.flightIdentity || {};
  const label = (key) => ({ 'data-label': t(`claims.col.${key}`) });
  return h('tr', { 'data-claim': claim.claimId, 'data-state': claim.state },
    h('td', label('submitted'), formatTime(claim.submittedAt)),
    h('td', label('flight'), `${flight.carrier || 'FM'}${flight.flightNumber || ''} ${flight.origin || ''}–${flight.destination || ''}`),
    h('td', label('date'), formatDate(flight.flightDate)),
    h('td', label('ticket'), `${identity.ticketNumber || ''} / ${identity.couponNumber || ''}`),
    h('td', label('state'), tEnum('claimState', claim.state),
      claim.rejectionReason ? h('span', { class: 'hint' }, ` ${claim.rejectionReason} ${claim.rejectionNote || ''}`) : null));
}

export async function render(root) {
  root.append(pageTitle(t('claims.title')), h('p', { class: 'lead' }, t('claims.intro')));
  const submit = h('button', { type: 'submit', class: 'button-primary' }, t('claims.submit'));
  const status = statusLine();
  const form = h('form', { class: 'form', novalidate: true, id: 'claim-form' },
    h('h2', {}, t('claims.newClaim')),
    formError(),
    h('div', { class: 'row' },
      field({ name: 'ticketNumber', apiField: 'flightIdentity.ticketNumber', label: t('claims.ticket'), hint: t('claims.ticketHint'), attrs: { inputmode: 'numeric', maxlength: 13 } }),
      field({ name: 'couponNumber', apiField: 'flightIdentity.couponNumber', label: t('claims.coupon'), type: 'select',
        options: [1, 2, 3, 4].map((n) => [String(n), String(n)]) })),
    h('div', { class: 'row' },
      field({ name: 'flightNumber', apiField: 'flight.flightNumber', label: t('flight.number'), hint: t('claims.flightHint'), attrs: { inputmode: 'numeric' } }),
      field({ name: 'flightDate', apiField: 'flight.flightDate', label: t('flight.date'), type: 'date' })),
    h('div', { class: 'row' },
      field({ name: 'origin', apiField: 'flight.origin', label: t('flight.origin'), hint: t('flight.airportHint'), attrs: { maxlength: 3 } }),
      field({ name: 'destination', apiField: 'flight.destination', label: t('flight.destination'), hint: t('flight.airportHint'), attrs: { maxlength: 3 } }),
      field({ name: 'bookingClass', apiField: 'flight.bookingClass', label: t('claims.bookingClass'), attrs: { maxlength: 1 } })),
    h('div', { class: 'actions' }, submit),
    status);
  const list = h('section', { id: 'claims-list', 'aria-labelledby': 'claims-list-title' });
  root.append(form, list);

  async function loadList() {
    try {
      const answer = await api('GET', memberPath('/claims'));
      const claims = (answer.claims || []).slice().reverse();
      list.replaceChildren(h('h2', { id: 'claims-list-title' }, t('claims.yourClaims')),
        claims.length === 0
          ? h('p', {}, t('claims.none'))
          : h('div', { class: 'table-wrap' }, h('table', { class: 'table table-stack', id: 'claims-table' },
            h('thead', {}, h('tr', {}, ['submitted', 'flight', 'date', 'ticket', 'state'].map((key) =>
              h('th', { scope: 'col' }, t(`claims.col.${key}`))))),
            h('tbody', {}, claims.map(claimRow)))));
    } catch (error) {
      list.replaceChildren(h('h2', { id: 'claims-list-title' }, t('claims.yourClaims')), errorBox(error));
    }
  }

  let requestId = crypto.randomUUID();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    status.textContent = '';
    const v = formValues(form);
    const body = {
      flightIdentity: { ticketNumber: v.ticketNumber, couponNumber: Number(v.couponNumber) },
      flight: {
        flightNumber: Number.parseInt(v.flightNumber, 10) || 0,
        flightDate: toProtoDate(v.flightDate),
        origin: v.origin.toUpperCase(),
        destination: v.destination.toUpperCase(),
        bookingClass: v.bookingClass.toUpperCase(),
      },
      requestId,
    };
    busy(submit, async () => {
      try {
        const answer = await api('POST', memberPath('/claims'), { body });
        form.reset();
        requestId = crypto.randomUUID();
        clearErrors(form);
        status.textContent = t('claims.submitted', { state: tEnum('claimState', answer.claim?.state) });
        await loadList();
      } catch (error) {
        showError(form, error, { messages: { ALREADY_EXISTS: 'claims.duplicate' } });
      }
    });
  });
  await loadList();
}
