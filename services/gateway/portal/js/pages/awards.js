// Award search and redemption: price an itinerary in a cabin for the member
// and nominees (POST /v1/awards/quote, which also shows the award seats of
// own flights), then confirm with the password to hold seats and miles and
// issue the award tickets (product rules section 5: the web channel issues).

import { api, memberPath, redemptionPath } from '../api.js';
import { formatDate, formatNumber, formatTime, t, tEnum } from '../i18n.js';
import {
  busy, clearErrors, errorBox, field, fill, formError, formValues, h, pageTitle, showError, toProtoDate, todayUtc,
  fromProtoDate,
} from '../ui.js';

const JOURNEYS = ['ONE_WAY', 'ROUND_TRIP', 'OPEN_JAW'];
const CABINS = ['ECONOMY', 'BUSINESS', 'FIRST'];

function segmentFields(journey, legendKey, defaults) {
  const api = (name) => `itinerary.${journey}.segments[0].${name}`;
  return h('fieldset', { id: `${journey}-fields` },
    h('legend', {}, t(legendKey)),
    h('div', { class: 'row' },
      field({ name: `${journey}Carrier`, apiField: api('carrier'), label: t('flight.carrier'), value: 'FM', hint: t('awards.carrierHint'), attrs: { maxlength: 2 } }),
      field({ name: `${journey}FlightNumber`, apiField: api('flightNumber'), label: t('flight.number'), attrs: { inputmode: 'numeric' } }),
      field({ name: `${journey}Date`, apiField: api('flightDate'), label: t('flight.date'), type: 'date', value: defaults.date })),
    h('div', { class: 'row' },
      field({ name: `${journey}Origin`, apiField: api('origin'), label: t('flight.origin'), hint: t('flight.airportHint'), attrs: { maxlength: 3 } }),
      field({ name: `${journey}Destination`, apiField: api('destination'), label: t('flight.destination'), hint: t('flight.airportHint'), attrs: { maxlength: 3 } })));
}

function segmentFrom(v, journey) {
  return {
    carrier: (v[`${journey}Carrier`] || '').toUpperCase(),
    flightNumber: Number.parseInt(v[`${journey}FlightNumber`], 10) || 0,
    flightDate: toProtoDate(v[`${journey}Date`]),
    origin: (v[`${journey}Origin`] || '').toUpperCase(),
    destination: (v[`${journey}Destination`] || '').toUpperCase(),
  };
}

function seatsText(seats) {
  return h('li', {},
    `${seats.carrier || 'FM'}${seats.flightNumber} · ${formatDate(seats.flightDate)}: `,
    (seats.cabins || []).map((cabin, i) => [i ? ', ' : '',
      t('awards.seatsLeft', { cabin: tEnum('cabin', cabin.cabin), available: cabin.available || 0, capacity: cabin.capacity || 0 })]));
}

