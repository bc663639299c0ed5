// Redemption nominees: the people (up to five) the member may redeem
// awards for.

import { api, memberPath } from '../api.js';
import { formatDate, t, tEnum } from '../i18n.js';
import {
  busy, clearErrors, confirmButton, errorBox, field, formError, formValues, h, pageTitle, showError, statusLine,
  toProtoDate,
} from '../ui.js';

const DOCUMENTS = ['PASSPORT', 'NATIONAL_ID', 'OTHER_DOCUMENT'];
const MAX_NOMINEES = 5;

export async function render(root) {
  root.append(pageTitle(t('nominees.title')), h('p', { class: 'lead' }, t('nominees.intro', { max: MAX_NOMINEES })));
  const status = statusLine();
  const list = h('section', { id: 'nominees-list', 'aria-labelledby': 'nominees-list-title' });
  const add = h('button', { type: 'submit', class: 'button-primary' }, t('nominees.add'));
  const form = h('form', { class: 'form', novalidate: true, id: 'nominee-form' },
    h('h2', {}, t('nominees.addTitle')),
    formError(),
    h('div', { class: 'row' },
      field({ name: 'familyName', apiField: 'nominee.familyName', label: t('profile.familyName'), hint: t('profile.latinHint') }),
      field({ name: 'givenName', apiField: 'nominee.givenName', label: t('profile.givenName') })),
    field({ name: 'dateOfBirth', apiField: 'nominee.dateOfBirth', label: t('profile.dateOfBirth'), type: 'date' }),
    h('div', { class: 'row' },
      field({ name: 'documentType', apiField: 'nominee.identityDocument.type', label: t('profile.documentType'), type: 'select',
        options: DOCUMENTS.map((d) => [d, tEnum('documentType', d)]) }),
      field({ name: 'documentNumber', apiField: 'nominee.identityDocument.number', label: t('profile.documentNumber') }),
      field({ name: 'documentCountry', apiField: 'nominee.identityDocument.issuingCountry', label: t('profile.documentCountry'), hint: t('profile.countryHint'), attrs: { maxlength: 2 } })),
    h('div', { class: 'actions' }, add));
  root.append(status, list, form);

  async function remove(nominee) {
    status.textContent = '';
    try {
      await api('DELETE', memberPath(`/nominees/${encodeURIComponent(nominee.nomineeId)}`));
      await load();
      status.textContent = t('nominees.removed', { name: `${nominee.givenName || ''} ${nominee.familyName}`.trim() });
    } catch (error) {
      list.append(errorBox(error));
    }
  }

  async function load() {
    try {
      const nominees = (await api('GET', memberPath('/nominees'))).nominees || [];
      list.replaceChildren(h('h2', { id: 'nominees-list-title' }, t('nominees.count', { count: nominees.length, max: MAX_NOMINEES })),
        nominees.length === 0
          ? h('p', {}, t('nominees.none'))
          : h('div', { class: 'table-wrap' }, h('table', { class: 'table table-stack', id: 'nominees-table' },
            h('thead', {}, h('tr', {},
              h('th', { scope: 'col' }, t('nominees.name')),
              h('th', { scope: 'col' }, t('profile.dateOfBirth')),
              h('th', { scope: 'col' }, t('profile.document')),
              h('td', {}))),
            h('tbody', {}, nominees.map((n) => h('tr', { 'data-nominee': n.nomineeId },
              h('td', { 'data-label': t('nominees.name') }, `${n.givenName || ''} ${n.familyName || ''}`.trim()),
              h('td', { 'data-label': t('profile.dateOfBirth') }, formatDate(n.dateOfBirth)),
              h('td', { 'data-label': t('profile.document') },
                `${tEnum('documentType', n.identityDocument?.type)} ${n.identityDocument?.number || ''}`),
              h('td', { class: 'row-actions' }, confirmButton({
                label: t('nominees.remove'), question: t('nominees.removeQuestion'),
                yes: t('nominees.removeYes'), no: t('common.no'), action: () => remove(n),
              }))))))));
    } catch (error) {
      list.replaceChildren(errorBox(error));
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    status.textContent = '';
    const v = formValues(form);
    const nominee = {
      familyName: v.familyName,
      givenName: v.givenName,
      dateOfBirth: toProtoDate(v.dateOfBirth),
      identityDocument: { type: v.documentType, number: v.documentNumber, issuingCountry: v.documentCountry.toUpperCase() },
    };
    busy(add, async () => {
      try {
        const added = await api('POST', memberPath('/nominees'), { body: { nominee } });
        form.reset();
        await load();
        const n = added.nominee || nominee;
        status.textContent = t('nominees.added', { name: `${n.givenName || ''} ${n.familyName || ''}`.trim() });
      } catch (error) {
        showError(form, error, { messages: { FAILED_PRECONDITION: 'nominees.tooMany', RESOURCE_EXHAUSTED: 'nominees.tooMany' } });
      }
    });
  });
  await load();
}
