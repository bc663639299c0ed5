// Log in with the member number or e-mail address and the password.

import { api } from '../api.js';
import { t } from '../i18n.js';
import { busy, field, formError, formValues, h, pageTitle, showError } from '../ui.js';

export async function render(root, { startSession }) {
  const submit = h('button', { type: 'submit', class: 'button-primary' }, t('login.submit'));
  const form = h('form', { class: 'form narrow', novalidate: true, id: 'login-form' },
    formError(),
    field({ name: 'login', label: t('login.login'), hint: t('login.loginHint'), autocomplete: 'username', required: true }),
    field({ name: 'password', label: t('login.password'), type: 'password', autocomplete: 'current-password', required: true }),
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const { login, password } = formValues(form);
      try {
        const session = await api('POST', '/v1/session', { body: { login, password }, auth: false });
        await startSession(session);
      } catch (error) {
        showError(form, error, { messages: { UNAUTHENTICATED: 'login.wrong', NOT_FOUND: 'login.wrong' } });
      }
    });
  });
  root.append(
    pageTitle(t('login.title')),
    form,
    h('p', { class: 'aside' }, t('login.noAccount'), ' ', h('a', { href: '#/join' }, t('login.joinLink'))));
}
