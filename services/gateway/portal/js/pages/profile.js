// The member's profile and preferences. Name, date of birth and identity
// document are shown but changed by staff only; the rest is saved with a
// field mask of what changed, against the version read.

import { api, memberPath } from '../api.js';
import { LANGUAGES, formatDate, formatTime, setLanguage, t, tEnum } from '../i18n.js';
import { busy, clearErrors, field, formError, formValues, h, pageTitle, showError, statusLine } from '../ui.js';

const GENDERS = ['GENDER_UNSPECIFIED', 'FEMALE', 'MALE', 'OTHER'];
const SEATS = ['NO_SEAT_PREFERENCE', 'AISLE', 'WINDOW'];

// Form control name -> [profile field (JSON name, also the mask path), how
// the profile's value shows in the form, how the form's value goes back].
const EDITABLE = {
  chineseName: ['chineseName'],
  gender: ['gender', (v) => v || 'GENDER_UNSPECIFIED'],
  mobilePhone: ['mobilePhone', null, (v) => v.replace(/[\s-]/g, '')],
  email: ['email'],
  employer: ['employer'],
  preferredLanguage: ['preferredLanguage', (v) => v || 'en'],
  seatPreference: ['seatPreference', (v) => v || 'NO_SEAT_PREFERENCE'],
  mealPreference: ['mealPreference', (v) => v || 'NONE', (v) => v.toUpperCase()],
  marketingConsent: ['marketingConsent', (v) => Boolean(v)],
};
const ADDRESS = ['lines', 'city', 'region', 'postalCode', 'country'];

function formAddress(address = {}) {
  return {
    lines: (address.lines || []).join('\n'),
    city: address.city || '', region: address.region || '',
    postalCode: address.postalCode || '', country: address.country || '',
  };
}

