// A hospital's own profile: the remote-access products it runs (advisories about a product reach the
// hospitals that registered it) and where it stands on the cyber-security checklist, with the
// checklist's history.

import * as api from './api.js';
import { t, tf, label, enumValues, fmtTime, jstDate, checklistItems, problemText, prefectureName } from './i18n.js';
import { h, field, select, choices, section, errorBox, announce, busy, opts, clear } from './ui.js';
import { me, navigate } from './app.js';

function failure(e) {
  if (e instanceof api.ApiError && e.status === 412) return t('conflict');
  return e instanceof api.NetworkError ? t('offline') : problemText(e && e.problem);
}

/** The most products a hospital may register (the API's limit). */
const MAX_PRODUCTS = 20;

/** A recorded state in the profile's words (the vocabulary's checklist_state speaks of the time of an incident). */
function stateText(done) {
  return t(done ? 'cl_done' : 'cl_not_done');
}

function accessKinds() {
  const v = enumValues('remote_access_kind');
  return v.length ? v : ['vpn', 'remote_desktop', 'maintenance', 'other'];
}

// --- remote access --------------------------------------------------------------------------------

function remoteAccessCard(orgId, org, etag) {
  let version = etag;
  const rows = [];
  const list = h('div', { class: 'ra-list' });
  const empty = h('p', { class: 'muted' }, t('ra_none'));
  const out = h('div', { class: 'messages' });
  const add = h('button', { type: 'button', class: 'secondary', id: 'ra-add' }, t('ra_add'));
  const save = h('button', { type: 'submit', class: 'primary' }, t('save'));
  const limit = h('p', { class: 'muted small', hidden: true }, t('ra_limit'));

  function renumber() {
    rows.forEach((r, n) => {
      const name = tf('ra_item', { n: n + 1 });
      r.legend.textContent = name;
      r.which.textContent = ` ${name}`;
    });
    empty.hidden = rows.length > 0;
    add.disabled = rows.length >= MAX_PRODUCTS;
    limit.hidden = rows.length < MAX_PRODUCTS;
  }

  function addRow(v = {}) {
    const kind = select(t('ra_kind'), opts('remote_access_kind', accessKinds()), { name: 'ra_kind', value: v.kind || 'vpn' });
    const vendor = field(t('ra_vendor'), { name: 'ra_vendor', maxlength: 100, required: true, value: v.vendor || '', autocomplete: 'off' });
    const product = field(t('ra_product'), { name: 'ra_product', maxlength: 100, required: true, value: v.product || '', autocomplete: 'off' });
    const ver = field(t('ra_version'), { name: 'ra_version', maxlength: 100, value: v.version || '', autocomplete: 'off' });
    const legend = h('legend', {});
    const which = h('span', { class: 'visually-hidden' });
    const remove = h('button', { type: 'button', class: 'secondary small' }, t('ra_remove'), which);
    const el = h('fieldset', { class: 'ra-row' }, legend, kind.el, h('div', { class: 'filter-grid' }, vendor.el, product.el, ver.el), h('p', {}, remove));
    const row = { el, legend, which, kind, vendor, product, ver };
    remove.addEventListener('click', () => {
      const at = rows.indexOf(row);
      rows.splice(at, 1);
      el.remove();
      renumber();
      // The keyboard goes to the row that took its place, or to "add" when none is left.
      const next = rows[at] || rows[at - 1];
      (next ? next.kind.input : add).focus();
      announce(t('ra_removed'));
    });
    rows.push(row);
    list.append(el);
    renumber();
    return row;
  }

  function fill(items) {
    rows.splice(0).forEach((r) => r.el.remove());
    (items || []).forEach((x) => addRow(x));
    renumber();
  }

  add.addEventListener('click', () => addRow().kind.input.focus());
  fill(org.remote_access);

  const form = h('form', { novalidate: true, id: 'remote-access-form' }, h('p', { class: 'muted' }, t('remote_access_intro')),
    empty, list, limit, h('p', { class: 'buttons' }, add, save), out);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(save, async () => {
      out.replaceChildren();
      const missing = rows.find((r) => !r.vendor.input.value.trim() || !r.product.input.value.trim());
      if (missing) {
        out.append(errorBox(`${t('required_missing')}${missing.legend.textContent} — ${t('ra_vendor').replace(' ★', '')}${t('list_sep')}${t('ra_product').replace(' ★', '')}`));
        (missing.vendor.input.value.trim() ? missing.product.input : missing.vendor.input).focus();
        return;
      }
      const remoteAccess = rows.map((r) => {
        const x = { kind: r.kind.input.value, vendor: r.vendor.input.value.trim(), product: r.product.input.value.trim() };
        if (r.ver.input.value.trim()) x.version = r.ver.input.value.trim();
        return x;
      });
      try {
        const res = await api.api('PATCH', `/organizations/${orgId}`, { remote_access: remoteAccess }, { headers: { 'If-Match': version } });
        version = res.headers.get('ETag') || `"${res.body.version}"`;
        fill(res.body.remote_access);
        announce(t('ra_saved'));
        out.append(h('p', { class: 'info', role: 'status' }, t('ra_saved')));
      } catch (e) {
        out.append(errorBox(failure(e)));
        if (e instanceof api.ApiError && e.status === 412) {
          out.append(h('p', {}, h('button', { type: 'button', class: 'secondary', on: { click: () => navigate('/profile', { replace: true }) } }, t('reload'))));
        }
      }
    });
  });
  return section(t('remote_access'), form);
}

