// Advisories: the ministry warns hospitals that match a vendor, product or prefecture (often about a
// campaign) and sees who has acknowledged; hospitals read and acknowledge theirs, signed in or from
// the link in the e-mail (no sign-in: the link carries a token of its own).

import * as api from './api.js';
import { t, tf, fmtTime, getLang, prefectureName, PREFECTURE_CODES, problemText } from './i18n.js';
import { h, field, checkbox, choices, section, errorBox, announce, busy, clear, scrollTable } from './ui.js';
import { me, navigate } from './app.js';
import { campaignName } from './national.js';

function failure(e) {
  return e instanceof api.NetworkError ? t('offline') : problemText(e && e.problem);
}

/** Title and body in the current language (English when there is one and English is chosen). */
function text(a) {
  const en = getLang() === 'en';
  return { title: (en && a.title_en) || a.title, body: (en && a.body_en) || a.body, lang: en && a.title_en ? 'en' : 'ja' };
}

function criteriaText(c) {
  if (!c || c.all) return t('criteria_all');
  return [
    c.vendor ? `${t('adv_vendor')}: ${c.vendor}` : null,
    c.product ? `${t('adv_product')}: ${c.product}` : null,
    c.prefectures && c.prefectures.length ? `${t('prefecture')}: ${c.prefectures.map(prefectureName).join(t('list_sep'))}` : null,
  ].filter(Boolean).join(' / ') || '—';
}

function countsText(a) {
  const c = a.counts || { recipients: 0, acknowledged: 0 };
  return tf('ack_counts', { a: c.acknowledged, n: c.recipients });
}

function hoursSince(iso) {
  if (!iso) return '—';
  const hrs = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 3600000));
  return `${hrs}${t('hours')}`;
}

/** A hospital's view of one advisory: the text and the acknowledgement. */
function hospitalCard(a) {
  const x = text(a);
  const mine = (a.recipients || [])[0] || {};
  const state = h('div', { class: 'ack' });
  const done = (at) => {
    const p = h('p', { class: 'ack-done', tabindex: '-1' }, h('span', { class: 'badge ack-yes' }, t('acknowledged')), ` ${fmtTime(at)}`);
    state.replaceChildren(p);
    return p;
  };
  if (mine.acknowledged_at) {
    done(mine.acknowledged_at);
  } else {
    const out = h('div', { class: 'messages' });
    const btn = h('button', { type: 'button', class: 'primary', dataset: { advisory: a.id } }, t('acknowledge'));
    btn.addEventListener('click', () => busy(btn, async () => {
      out.replaceChildren();
      try {
        const r = await api.post(`/advisories/${a.id}/ack`);
        done(r && r.acknowledged_at).focus();
        announce(t('ack_done'));
      } catch (e) {
        out.append(errorBox(failure(e)));
      }
    }));
    state.append(h('p', {}, btn), out);
  }
  const id = `adv-${a.id}`;
  return h('article', { class: 'card advisory', 'aria-labelledby': id },
    h('h2', { id, lang: x.lang }, x.title),
    h('p', { class: 'meta' }, `${fmtTime(a.created_at)}`),
    h('p', { class: 'pre', lang: x.lang }, x.body),
    state);
}

function officerItem(a) {
  const c = a.counts || { recipients: 0, acknowledged: 0 };
  const all = c.recipients > 0 && c.acknowledged >= c.recipients;
  return h('li', { class: 'incident' },
    h('a', { href: `/advisories/${a.id}`, class: 'incident-link' },
      h('span', { class: 'ref' }, fmtTime(a.created_at)),
      h('span', { class: 'title' }, text(a).title)),
    h('p', { class: 'badges' }, h('span', { class: `badge ${all ? 'ack-yes' : 'ack-no'}` }, countsText(a))),
    h('p', { class: 'meta' }, `${t('adv_criteria')}: ${criteriaText(a.criteria)}`),
    h('p', { class: 'meta' }, `${t('created_by')}: ${a.created_by_name || '—'}`));
}

export async function advisoriesPage() {
  const hospital = me().role === 'reporter';
  const list = h('div', { id: 'advisory-list' });
  let items = [];
  let cursor = null;

  function render() {
    const more = cursor ? h('button', { type: 'button', class: 'secondary' }, t('more')) : null;
    if (more) more.addEventListener('click', () => busy(more, () => load(true)));
    const body = hospital ? h('div', { class: 'advisories' }, items.map(hospitalCard)) : h('ul', { class: 'incidents' }, items.map(officerItem));
    clear(list).append(items.length ? body : h('p', { class: 'muted' }, t('advisories_none')));
    if (more) list.append(h('p', {}, more));
  }

  async function load(next) {
    const q = new URLSearchParams({ limit: '100' });
    if (next && cursor) q.set('cursor', cursor);
    try {
      const page = await api.get(`/advisories?${q}`);
      items = next ? items.concat(page.items) : page.items;
      cursor = page.next_cursor || null;
      render();
    } catch (e) {
      if (!next) throw e;
      list.append(errorBox(failure(e)));
    }
  }

  await load(false);
  return h('div', { class: 'page' },
    h('h1', {}, hospital ? t('advisories_mine') : t('advisories_title')),
    hospital ? null : h('p', {}, h('a', { href: '/advisories/new', class: 'button primary' }, t('advisory_new'))),
    list);
}