export async function render(root) {
  root.append(pageTitle(t('awards.title')), h('p', { class: 'lead' }, t('awards.intro')));

  let member = {};
  let nominees = [];
  try {
    const [memberAnswer, nomineeAnswer] = await Promise.all([
      api('GET', memberPath()), api('GET', memberPath('/nominees'))]);
    member = memberAnswer.member || {};
    nominees = nomineeAnswer.nominees || [];
  } catch (error) {
    root.append(errorBox(error));
  }
  const memberName = [member.profile?.givenName, member.profile?.familyName].filter(Boolean).join(' ');

  const search = h('button', { type: 'submit', class: 'button-primary' }, t('awards.search'));
  const soon = fromProtoDate(todayUtc(14));
  const inbound = segmentFields('inbound', 'awards.inbound', { date: fromProtoDate(todayUtc(21)) });
  const form = h('form', { class: 'form', novalidate: true, id: 'award-search' },
    formError(),
    h('div', { class: 'row' },
      field({ name: 'journeyType', apiField: 'itinerary.journeyType', label: t('awards.journeyType'), type: 'select',
        options: JOURNEYS.map((j) => [j, tEnum('journeyType', j)]) }),
      field({ name: 'cabin', apiField: 'cabin', label: t('awards.cabin'), type: 'select',
        options: CABINS.map((c) => [c, tEnum('cabin', c)]) })),
    segmentFields('outbound', 'awards.outbound', { date: soon }),
    inbound,
    h('fieldset', { id: 'passengers', 'data-api-field': 'passengers', 'aria-describedby': 'passengers-error' },
      h('legend', {}, t('awards.passengers')),
      h('div', { class: 'field field-check' },
        h('input', { type: 'checkbox', id: 'passenger-member', name: 'passengerMember', checked: true, 'data-api-field': 'passengers[0]' }),
        h('label', { for: 'passenger-member' }, t('awards.me', { name: memberName }))),
      nominees.map((nominee) => h('div', { class: 'field field-check' },
        h('input', { type: 'checkbox', id: `passenger-${nominee.nomineeId}`, name: `nominee:${nominee.nomineeId}` }),
        h('label', { for: `passenger-${nominee.nomineeId}` }, `${nominee.givenName || ''} ${nominee.familyName || ''}`.trim()))),
      nominees.length === 0 ? h('p', { class: 'hint' }, t('awards.noNominees'), ' ', h('a', { href: '#/nominees' }, t('nav.nominees'))) : null,
      h('p', { class: 'field-error', id: 'passengers-error', hidden: true })),
    h('div', { class: 'actions' }, search));
  const result = h('section', { id: 'quote', 'aria-live': 'polite' });
  root.append(form, result);

  const showInbound = () => { inbound.hidden = form.elements.journeyType.value === 'ONE_WAY'; };
  form.elements.journeyType.addEventListener('change', showInbound);
  showInbound();
  // A changed search makes the quote shown stale.
  form.addEventListener('input', () => result.replaceChildren());

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    const v = formValues(form);
    const itinerary = {
      journeyType: v.journeyType,
      outbound: { segments: [segmentFrom(v, 'outbound')] },
      inbound: v.journeyType === 'ONE_WAY' ? undefined : { segments: [segmentFrom(v, 'inbound')] },
    };
    const passengers = [];
    if (v.passengerMember) passengers.push({ member: true });
    for (const [name, checked] of Object.entries(v)) {
      if (name.startsWith('nominee:') && checked) passengers.push({ nomineeId: name.slice('nominee:'.length) });
    }
    busy(search, async () => {
      try {
        const quote = await api('POST', '/v1/awards/quote',
          { body: { itinerary, cabin: v.cabin, passengers: passengers.length } });
        showQuote({ itinerary, cabin: v.cabin, passengers }, quote);
      } catch (error) {
        result.replaceChildren();
        showError(form, error);
      }
    });
  });

  function showQuote(request, quote) {
    const prices = quote.prices || [];
    const confirm = h('button', { type: 'submit', class: 'button-primary', disabled: !quote.seatsAvailable },
      t('awards.confirm', { miles: formatNumber(quote.totalMiles) }));
    const redeemForm = h('form', { class: 'form narrow', novalidate: true, id: 'redeem-form' },
      h('h3', {}, t('awards.confirmTitle')),
      formError(),
      field({ name: 'memberPassword', apiField: 'memberPassword', label: t('awards.password'), hint: t('awards.passwordHint'), type: 'password', autocomplete: 'current-password' }),
      h('div', { class: 'actions' }, confirm));
    // One key per quote confirmed: pressing twice redeems once.
    const requestId = crypto.randomUUID();
    redeemForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const password = redeemForm.elements.memberPassword.value;
      const body = {
        standard: { itinerary: request.itinerary, cabin: request.cabin },
        passengers: request.passengers,
        memberPassword: password,
        requestId,
      };
      busy(confirm, async () => {
        let held;
        try {
          // The password travels with the request: the redemption service
          // checks it (the gateway does not vouch for the session then).
          held = (await api('POST', memberPath('/redemptions'), { body })).redemption || {};
        } catch (error) {
          showError(redeemForm, error, {
            strip: ['standard.'],
            fieldFor: { UNAUTHENTICATED: 'memberPassword' },
            messages: { UNAUTHENTICATED: 'awards.wrongPassword', FAILED_PRECONDITION: 'awards.notPossible' },
          });
          if (error.code === 'INVALID_ARGUMENT' || error.code === 'NOT_FOUND') {
            // A field of the search itself: show it there too.
            showError(form, error, { strip: ['standard.'] });
          }
          return;
        }
        // The award is booked whatever happens next: a failed issue leaves
        // it held, to be issued from "My awards" before the hold runs out.
        let issued;
        let issueError;
        try {
          issued = (await api('POST', redemptionPath(held.redemptionId, 'issue'), { body: {} })).redemption || {};
        } catch (error) {
          issueError = error;
        }
        const r = issued || held;
        fill(result,
          h('div', {
            class: 'alert alert-success', role: 'status', id: 'redeemed', tabindex: '-1',
            'data-redemption': r.redemptionId, 'data-state': r.state,
          },
          h('p', {}, t(issued ? 'awards.issued' : 'awards.held', { id: r.redemptionId, miles: formatNumber(r.totalMiles) })),
          issued
            ? h('p', { id: 'issued-tickets' }, t('awards.tickets', { numbers: (r.awardTicketNumbers || []).join(', ') }))
            : r.holdExpiresAt && h('p', {}, t('awards.holdUntil', { time: formatTime(r.holdExpiresAt) })),
          h('p', {}, h('a', { href: '#/redemptions' }, t(issued ? 'awards.seeRedemptions' : 'awards.issueLater')))),
          issueError && errorBox(issueError, { FAILED_PRECONDITION: 'redemptions.issueNotPossible' }));
        result.querySelector('#redeemed').focus();
      });
    });
    result.replaceChildren(h('div', { class: 'card', id: 'quote-card' },
      h('h2', {}, t('awards.quoteTitle')),
      h('dl', { class: 'facts' },
        prices.map((price, i) => [
          h('dt', {}, t(i === 0 ? 'awards.outbound' : 'awards.inbound')),
          h('dd', {}, t('awards.price', { distance: formatNumber(price.distanceMiles), miles: formatNumber(price.miles) }))]),
        h('dt', {}, t('awards.perPassenger')), h('dd', { id: 'quote-per-passenger' }, formatNumber(quote.milesPerPassenger)),
        h('dt', {}, t('awards.passengerCount')), h('dd', {}, formatNumber(quote.passengers)),
        h('dt', {}, t('awards.total')), h('dd', { id: 'quote-total' }, formatNumber(quote.totalMiles))),
      (quote.seats || []).length ? h('ul', { class: 'seats' }, quote.seats.map(seatsText)) : null,
      quote.seatsAvailable
        ? null
        : h('p', { class: 'alert alert-error', id: 'no-seats' }, t('awards.noSeats')),
      redeemForm));
    result.querySelector('h2').setAttribute('tabindex', '-1');
    result.querySelector('h2').focus();
  }
}
