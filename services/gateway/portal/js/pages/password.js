// Change the password: the current one, then the new one twice.

import { api, memberPath } from '../api.js';
import { t } from '../i18n.js';
import { busy, clearErrors, field, formError, formValues, h, pageTitle, setFieldError, showError, statusLine } from '../ui.js';

export async function render(root) {
  const submit = h('button', { type: 'submit', class: 'button-primary' }, t('password.submit'));
  const status = statusLine();
  const form = h('form', { class: 'form narrow', novalidate: true, id: 'password-form' },
    formError(),
    field({ name: 'currentPassword', label: t('password.current'), type: 'password', autocomplete: 'current-password' }),
    field({ name: 'newPassword', label: t('password.new'), hint: t('password.rule'), type: 'password', autocomplete: 'new-password' }),
    field({ name: 'confirm', apiField: 'confirmPassword', label: t('password.confirm'), type: 'password', autocomplete: 'new-password' }),
    h('div', { class: 'actions' }, submit),
    status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    status.textContent = '';
    const v = formValues(form);
    if (v.newPassword !== v.confirm) {
      setFieldError(form.elements.confirm, t('password.mismatch'));
      form.elements.confirm.focus();
      return;
    }
    busy(submit, async () => {
      try {
        await api('POST', memberPath('/password'), {
          body: { currentPassword: v.currentPassword, newPassword: v.newPassword },
        });
        form.reset();
        status.textContent = t('password.changed');
      } catch (error) {
        showError(form, error, {
          fieldFor: { UNAUTHENTICATED: 'currentPassword', PERMISSION_DENIED: 'currentPassword' },
          messages: { UNAUTHENTICATED: 'password.wrongCurrent', PERMISSION_DENIED: 'password.wrongCurrent' },
        });
      }
    });
  });
  root.append(pageTitle(t('password.title')), form);
}
