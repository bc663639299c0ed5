// Small helpers every page uses: building elements, labelled form controls,
// showing the API's errors next to the fields they name, dates between
// <input type="date"> and common.v1.Date.

import { language, t } from './i18n.js';

// h('p', {class: 'note'}, 'text', child, [more]) -> element. Attributes
// starting with "on" are listeners; true/false set or omit boolean ones.
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'class') {
      element.className = value;
    } else if (name === 'value' && 'value' in element) {
      element.value = value;
    } else if (name === 'checked' || name === 'selected') {
      element[name] = Boolean(value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

// Replaces an element's children (null and false are left out).
export function fill(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
  return parent;
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : String(child));
  }
}

// The page's heading; focused after navigation so that screen readers and
// keyboards start there.
export function pageTitle(text) {
  return h('h1', { tabindex: '-1', class: 'page-title' }, text);
}

let fieldCounter = 0;

// A labelled control with its error line. spec: {name, label, type, value,
// options: [[value, text]], apiField (the request field it fills, for error
// display), hint, autocomplete, required, attrs}.
export function field(spec) {
  const id = spec.id || `f-${spec.name.replace(/\W+/g, '-')}-${++fieldCounter}`;
  const describedBy = [];
  const hint = spec.hint ? h('p', { class: 'hint', id: `${id}-hint` }, spec.hint) : null;
  if (hint) describedBy.push(hint.id);
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  describedBy.push(error.id);
  const common = {
    id,
    name: spec.name,
    'data-api-field': spec.apiField || spec.name,
    'aria-describedby': describedBy.join(' '),
    autocomplete: spec.autocomplete,
    required: spec.required,
    ...(spec.attrs || {}),
  };
  let control;
  if (spec.type === 'select') {
    control = h('select', common, (spec.options || []).map(([value, text]) =>
      h('option', { value, selected: String(value) === String(spec.value ?? '') }, text)));
  } else if (spec.type === 'textarea') {
    control = h('textarea', { ...common, rows: spec.rows || 3 });
    control.value = spec.value ?? '';
  } else if (spec.type === 'checkbox') {
    control = h('input', { ...common, type: 'checkbox', checked: spec.value });
    return h('div', { class: 'field field-check' }, control,
      h('label', { for: id }, spec.label), hint, error);
  } else {
    control = h('input', { ...common, type: spec.type || 'text', value: spec.value ?? '' });
  }
  return h('div', { class: 'field' }, h('label', { for: id }, spec.label), control, hint, error);
}

// The general message area of a form (role=alert: read out when filled).
export function formError() {
  return h('div', { class: 'alert alert-error form-error', role: 'alert', hidden: true });
}

// A status line for successes ("Saved."), read out politely.
export function statusLine() {
  return h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
}

export function formValues(form) {
  const values = {};
  for (const control of form.elements) {
    if (!control.name) continue;
    if (control.type === 'checkbox') values[control.name] = control.checked;
    else if (control.type === 'password') values[control.name] = control.value;
    else values[control.name] = control.value.trim();
  }
  return values;
}

export function clearErrors(form) {
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  for (const line of form.querySelectorAll('.field-error')) {
    line.textContent = '';
    line.hidden = true;
  }
  const general = form.querySelector('.form-error');
  if (general) {
    general.textContent = '';
    general.hidden = true;
  }
}

// "profile.date_of_birth" and "profile.dateOfBirth" compare equal.
function canonical(path) {
  return String(path).replace(/_/g, '').toLowerCase();
}

function findControl(form, path, strip) {
  const controls = [...form.querySelectorAll('[data-api-field]')];
  let wanted = canonical(path);
  for (const prefix of strip) {
    if (wanted.startsWith(canonical(prefix))) wanted = wanted.slice(canonical(prefix).length);
  }
  // The field itself, else the nearest enclosing one that has a control
  // ("profile.date_of_birth.day" -> "profile.date_of_birth"). A path named
  // relative to a nested message (UpdateProfile says "mobile_phone" for
  // "profile.mobile_phone") matches the end of a control's field.
  while (wanted) {
    const match = controls.find((c) => canonical(c.dataset.apiField) === wanted) ||
      controls.find((c) => canonical(c.dataset.apiField).endsWith(`.${wanted}`));
    if (match) return match;
    const cut = Math.max(wanted.lastIndexOf('.'), wanted.lastIndexOf('['));
    if (cut <= 0) break;
    wanted = wanted.slice(0, cut);
  }
  return null;
}

export function setFieldError(control, text) {
  control.setAttribute('aria-invalid', 'true');
  const line = document.getElementById(`${control.id}-error`) ||
    control.closest('.field, fieldset')?.querySelector('.field-error');
  if (line) {
    if (line.childNodes.length) line.append(' ');
    line.append(text);
    line.hidden = false;
  }
}

