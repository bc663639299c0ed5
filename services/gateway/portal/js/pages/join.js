// Join the programme (enrolment on the web), then log in at once.

import { api } from '../api.js';
import { LANGUAGES, language, t, tEnum } from '../i18n.js';
import {
  busy, clearErrors, field, formError, formValues, h, pageTitle, setFieldError, showError, toProtoDate,
} from '../ui.js';

const GENDERS = ['GENDER_UNSPECIFIED', 'FEMALE', 'MALE', 'OTHER'];
const DOCUMENTS = ['PASSPORT', 'NATIONAL_ID', 'OTHER_DOCUMENT'];

export async function render(root, { startSession }) {
  const submit = h('button', { type: 'submit', class: 'button-primary' }, t('join.submit'));
  const form = h('form', { class: 'form', novalidate: true, id: 'join-form' },
    formError(),
    h('fieldset', {}, h('legend', {}, t('join.aboutYou')),
      field({ name: 'familyName', apiField: 'profile.familyName', label: t('profile.familyName'), hint: t('profile.latinHint'), autocomplete: 'family-name', required: true }),
      field({ name: 'givenName', apiField: 'profile.givenName', label: t('profile.givenName'), autocomplete: 'given-name' }),
      field({ name: 'chineseName', apiField: 'profile.chineseName', label: t('profile.chineseName') }),
      field({ name: 'gender', apiField: 'profile.gender', label: t('profile.gender'), type: 'select',
        options: GENDERS.map((g) => [g, tEnum('gender', g)]) }),
      field({ name: 'dateOfBirth', apiField: 'profile.dateOfBirth', label: t('profile.dateOfBirth'), type: 'date', autocomplete: 'bday', required: true }),
      field({ name: 'nationality', apiField: 'profile.nationality', label: t('profile.nationality'), hint: t('profile.countryHint'), required: true, attrs: { maxlength: 2 } })),
    h('fieldset', {}, h('legend', {}, t('profile.document')),
      field({ name: 'documentType', apiField: 'profile.identityDocument.type', label: t('profile.documentType'), type: 'select',
        options: DOCUMENTS.map((d) => [d, tEnum('documentType', d)]) }),
      field({ name: 'documentNumber', apiField: 'profile.identityDocument.number', label: t('profile.documentNumber'), required: true }),
      field({ name: 'documentCountry', apiField: 'profile.identityDocument.issuingCountry', label: t('profile.documentCountry'), hint: t('profile.countryHint'), required: true, attrs: { maxlength: 2 } })),
    h('fieldset', {}, h('legend', {}, t('join.contact')),
      field({ name: 'mobilePhone', apiField: 'profile.mobilePhone', label: t('profile.mobilePhone'), hint: t('profile.phoneHint'), type: 'tel', autocomplete: 'tel', required: true }),
      field({ name: 'email', apiField: 'profile.email', label: t('profile.email'), type: 'email', autocomplete: 'email' }),
      field({ name: 'preferredLanguage', apiField: 'profile.preferredLanguage', label: t('profile.preferredLanguage'), type: 'select',
        value: language(), options: LANGUAGES.map((l) => [l, t(`languages.${l}`)]) }),
      field({ name: 'marketingConsent', apiField: 'profile.marketingConsent', label: t('profile.marketingConsent'), type: 'checkbox' })),
    h('fieldset', {}, h('legend', {}, t('join.passwordLegend')),
      field({ name: 'password', apiField: 'password', label: t('password.new'), hint: t('password.rule'), type: 'password', autocomplete: 'new-password', required: true }),
      field({ name: 'confirm', apiField: 'confirmPassword', label: t('password.confirm'), type: 'password', autocomplete: 'new-password', required: true })),
    h('div', { class: 'actions' }, submit));

  // One key per filled-in form: sending it twice enrols once.
  const requestId = crypto.randomUUID();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = formValues(form);
    clearErrors(form);
    if (v.password !== v.confirm) {
      setFieldError(form.elements.confirm, t('password.mismatch'));
      form.elements.confirm.focus();
      return;
    }
    const profile = {
      familyName: v.familyName,
      givenName: v.givenName,
      chineseName: v.chineseName,
      gender: v.gender,
      dateOfBirth: toProtoDate(v.dateOfBirth),
      nationality: v.nationality.toUpperCase(),
      identityDocument: { type: v.documentType, number: v.documentNumber, issuingCountry: v.documentCountry.toUpperCase() },
      mobilePhone: v.mobilePhone.replace(/[\s-]/g, ''),
      email: v.email,
      preferredLanguage: v.preferredLanguage,
      marketingConsent: v.marketingConsent,
    };
    busy(submit, async () => {
      try {
        const enrolled = await api('POST', '/v1/members',
          { body: { profile, password: v.password, requestId }, auth: false });
        const number = enrolled.member.memberNumber;
        const session = await api('POST', '/v1/session',
          { body: { login: number, password: v.password }, auth: false });
        await startSession(session, { text: t('join.welcome', { number }), kind: 'success' });
      } catch (error) {
        showError(form, error, { messages: { ALREADY_EXISTS: 'join.duplicate' } });
      }
    });
  });
  root.append(pageTitle(t('join.title')), h('p', { class: 'lead' }, t('join.intro')), form,
    h('p', { class: 'aside' }, t('join.haveAccount'), ' ', h('a', { href: '#/login' }, t('join.loginLink'))));
}