// --- checklist ------------------------------------------------------------------------------------

function historyList(history) {
  const items = [...(history || [])].sort((a, b) => String(b.recorded_at).localeCompare(String(a.recorded_at)));
  return h('details', { class: 'history' }, h('summary', {}, t('cl_history')),
    items.length ? h('ol', { class: 'timeline' }, items.map((x) => h('li', {},
      h('p', { class: 'meta' }, `${fmtTime(x.recorded_at)}・${x.recorded_by_name || '—'}`),
      h('p', {}, `${label('checklist_item', x.item)}: ${stateText(x.done)}`,
        x.done && x.at ? `（${tf('cl_since_short', { d: x.at })}）` : '')))) : h('p', { class: 'muted' }, t('none')));
}

function checklistCard(orgId, data) {
  const box = h('div', {});
  function draw(d) {
    const recorded = new Map((d.items || []).map((x) => [x.item, x]));
    const entries = checklistItems().map((item) => {
      const rec = recorded.get(item);
      const statusId = `cl-${item}-status`;
      const state = choices(t('cl_state'), `cl-${item}`, [['done', stateText(true)], ['not_done', stateText(false)]],
        { value: rec ? (rec.done ? 'done' : 'not_done') : undefined, cls: 'inline' });
      const since = field(t('cl_since'), { type: 'date', name: `cl-${item}-at`, value: (rec && rec.at) || '', max: jstDate() });
      const sub = h('div', { class: 'sub' }, since.el);
      const sync = () => { sub.hidden = state.get() !== 'done'; };
      state.inputs.forEach((i) => i.addEventListener('change', sync));
      sync();
      const el = h('fieldset', { class: 'cl-item', 'aria-describedby': statusId, dataset: { item } },
        h('legend', {}, label('checklist_item', item)),
        h('p', { class: 'small muted', id: statusId },
          rec ? `${t('cl_updated')} ${fmtTime(rec.updated_at)}${rec.updated_by_name ? `・${rec.updated_by_name}` : ''}`
            : h('span', { class: 'badge unrecorded' }, t('cl_not_recorded'))),
        state.el, sub);
      return { item, state, since, el };
    });
    const out = h('div', { class: 'messages' });
    const save = h('button', { type: 'submit', class: 'primary' }, t('cl_save'));
    const form = h('form', { id: 'checklist-form' }, h('p', { class: 'muted' }, t('checklist_intro')), entries.map((x) => x.el), save, out);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(save, async () => {
        out.replaceChildren();
        // Only the items given an answer are sent: an item never answered stays "not recorded".
        const items = entries.filter((x) => x.state.get()).map((x) => {
          const done = x.state.get() === 'done';
          const o = { item: x.item, done };
          if (done && x.since.input.value) o.at = x.since.input.value;
          return o;
        });
        try {
          const next = await api.put(`/organizations/${orgId}/checklist`, { items });
          draw(next);
          announce(t('cl_saved'));
          const saved = box.querySelector('#checklist-form .messages');
          if (saved) saved.append(h('p', { class: 'info', role: 'status' }, t('cl_saved')));
        } catch (e) {
          out.append(errorBox(failure(e)));
        }
      });
    });
    clear(box).append(form, historyList(d.history));
  }
  draw(data);
  return section(t('checklist'), box);
}

export async function profilePage() {
  const orgId = me().org.id;
  const [res, checklist] = await Promise.all([
    api.api('GET', `/organizations/${encodeURIComponent(orgId)}`),
    api.get(`/organizations/${encodeURIComponent(orgId)}/checklist`).catch((e) => e),
  ]);
  const org = res.body;
  const etag = res.headers.get('ETag') || `"${org.version}"`;
  return h('div', { class: 'page profile' },
    h('h1', {}, t('profile_title')),
    h('p', { class: 'muted' }, `${org.name}${org.prefecture ? `（${prefectureName(org.prefecture)}）` : ''}`),
    h('div', { class: 'columns' },
      h('div', { class: 'col' }, remoteAccessCard(orgId, org, etag)),
      h('div', { class: 'col' }, checklist instanceof Error ? section(t('checklist'), errorBox(failure(checklist))) : checklistCard(orgId, checklist))));
}