// The rule a field broke, as the service words it (in English): said as it
// is on English pages, after a sentence in the page's language otherwise.
function ruleText(description) {
  const rule = description.charAt(0).toUpperCase() + description.slice(1);
  if (language() === 'en') return rule;
  return h('span', {}, t('errors.invalidField'), ' ', h('span', { lang: 'en', class: 'rule' }, rule));
}

// A readable sentence for an error as a whole, by its code; `messages` may
// override a code's text for one form ({UNAUTHENTICATED: 'login.wrong'}).
export function errorText(error, messages = {}) {
  const code = error.code || 'INTERNAL';
  if (messages[code]) return t(messages[code]);
  const text = t(`errors.${code}`);
  return text === `errors.${code}` ? t('errors.INTERNAL') : text;
}

// Shows an ApiError on a form: each named field's rule next to it, the rest
// in the form's general message. options: messages (see errorText),
// fieldFor ({CODE: apiField} for errors that name no field, e.g. a wrong
// password), strip (request prefixes the form's fields leave out).
export function showError(form, error, { messages = {}, fieldFor = {}, strip = [] } = {}) {
  clearErrors(form);
  const general = form.querySelector('.form-error');
  const unplaced = [];
  let first = null;
  for (const detail of error.details || []) {
    const control = detail.field ? findControl(form, detail.field, strip) : null;
    if (control) {
      setFieldError(control, detail.description ? ruleText(detail.description) : t('errors.invalidField'));
      first ??= control;
    } else if (detail.description) {
      unplaced.push(detail.field ? `${detail.field}: ${detail.description}` : detail.description);
    }
  }
  if (!first && fieldFor[error.code]) {
    const control = findControl(form, fieldFor[error.code], []);
    if (control) {
      setFieldError(control, errorText(error, messages));
      first = control;
    }
  }
  if (general) {
    const overridden = Boolean(messages[error.code]);
    fill(general,
      h('p', {}, first ? t('errors.checkFields') : errorText(error, messages)),
      !first && !overridden && error.detail ? h('p', { class: 'detail' }, error.detail) : null,
      unplaced.length ? h('ul', {}, unplaced.map((line) => h('li', {}, line))) : null);
    general.hidden = false;
  }
  if (first) {
    first.focus();
  } else if (general) {
    general.tabIndex = -1;
    general.focus();
  }
}

// A page-level error (a list that failed to load, say).
export function errorBox(error, messages = {}) {
  return h('div', { class: 'alert alert-error', role: 'alert' },
    h('p', {}, errorText(error, messages)),
    error.detail ? h('p', { class: 'detail' }, error.detail) : null);
}

export function loading() {
  return h('p', { class: 'loading', role: 'status' }, t('common.loading'));
}

// "2026-03-15" <-> {year: 2026, month: 3, day: 15}; empty for empty.
export function toProtoDate(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || '');
  if (!match) return undefined;
  return { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
}

export function fromProtoDate(date) {
  if (!date || !date.year) return '';
  const pad = (n) => String(n || 1).padStart(2, '0');
  return `${String(date.year).padStart(4, '0')}-${pad(date.month)}-${pad(date.day)}`;
}

export function todayUtc(offsetDays = 0) {
  const now = new Date(Date.now() + offsetDays * 86400000);
  return { year: now.getUTCFullYear(), month: now.getUTCMonth() + 1, day: now.getUTCDate() };
}

export function compareDates(a, b) {
  return (a.year - b.year) || (a.month - b.month) || (a.day - b.day);
}

// A button that asks again in place before acting: the first press shows
// "Yes" and "No"; "Yes" runs `action`.
export function confirmButton({ label, question, yes, no, action, className = 'button-secondary' }) {
  const wrapper = h('span', { class: 'confirm' });
  const start = h('button', { type: 'button', class: className }, label);
  const ask = () => {
    const yesButton = h('button', { type: 'button', class: 'button-danger' }, yes);
    const noButton = h('button', { type: 'button', class: 'button-secondary' }, no);
    yesButton.addEventListener('click', async () => {
      yesButton.disabled = noButton.disabled = true;
      await action();
    });
    noButton.addEventListener('click', () => {
      wrapper.replaceChildren(start);
      start.focus();
    });
    wrapper.replaceChildren(h('span', { class: 'confirm-question' }, question), ' ', yesButton, ' ', noButton);
    yesButton.focus();
  };
  start.addEventListener('click', ask);
  wrapper.append(start);
  return wrapper;
}

// Puts a button into its busy state while `work` runs.
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
