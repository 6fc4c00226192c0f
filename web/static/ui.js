// DOM helpers: elements are built with createElement and textContent only (never HTML strings),
// so nothing an incident contains can become markup or script.

import { t, label } from './i18n.js';

const BOOL = new Set(['disabled', 'checked', 'required', 'hidden', 'multiple', 'selected', 'readOnly', 'open']);

function apply(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (BOOL.has(k)) el[k] = true;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** h('button', {class: 'x', on: {click}}, 'text', child...) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element (presentation attributes only: no style attribute under the CSP). */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === 'text') el.textContent = v;
    else if (k === 'class') el.setAttribute('class', v);
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let seq = 0;
export function uid(prefix = 'f') {
  seq += 1;
  return `${prefix}-${seq}`;
}

/** Says something to screen readers (and shows it briefly). */
export function announce(msg, kind = 'ok') {
  const live = document.getElementById('live');
  if (live) {
    live.textContent = '';
    setTimeout(() => { live.textContent = msg; }, 30);
  }
  const toast = document.getElementById('toast');
  if (toast) {
    toast.textContent = msg;
    toast.className = `toast toast-${kind}`;
    toast.hidden = false;
    clearTimeout(announce.timer);
    announce.timer = setTimeout(() => { toast.hidden = true; }, 4000);
  }
}

/** A labelled text-like input. */
export function field(labelText, attrs = {}, hint) {
  const id = attrs.id || uid();
  const hintId = hint ? `${id}-hint` : null;
  const input = h(attrs.tag || 'input', { ...attrs, tag: null, id, 'aria-describedby': hintId });
  return {
    input,
    el: h('div', { class: 'field' },
      h('label', { for: id }, labelText),
      hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
      input),
  };
}

/** A labelled <select> of an enumeration (or explicit [value, label] pairs). */
export function select(labelText, options, attrs = {}) {
  const id = attrs.id || uid();
  const sel = h('select', { ...attrs, id },
    options.map(([v, l]) => h('option', { value: v }, l)));
  if (attrs.value !== undefined) sel.value = attrs.value;
  return { input: sel, el: h('div', { class: 'field' }, h('label', { for: id }, labelText), sel) };
}

/** A fieldset of radio buttons or checkboxes. */
export function choices(legend, name, options, { type = 'radio', value, cls = '' } = {}) {
  const values = Array.isArray(value) ? value : [value];
  const inputs = [];
  const fs = h('fieldset', { class: `choices ${cls}` }, h('legend', {}, legend),
    options.map(([v, l]) => {
      const id = uid(name);
      const input = h('input', { type, name, id, value: v, checked: values.includes(v) });
      inputs.push(input);
      return h('div', { class: 'choice' }, input, h('label', { for: id }, l));
    }));
  return { el: fs, inputs, get: () => (type === 'radio' ? (inputs.find((i) => i.checked) || {}).value : inputs.filter((i) => i.checked).map((i) => i.value)) };
}

/** A single labelled checkbox. */
export function checkbox(labelText, attrs = {}) {
  const id = attrs.id || uid('cb');
  const input = h('input', { type: 'checkbox', ...attrs, id });
  return { input, el: h('div', { class: 'choice single' }, input, h('label', { for: id }, labelText)) };
}

export function badge(kind, value, extra = '') {
  return h('span', { class: `badge ${kind}-${value} ${extra}` }, label(kind, value));
}

export function section(title, ...children) {
  const id = uid('sec');
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

/**
 * A table in a box that scrolls sideways on a phone; the box is focusable so that a keyboard can
 * scroll it, and named (a group, not a second landmark beside the section the table is in).
 */
export function scrollTable(name, table) {
  return h('div', { class: 'table-wrap', role: 'group', 'aria-label': name, tabindex: '0' }, table);
}

export function errorBox(msg) {
  return h('p', { class: 'error', role: 'alert' }, msg);
}

export function loading() {
  return h('p', { class: 'muted', role: 'status' }, t('loading'));
}

/** Enumeration options as [value, label] pairs. */
export function opts(kind, values) {
  return values.map((v) => [v, label(kind, v)]);
}

/** Runs `fn` with the button disabled and busy, so one press is one request. */
export async function busy(button, fn) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
