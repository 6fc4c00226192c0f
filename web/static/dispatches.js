// A responder's dispatches: large buttons for each next status step, recovery milestones and notes,
// usable with one thumb on a train.

import * as api from './api.js';
import { t, label, fmtTime, problemText } from './i18n.js';
import { h, field, badge, errorBox, announce, busy, section } from './ui.js';
import { navigate } from './app.js';

const NEXT = {
  assigned: ['accepted', 'declined'],
  accepted: ['en_route', 'on_site', 'released'],
  en_route: ['on_site'],
  on_site: ['released'],
};

const MILESTONES = ['emr_restored', 'emergency_accepting', 'new_outpatients_accepting', 'fully_normal'];

function reload(msg) {
  announce(msg);
  navigate('/dispatches', { replace: true });
}

function card(d, incident) {
  const out = h('div', { class: 'messages' });
  const note = field(t('optional_note'), { tag: 'textarea', rows: 2, maxlength: 2000, name: `note-${d.id}` });
  const steps = (NEXT[d.status] || []).map((to) => {
    const b = h('button', { type: 'button', class: `step ${to === 'declined' ? 'secondary' : 'primary'}`, dataset: { to } },
      `${t('next_step')}: ${label('dispatch_status', to)}`);
    b.addEventListener('click', () => busy(b, async () => {
      out.replaceChildren();
      const body = { status: to };
      if (note.input.value.trim()) body.note = note.input.value.trim();
      try {
        await api.post(`/dispatches/${d.id}/status`, body);
        reload(`${t('dispatch_status_set')}: ${label('dispatch_status', to)}`);
      } catch (e) {
        out.append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
      }
    }));
    return b;
  });
  const milestones = incident ? MILESTONES.map((m) => {
    const at = incident.milestones[m];
    if (at) return h('li', { class: 'done' }, `${label('milestone', m)}: ${fmtTime(at)}`);
    const b = h('button', { type: 'button', class: 'secondary step', dataset: { milestone: m } }, `${t('record_now')}: ${label('milestone', m)}`);
    b.addEventListener('click', () => busy(b, async () => {
      out.replaceChildren();
      try {
        await api.put(`/incidents/${incident.id}/milestones/${m}`, { at: new Date().toISOString() });
        reload(`${t('recorded')}: ${label('milestone', m)}`);
      } catch (e) {
        out.append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
      }
    }));
    return h('li', {}, b);
  }) : [];
  const noteOnly = h('button', { type: 'button', class: 'secondary' }, t('add_note'));
  noteOnly.addEventListener('click', () => busy(noteOnly, async () => {
    out.replaceChildren();
    if (!note.input.value.trim() || !incident) return;
    try {
      await api.post(`/incidents/${incident.id}/updates`, { kind: 'note', body: note.input.value.trim() });
      reload(t('recorded'));
    } catch (e) {
      out.append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
    }
  }));
  const title = incident ? `${incident.reference} ${incident.title}` : d.incident_id;
  return h('li', { class: 'card dispatch' },
    h('h2', {}, incident ? h('a', { href: `/incidents/${incident.id}` }, title) : title),
    incident ? h('p', { class: 'meta' }, `${incident.hospital.name}（${incident.hospital.prefecture_name}）・${label('care_impact', incident.care_impact)}`) : null,
    incident && incident.contact ? h('p', { class: 'meta' }, `${t('contact')}: ${incident.contact.name} `, h('a', { href: `tel:${incident.contact.phone}` }, incident.contact.phone)) : null,
    h('p', { class: 'badges' }, badge('dispatch_status', d.status), ` ${label('mode', d.mode)}・${fmtTime(d.assigned_at)}`),
    steps.length ? h('div', { class: 'steps' }, steps) : null,
    note.el,
    h('p', {}, noteOnly),
    out,
    incident ? h('div', {}, h('h3', {}, t('milestones')), h('ul', { class: 'milestones big' }, milestones)) : null);
}

export async function dispatchesPage() {
  const page = await api.get('/dispatches?mine=true&limit=100');
  const order = { on_site: 0, en_route: 1, accepted: 2, assigned: 3, released: 4, declined: 5, cancelled: 6 };
  const items = [...page.items].sort((a, b) => (order[a.status] ?? 9) - (order[b.status] ?? 9));
  const incidents = await Promise.all(items.map((d) => api.get(`/incidents/${d.incident_id}`).catch(() => null)));
  return h('div', { class: 'page' },
    h('h1', {}, t('my_dispatches')),
    items.length ? h('ul', { class: 'dispatch-list' }, items.map((d, n) => card(d, incidents[n])))
      : section(t('my_dispatches'), h('p', { class: 'muted' }, t('no_dispatches'))));
}
