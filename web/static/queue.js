// The duty officers' triage queue: priority order with each factor explained, filters, overdue
// and delivery-failure flags, refreshing itself every 30 seconds.

import * as api from './api.js';
import { t, label, enumValues, fmtTime, factorLabel, PREFECTURE_CODES, prefectureName, problemText } from './i18n.js';
import { h, select, checkbox, opts, clear, errorBox } from './ui.js';
import { incidentCard } from './incidents.js';
import { onLeave } from './app.js';

export async function queuePage() {
  const params = new URLSearchParams(location.search);
  const status = select(t('status'), [['', t('all')], ...opts('status', enumValues('status'))], { name: 'status', value: params.get('status') || '' });
  const severity = select(t('severity'), [['', t('all')], ...opts('severity', enumValues('severity'))], { name: 'severity', value: params.get('severity') || '' });
  const category = select(t('category'), [['', t('all')], ...opts('category', enumValues('category'))], { name: 'category', value: params.get('category') || '' });
  const prefecture = select(t('prefecture'), [['', t('all')], ...PREFECTURE_CODES.map((c) => [c, prefectureName(c)])], { name: 'prefecture', value: params.get('prefecture') || '' });
  const drill = select(t('drills'), [['false', t('real_only')], ['', t('all')], ['true', t('drill_only')]], { name: 'drill', value: params.get('drill') ?? 'false' });
  const auto = checkbox(t('auto_refresh'), { checked: true, name: 'auto' });
  const list = h('div', { id: 'queue-list', 'aria-live': 'polite', 'aria-busy': 'false' });
  const stamp = h('p', { class: 'muted small', role: 'status' });

  function query() {
    const q = new URLSearchParams({ limit: '100' });
    for (const [k, el] of [['status', status], ['severity', severity], ['category', category], ['prefecture', prefecture], ['drill', drill]]) {
      if (el.input.value) q.set(k, el.input.value);
    }
    // Without a status chosen, the queue is the incidents whose care is not yet back.
    if (!status.input.value) q.set('active', 'true');
    return q;
  }

  async function load() {
    list.setAttribute('aria-busy', 'true');
    try {
      const page = await api.get(`/incidents?${query()}`);
      const items = page.items;
      clear(list).append(items.length ? h('ol', { class: 'incidents queue' }, items.map((i) => incidentCard(i, [
        h('p', { class: 'why small' }, `${t('priority')} ${i.priority.score}: `,
          i.priority.factors.slice(0, 3).map((f) => `${factorLabel(f.factor)} +${f.points}`).join('・'),
          i.priority.factors.length > 3 ? '…' : ''),
        h('details', { class: 'factors' },
          h('summary', {}, t('factors')),
          h('ul', {}, i.priority.factors.map((f) => h('li', {}, `${factorLabel(f.factor)} +${f.points}${t('points')}`))))]))) : h('p', { class: 'muted' }, t('no_incidents')));
      stamp.textContent = `${t('last_updated')} ${fmtTime(new Date().toISOString())}`;
    } catch (e) {
      clear(list).append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
    } finally {
      list.setAttribute('aria-busy', 'false');
    }
  }

  const form = h('form', { class: 'filters card' }, h('h2', {}, t('filters')),
    h('div', { class: 'filter-grid' }, status.el, severity.el, category.el, prefecture.el, drill.el),
    h('button', { type: 'submit', class: 'secondary' }, t('apply')), auto.el);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = query();
    q.delete('limit');
    q.delete('active');
    history.replaceState(null, '', `/queue?${q}`);
    load();
  });
  const timer = setInterval(() => { if (auto.input.checked && !document.hidden) load(); }, 30000);
  onLeave(() => clearInterval(timer));
  await load();
  return h('div', { class: 'page' }, h('h1', {}, t('queue_title')), form, stamp, list);
}

