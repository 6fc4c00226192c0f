// A hospital's incidents (reporters), or the incidents a liaison or admin may see.

import * as api from './api.js';
import { t, label, fmtTime } from './i18n.js';
import { h, badge } from './ui.js';
import { me } from './app.js';

export function incidentCard(i, extra) {
  return h('li', { class: 'incident' },
    h('a', { href: `/incidents/${i.id}`, class: 'incident-link' },
      h('span', { class: 'ref' }, i.reference),
      h('span', { class: 'title' }, i.title)),
    h('p', { class: 'badges' },
      badge('status', i.status), ' ', badge('severity', i.severity),
      i.drill ? h('span', { class: 'badge drill' }, t('drill')) : null,
      i.overdue_obligations > 0 ? h('span', { class: 'badge flag-overdue' }, `${t('overdue')} ${i.overdue_obligations}`) : null,
      i.delivery_failed ? h('span', { class: 'badge flag-failed' }, t('delivery_failed')) : null),
    h('p', { class: 'meta' }, `${i.hospital.name}・${label('category', i.category)}・${label('care_impact', i.care_impact)}`),
    h('p', { class: 'meta' }, `${t('reported_at')} ${fmtTime(i.reported_at)}`),
    extra || null);
}

export async function incidentsPage() {
  const page = await api.get('/incidents?limit=100');
  const user = me();
  return h('div', { class: 'page' },
    h('h1', {}, user.role === 'reporter' ? t('my_incidents') : t('nav_incidents')),
    user.role === 'reporter' ? h('p', {}, h('a', { href: '/file', class: 'button primary wide' }, t('nav_file'))) : null,
    page.items.length
      ? h('ul', { class: 'incidents' }, page.items.map((i) => incidentCard(i)))
      : h('p', { class: 'muted' }, t('no_incidents')));
}