function remindForm(a) {
  const hours = field(t('remind_hours'), { type: 'number', name: 'older_than_hours', min: 0, max: 8760, step: 1, value: '24', required: true, inputmode: 'numeric' });
  const out = h('div', { class: 'messages' });
  const btn = h('button', { type: 'submit', class: 'secondary' }, t('remind_send'));
  const f = h('form', { class: 'remind' }, hours.el, btn, out);
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(btn, async () => {
      out.replaceChildren();
      try {
        const r = await api.post(`/advisories/${a.id}/remind`, { older_than_hours: Number(hours.input.value) });
        announce(tf('reminded', { n: r ? r.reminded : 0 }));
        navigate(location.pathname, { replace: true });
      } catch (e) {
        out.append(errorBox(failure(e)));
      }
    });
  });
  return f;
}

function recipientsTable(a) {
  const rows = [...(a.recipients || [])].sort((x, y) => Number(Boolean(x.acknowledged_at)) - Number(Boolean(y.acknowledged_at))
    || String(x.organization_name).localeCompare(String(y.organization_name)));
  if (!rows.length) return h('p', { class: 'muted' }, t('none'));
  return scrollTable(t('recipients'), h('table', { id: 'recipients', class: 'wide' },
    h('caption', { class: 'visually-hidden' }, t('recipients')),
    h('thead', {}, h('tr', {}, [t('hospital'), t('prefecture'), t('notified_at'), t('hours_since'), t('acknowledged_at'), t('reminded_at')]
      .map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.map((r) => h('tr', {},
      h('th', { scope: 'row' }, r.organization_name),
      h('td', { class: 'nowrap' }, prefectureName(r.prefecture)),
      h('td', { class: 'nowrap' }, fmtTime(r.notified_at)),
      h('td', {}, r.acknowledged_at ? '—' : hoursSince(r.notified_at)),
      h('td', {}, r.acknowledged_at ? fmtTime(r.acknowledged_at) : h('span', { class: 'badge ack-no' }, t('not_acknowledged'))),
      h('td', {}, r.reminded_at ? fmtTime(r.reminded_at) : '—'))))));
}

export async function advisoryPage(id) {
  let a;
  try {
    a = await api.get(`/advisories/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e instanceof api.ApiError && (e.status === 404 || e.status === 422)) {
      return h('div', { class: 'page' }, h('h1', {}, t('advisories_title')), errorBox(t('advisory_not_found')));
    }
    throw e;
  }
  const crumb = h('p', { class: 'crumb' }, h('a', { href: '/advisories' }, t('nav_advisories')));
  if (me().role === 'reporter') {
    return h('div', { class: 'page' }, crumb, h('h1', {}, t('advisories_mine')), hospitalCard(a));
  }
  const x = text(a);
  const other = getLang() === 'en' ? { title: a.title, body: a.body, lang: 'ja' } : (a.title_en ? { title: a.title_en, body: a.body_en || '', lang: 'en' } : null);
  const pending = (a.recipients || []).some((r) => !r.acknowledged_at);
  return h('div', { class: 'page detail' }, crumb,
    h('h1', { lang: x.lang }, x.title),
    h('div', { class: 'columns' },
      h('div', { class: 'col' },
        h('div', { class: 'card head' },
          h('p', { class: 'badges' }, h('span', { class: `badge ${pending ? 'ack-no' : 'ack-yes'}` }, countsText(a))),
          h('dl', { class: 'kv' },
            h('dt', {}, t('adv_criteria')), h('dd', {}, criteriaText(a.criteria)),
            a.campaign_id ? [h('dt', {}, t('adv_from_campaign')), h('dd', {}, h('a', { href: `/campaigns/${a.campaign_id}` }, campaignName(a.campaign_id)))] : null,
            h('dt', {}, t('created_by')), h('dd', {}, `${a.created_by_name || '—'}・${fmtTime(a.created_at)}`)),
          h('p', { class: 'pre', lang: x.lang }, x.body),
          other && other.title !== x.title ? h('details', {}, h('summary', { lang: other.lang }, other.title), h('p', { class: 'pre', lang: other.lang }, other.body)) : null)),
      h('div', { class: 'col' }, pending ? section(t('remind'), remindForm(a)) : null)),
    section(t('recipients'), recipientsTable(a)));
}

export async function advisoryNewPage(params) {
  const campaignId = params.get('campaign');
  let campaign = null;
  const notes = [];
  if (campaignId) {
    try {
      campaign = await api.get(`/campaigns/${encodeURIComponent(campaignId)}`);
    } catch (e) {
      notes.push(errorBox(failure(e)));
    }
  }
  const s = (campaign && campaign.suggested_criteria) || {};
  const title = field(t('adv_title'), { name: 'title', required: true, maxlength: 200, autocomplete: 'off' });
  const body = field(t('adv_body'), { tag: 'textarea', name: 'body', rows: 8, required: true, maxlength: 20000 });
  const titleEn = field(t('adv_title_en'), { name: 'title_en', maxlength: 200, autocomplete: 'off', lang: 'en' });
  const bodyEn = field(t('adv_body_en'), { tag: 'textarea', name: 'body_en', rows: 6, maxlength: 20000, lang: 'en' });
  const vendor = field(t('adv_vendor'), { name: 'vendor', maxlength: 100, value: s.vendor || '', autocomplete: 'off' });
  const product = field(t('adv_product'), { name: 'product', maxlength: 100, value: s.product || '', autocomplete: 'off' });
  const prefs = choices(t('prefecture'), 'prefectures', PREFECTURE_CODES.map((c) => [c, prefectureName(c)]),
    { type: 'checkbox', value: s.prefectures || [], cls: 'grid' });
  const prefSummary = h('summary', {});
  const showCount = () => { prefSummary.textContent = tf('adv_prefectures', { n: prefs.get().length }); };
  showCount();
  prefs.inputs.forEach((i) => i.addEventListener('change', showCount));
  const prefBox = h('details', { class: 'prefectures', open: (s.prefectures || []).length > 0 }, prefSummary, prefs.el);
  const all = checkbox(t('adv_all'), { name: 'all' });
  const conditions = h('div', { class: 'sub' }, vendor.el, product.el, prefBox);
  all.input.addEventListener('change', () => { conditions.hidden = all.input.checked; });
  const out = h('div', { class: 'messages' });
  const btn = h('button', { type: 'submit', class: 'primary wide' }, t('adv_send'));
  const form = h('form', { class: 'card', novalidate: true, id: 'advisory-form' },
    title.el, body.el,
    h('details', { class: 'english' }, h('summary', {}, t('adv_english')), titleEn.el, bodyEn.el),
    h('fieldset', { 'aria-describedby': 'criteria-hint' },
      h('legend', {}, t('adv_criteria')),
      h('p', { class: 'hint', id: 'criteria-hint' }, t('adv_criteria_hint')),
      all.el, conditions),
    out, btn);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(btn, async () => {
      out.replaceChildren();
      const missing = [[title, t('adv_title')], [body, t('adv_body')]].filter(([f]) => !f.input.value.trim()).map(([, l]) => l.replace(' ★', ''));
      if (missing.length) {
        out.append(errorBox(`${t('required_missing')}${missing.join(t('list_sep'))}`));
        return;
      }
      const criteria = {};
      if (all.input.checked) {
        criteria.all = true;
      } else {
        if (vendor.input.value.trim()) criteria.vendor = vendor.input.value.trim();
        if (product.input.value.trim()) criteria.product = product.input.value.trim();
        if (prefs.get().length) criteria.prefectures = prefs.get();
        if (!Object.keys(criteria).length) {
          out.append(errorBox(t('adv_no_criteria')));
          return;
        }
      }
      const b = { title: title.input.value.trim(), body: body.input.value.trim(), criteria };
      if (titleEn.input.value.trim()) b.title_en = titleEn.input.value.trim();
      if (bodyEn.input.value.trim()) b.body_en = bodyEn.input.value.trim();
      if (campaign) b.campaign_id = campaign.id;
      try {
        const a = await api.post('/advisories', b);
        announce(t('adv_sent'));
        navigate(`/advisories/${a.id}`);
      } catch (e) {
        out.append(errorBox(failure(e)));
      }
    });
  });
  return h('div', { class: 'page filing' },
    h('p', { class: 'crumb' }, h('a', { href: '/advisories' }, t('nav_advisories'))),
    h('h1', {}, t('advisory_new')),
    notes,
    campaign ? h('p', { class: 'info' }, `${t('adv_from_campaign')}: `, h('a', { href: `/campaigns/${campaign.id}` }, campaignName(campaign))) : null,
    form);
}

/** The page the e-mail's link opens: one button, no sign-in. */
export function advisoryAckPage(params) {
  const id = params.get('id');
  const token = params.get('token');
  const head = [h('h1', {}, t('ack_title')), h('p', {}, t('ack_intro'))];
  if (!id || !token) return h('div', { class: 'page' }, head, errorBox(t('ack_bad_link')));
  const out = h('div', { class: 'messages' });
  const btn = h('button', { type: 'button', class: 'primary wide', id: 'ack-button' }, t('acknowledge'));
  btn.addEventListener('click', () => busy(btn, async () => {
    out.replaceChildren();
    try {
      const r = await api.postPublic(`/advisories/${encodeURIComponent(id)}/ack`, { token });
      const done = h('p', { class: 'info', role: 'status', tabindex: '-1' }, `${t('ack_done')} ${fmtTime(r && r.acknowledged_at)}`);
      btn.replaceWith(done);
      done.focus();
    } catch (e) {
      out.append(errorBox(failure(e)));
    }
  }));
  return h('div', { class: 'page' }, head, h('div', { class: 'card narrow' }, btn, out));
}
