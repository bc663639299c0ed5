// Messages in the member's language ("en" or "zh-CN") and locale-aware
// formatting of numbers, dates and times (always UTC, as the services are).
//
//   t('dashboard.title')                  -> "My miles"
//   t('statement.page', {page: 2})        -> "Page 2"
//   formatDate({year: 2026, month: 3, day: 15})

import en from '../i18n/en.js';
import zhCN from '../i18n/zh-CN.js';

const catalogs = { en, 'zh-CN': zhCN };
export const LANGUAGES = Object.keys(catalogs);
const CHOICE_KEY = 'mb.language';

let current = 'en';

export function language() {
  return current;
}

// The browser's own preference among the two, else English.
export function browserLanguage() {
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    if (/^zh\b/i.test(tag)) return 'zh-CN';
    if (/^en\b/i.test(tag)) return 'en';
  }
  return 'en';
}

// The language chosen in this tab (by the switch or from the profile at log
// in), else the browser's.
export function initialLanguage() {
  const chosen = sessionStorage.getItem(CHOICE_KEY);
  return LANGUAGES.includes(chosen) ? chosen : browserLanguage();
}

export function setLanguage(lang, { remember = true } = {}) {
  current = LANGUAGES.includes(lang) ? lang : 'en';
  if (remember) sessionStorage.setItem(CHOICE_KEY, current);
  document.documentElement.lang = current;
}

function lookup(catalog, key) {
  return key.split('.').reduce((node, part) => (node == null ? undefined : node[part]), catalog);
}

export function t(key, vars = {}) {
  let text = lookup(catalogs[current], key);
  if (typeof text !== 'string') text = lookup(catalogs.en, key);
  if (typeof text !== 'string') return key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

// t() for an enum value when the catalog has it, else the value itself.
export function tEnum(group, value) {
  const text = lookup(catalogs[current], `enums.${group}.${value}`);
  return typeof text === 'string' ? text : String(value ?? '');
}

export function formatNumber(value) {
  return new Intl.NumberFormat(current).format(Number(value || 0));
}

// Signed miles: "+1,500" / "-800".
export function formatMiles(value) {
  return new Intl.NumberFormat(current, { signDisplay: 'exceptZero' }).format(Number(value || 0));
}

export function formatDate(date) {
  if (!date || !date.year) return '';
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeZone: 'UTC' })
    .format(Date.UTC(date.year, (date.month || 1) - 1, date.day || 1));
}

export function formatMonth(year, month) {
  return new Intl.DateTimeFormat(current, { year: 'numeric', month: 'long', timeZone: 'UTC' })
    .format(Date.UTC(year, month - 1, 1));
}

export function formatTime(timestamp) {
  if (!timestamp) return '';
  const when = new Date(timestamp);
  if (Number.isNaN(when.getTime())) return String(timestamp);
  return new Intl.DateTimeFormat(current, {
    dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC',
  }).format(when) + ' UTC';
}