export async function render(root, { navigate }) {
  root.append(pageTitle(t('profile.title')));
  const answer = await api('GET', memberPath());
  const member = answer.member || {};
  const p = member.profile || {};
  const doc = p.identityDocument || {};
  const shown = (name) => {
    const [key, toForm] = EDITABLE[name];
    return toForm ? toForm(p[key]) : (p[key] || '');
  };
  const address = formAddress(p.address);

  root.append(h('section', { class: 'card', 'aria-labelledby': 'fixed-title' },
    h('h2', { id: 'fixed-title' }, t('profile.fixed')),
    h('dl', { class: 'facts', id: 'fixed-facts' },
      h('dt', {}, t('profile.memberNumber')), h('dd', {}, member.memberNumber),
      h('dt', {}, t('profile.name')), h('dd', {}, `${p.givenName || ''} ${p.familyName || ''}`.trim()),
      h('dt', {}, t('profile.dateOfBirth')), h('dd', {}, formatDate(p.dateOfBirth)),
      h('dt', {}, t('profile.nationality')), h('dd', {}, p.nationality || ''),
      h('dt', {}, t('profile.document')), h('dd', {}, `${tEnum('documentType', doc.type)} ${doc.number || ''} (${doc.issuingCountry || ''})`),
      h('dt', {}, t('profile.tier')), h('dd', {}, tEnum('tier', member.tier)),
      h('dt', {}, t('profile.enrolled')), h('dd', {}, formatTime(member.enrolledAt))),
    h('p', { class: 'hint' }, t('profile.fixedHint'))));

  const save = h('button', { type: 'submit', class: 'button-primary' }, t('profile.save'));
  const status = statusLine();
  const form = h('form', { class: 'form', novalidate: true, id: 'profile-form' },
    formError(),
    h('fieldset', {}, h('legend', {}, t('join.contact')),
      field({ name: 'mobilePhone', apiField: 'profile.mobilePhone', label: t('profile.mobilePhone'), hint: t('profile.phoneHint'), type: 'tel', autocomplete: 'tel', value: shown('mobilePhone') }),
      field({ name: 'email', apiField: 'profile.email', label: t('profile.email'), type: 'email', autocomplete: 'email', value: shown('email') }),
      field({ name: 'chineseName', apiField: 'profile.chineseName', label: t('profile.chineseName'), value: shown('chineseName') }),
      field({ name: 'gender', apiField: 'profile.gender', label: t('profile.gender'), type: 'select', value: shown('gender'),
        options: GENDERS.map((g) => [g, tEnum('gender', g)]) }),
      field({ name: 'employer', apiField: 'profile.employer', label: t('profile.employer'), value: shown('employer') })),
    h('fieldset', {}, h('legend', {}, t('profile.address')),
      field({ name: 'lines', apiField: 'profile.address.lines', label: t('profile.addressLines'), hint: t('profile.addressLinesHint'), type: 'textarea', autocomplete: 'street-address', value: address.lines }),
      h('div', { class: 'row' },
        field({ name: 'city', apiField: 'profile.address.city', label: t('profile.city'), autocomplete: 'address-level2', value: address.city }),
        field({ name: 'region', apiField: 'profile.address.region', label: t('profile.region'), autocomplete: 'address-level1', value: address.region })),
      h('div', { class: 'row' },
        field({ name: 'postalCode', apiField: 'profile.address.postalCode', label: t('profile.postalCode'), autocomplete: 'postal-code', value: address.postalCode }),
        field({ name: 'country', apiField: 'profile.address.country', label: t('profile.country'), hint: t('profile.countryHint'), autocomplete: 'country', value: address.country, attrs: { maxlength: 2 } }))),
    h('fieldset', {}, h('legend', {}, t('profile.preferences')),
      field({ name: 'preferredLanguage', apiField: 'profile.preferredLanguage', label: t('profile.preferredLanguage'), type: 'select', value: shown('preferredLanguage'),
        options: LANGUAGES.map((l) => [l, t(`languages.${l}`)]) }),
      field({ name: 'seatPreference', apiField: 'profile.seatPreference', label: t('profile.seatPreference'), type: 'select', value: shown('seatPreference'),
        options: SEATS.map((s) => [s, tEnum('seatPreference', s)]) }),
      field({ name: 'mealPreference', apiField: 'profile.mealPreference', label: t('profile.mealPreference'), hint: t('profile.mealHint'), value: shown('mealPreference'), attrs: { maxlength: 4 } }),
      field({ name: 'marketingConsent', apiField: 'profile.marketingConsent', label: t('profile.marketingConsent'), type: 'checkbox', value: shown('marketingConsent') })),
    h('div', { class: 'actions' }, save),
    status);
  root.append(form);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    status.textContent = '';
    const v = formValues(form);
    const profile = {};
    const mask = [];
    for (const [name, [key, , fromForm]] of Object.entries(EDITABLE)) {
      const value = fromForm ? fromForm(v[name]) : v[name];
      if (value !== shown(name)) {
        profile[key] = value;
        mask.push(key);
      }
    }
    const newAddress = Object.fromEntries(ADDRESS.map((key) => [key, v[key]]));
    if (ADDRESS.some((key) => newAddress[key] !== address[key])) {
      profile.address = {
        lines: newAddress.lines.split('\n').map((line) => line.trim()).filter(Boolean),
        city: newAddress.city, region: newAddress.region,
        postalCode: newAddress.postalCode.toUpperCase(), country: newAddress.country.toUpperCase(),
      };
      mask.push('address');
    }
    if (!mask.length) {
      status.textContent = t('profile.nothingChanged');
      return;
    }
    busy(save, async () => {
      try {
        await api('PATCH', memberPath('/profile'), {
          body: { profile, updateMask: mask.join(','), expectedVersion: member.version },
        });
        if (profile.preferredLanguage) setLanguage(profile.preferredLanguage);
        navigate('/profile', { text: t('profile.saved'), kind: 'success' });
      } catch (error) {
        showError(form, error, { messages: { FAILED_PRECONDITION: 'profile.changedElsewhere', ALREADY_EXISTS: 'profile.emailTaken' } });
      }
    });
  });
}
