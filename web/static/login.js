// Sign-in (password, then a one-time password when the account uses two-factor authentication)
// and two-factor enrolment when the role requires it.

import * as api from './api.js';
import { t, problemText } from './i18n.js';
import { h, field, errorBox, busy } from './ui.js';
import { afterSignIn } from './app.js';

export function loginPage() {
  const email = field(t('email'), { type: 'email', name: 'email', autocomplete: 'username', required: true, inputmode: 'email' });
  const password = field(t('password'), { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const otp = field(t('otp'), {
    type: 'text', name: 'otp', autocomplete: 'one-time-code', inputmode: 'numeric', pattern: '[0-9]{6}', maxlength: 6,
  }, t('otp_needed'));
  otp.el.hidden = true;
  const msg = h('div', { class: 'messages' });
  const submit = h('button', { type: 'submit', class: 'primary wide' }, t('sign_in'));
  const form = h('form', { class: 'card narrow', novalidate: true }, email.el, password.el, otp.el, msg, submit);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      msg.replaceChildren();
      if (!email.input.value || !password.input.value) {
        msg.append(errorBox(`${t('required_missing')}${t('email')}, ${t('password')}`));
        return;
      }
      submit.textContent = t('signing_in');
      try {
        const res = await api.login(email.input.value.trim(), password.input.value, otp.el.hidden ? undefined : otp.input.value.trim());
        await afterSignIn(res.totp_enrolment_required);
      } catch (e) {
        submit.textContent = t('sign_in');
        if (e instanceof api.ApiError && e.problem && String(e.problem.type).endsWith('/otp-required')) {
          otp.el.hidden = false;
          otp.input.required = true;
          otp.input.focus();
          msg.append(h('p', { class: 'info', role: 'status' }, t('otp_needed')));
          return;
        }
        if (e instanceof api.ApiError && e.status === 429) {
          const wait = Number(e.retryAfter) || 30;
          msg.append(errorBox(t('sign_in_wait').replace('{s}', String(wait))));
          return;
        }
        msg.append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
      }
    });
  });
  return h('div', { class: 'page' },
    h('h1', {}, t('sign_in')),
    h('p', { class: 'muted' }, t('tagline')),
    form);
}

export async function totpPage() {
  const setup = await api.post('/auth/totp/setup');
  const code = field(t('otp'), { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6, required: true });
  const msg = h('div', { class: 'messages' });
  const submit = h('button', { type: 'submit', class: 'primary wide' }, t('totp_confirm'));
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('p', {}, t('totp_intro')),
    h('dl', { class: 'kv' },
      h('dt', {}, t('totp_secret')), h('dd', {}, h('code', { class: 'secret' }, setup.secret)),
      h('dt', {}, t('totp_url')), h('dd', {}, h('code', { class: 'wrap' }, setup.otpauth_url))),
    code.el, msg, submit);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      msg.replaceChildren();
      try {
        await api.confirmTotp(code.input.value.trim());
        await afterSignIn(false);
      } catch (e) {
        msg.append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
      }
    });
  });
  return h('div', { class: 'page' }, h('h1', {}, t('totp_title')), form);
}
