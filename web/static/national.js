// The national picture for duty officers: a tile map of the 47 prefectures coloured by the worst
// impact on care among their active incidents (with a table of the same figures, refreshed every
// 60 seconds), and the campaigns hikeshi detects across hospitals, with the shared evidence, to
// confirm or dismiss.

import * as api from './api.js';
import { t, tf, label, enumValues, fmtTime, getLang, prefectureName, problemText } from './i18n.js';
import { h, field, select, section, badge, clear, errorBox, announce, busy, opts, scrollTable } from './ui.js';
import { navigate, onLeave } from './app.js';

/**
 * Tile positions [column, row] on a 12 × 12 grid approximating the geography of Japan: Hokkaido top
 * right, Tohoku down the right edge, Kanto below it, Chubu and Kinki to the west, Chugoku over
 * Shikoku, Kyushu at the left, Okinawa bottom left. The classes c0–c11 and r0–r11 of app.css place
 * them (no inline styles under the CSP).
 */
const TILES = {
  '01': [11, 0], '02': [11, 1], '03': [11, 2], '04': [11, 3], '05': [10, 2], '06': [10, 3], '07': [11, 4],
  '08': [11, 6], '09': [11, 5], '10': [10, 5], '11': [10, 6], '12': [11, 7], '13': [10, 7], '14': [9, 7],
  '15': [10, 4], '16': [9, 4], '17': [8, 4], '18': [7, 5], '19': [9, 6], '20': [9, 5], '21': [8, 5],
  '22': [8, 7], '23': [8, 6], '24': [7, 7], '25': [7, 6], '26': [6, 6], '27': [5, 7], '28': [5, 6],
  '29': [6, 7], '30': [6, 8], '31': [4, 6], '32': [3, 6], '33': [4, 7], '34': [3, 7], '35': [2, 7],
  '36': [4, 9], '37': [4, 8], '38': [3, 8], '39': [3, 9], '40': [1, 7], '41': [0, 7], '42': [0, 8],
  '43': [1, 8], '44': [2, 8], '45': [1, 9], '46': [0, 9], '47': [0, 11],
};

/** The care-impact scale of the map, least to most (each has a colour class in app.css). */
const IMPACTS = ['none', 'partial', 'outpatient_suspended', 'emergency_suspended', 'full_suspension'];

function campaignStatuses() {
  const v = enumValues('campaign_status');
  return v.length ? v : ['proposed', 'confirmed', 'dismissed'];
}

function failure(e) {
  return e instanceof api.NetworkError ? t('offline') : problemText(e && e.problem);
}

/** A short, stable name for a campaign (its reference when the server gives one). */
export function campaignName(c) {
  const id = typeof c === 'string' ? c : c.id;
  const ref = typeof c === 'string' ? null : c.reference;
  return ref || `${t('campaign')} ${String(id).slice(-6).toUpperCase()}`;
}

function prefList(codes) {
  return (codes || []).map(prefectureName).join(t('list_sep')) || '—';
}

// --- the map ----------------------------------------------------------------------------------

/** A tile's name as [shown, said too]: 神奈川 + 県 (the suffix for screen readers only, to fit the tile). */
function tileName(p) {
  if (getLang() === 'en') return [p.name_en, ''];
  const m = /^(.+?)([都府県])$/.exec(p.name_ja || '');
  return m ? [m[1], m[2]] : [p.name_ja, ''];
}

function tile(p) {
  const [col, row] = TILES[p.code] || [0, 0];
  const [shown, suffix] = tileName(p);
  const active = p.active_incidents > 0;
  const impact = active ? (p.worst_care_impact || 'none') : 'quiet';
  const campaign = (p.campaign_ids || []).length > 0;
  // The link's text is its accessible name: name, count, impact and campaign, the last two for
  // screen readers only (the colour and the ◆ mark say them on screen, explained by the legend).
  const said = [active ? label('care_impact', impact) : t('map_quiet'), campaign ? t('map_campaign_mark') : null].filter(Boolean);
  return h('li', { class: `c${col} r${row}` },
    h('a', { href: `/queue?prefecture=${p.code}`, class: `tile impact-${impact}${campaign ? ' campaign' : ''}`, dataset: { code: p.code } },
      h('span', { class: 'tile-name' }, shown, suffix ? h('span', { class: 'visually-hidden' }, suffix) : null),
      active ? [' ', h('span', { class: 'tile-count' }, String(p.active_incidents)), h('span', { class: 'visually-hidden' }, t('map_tile_unit'))] : null,
      h('span', { class: 'visually-hidden' }, `${t('list_sep')}${said.join(t('list_sep'))}`),
      campaign ? h('span', { class: 'tile-mark', 'aria-hidden': 'true' }, '◆') : null));
}

function legend() {
  return h('div', { class: 'map-legend' },
    h('h3', {}, t('map_legend')),
    h('ul', { class: 'legend' },
      h('li', { class: 'legend-item' }, h('span', { class: 'swatch impact-quiet', 'aria-hidden': 'true' }), t('map_quiet')),
      IMPACTS.map((v) => h('li', { class: 'legend-item' }, h('span', { class: `swatch impact-${v}`, 'aria-hidden': 'true' }), label('care_impact', v))),
      h('li', { class: 'legend-item' }, h('span', { class: 'swatch mark', 'aria-hidden': 'true' }, '◆'), t('map_campaign_mark'))));
}

function situationTable(sit) {
  const rows = sit.prefectures.filter((p) => p.active_incidents > 0 || (p.campaign_ids || []).length > 0);
  if (!rows.length) return h('p', { class: 'muted' }, t('map_none_active'));
  const byId = new Map((sit.campaigns || []).map((c) => [c.id, c]));
  const name = (p) => (getLang() === 'en' ? p.name_en : p.name_ja);
  return scrollTable(t('map_table'), h('table', { id: 'situation-table' },
    h('caption', { class: 'visually-hidden' }, t('map_table')),
    h('thead', {}, h('tr', {}, [t('prefecture'), t('active_incidents'), t('worst_impact'), t('campaigns')].map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.map((p) => h('tr', {},
      h('th', { scope: 'row', class: 'nowrap' }, h('a', { href: `/queue?prefecture=${p.code}` }, name(p))),
      h('td', { class: 'num' }, String(p.active_incidents)),
      h('td', {}, p.active_incidents > 0 && p.worst_care_impact ? label('care_impact', p.worst_care_impact) : '—'),
      h('td', {}, (p.campaign_ids || []).length
        ? h('ul', { class: 'plain' }, p.campaign_ids.map((id) => h('li', {}, h('a', { href: `/campaigns/${id}` }, campaignName(byId.get(id) || id)))))
        : '—'))))));
}

function campaignSummary(campaigns) {
  if (!campaigns || !campaigns.length) return h('p', { class: 'muted' }, t('campaign_none'));
  return h('ul', { class: 'campaign-list' }, campaigns.map((c) => h('li', {},
    h('a', { href: `/campaigns/${c.id}` }, campaignName(c)), ' ',
    badge('campaign_status', c.status),
    h('p', { class: 'meta' }, `${t('incident_count')} ${c.incident_count}・${prefList(c.prefectures)}`))));
}

export async function mapPage() {
  const mapList = h('ul', { class: 'tilemap', id: 'tilemap', 'aria-labelledby': 'map-heading' });
  const tableBox = h('div', { id: 'map-table' });
  const campaignBox = h('div', { id: 'map-campaigns' });
  // Not a live region: a minute's refresh is not worth interrupting a screen reader for.
  const stamp = h('p', { class: 'muted small' });
  const msg = h('div', { class: 'messages' });

  function draw(sit) {
    // Keep the keyboard where it was when the map is redrawn under it.
    const focused = document.activeElement && mapList.contains(document.activeElement) ? document.activeElement.dataset.code : null;
    clear(mapList).append(...sit.prefectures.map(tile));
    clear(tableBox).append(situationTable(sit));
    clear(campaignBox).append(campaignSummary(sit.campaigns));
    stamp.textContent = `${t('as_of')}: ${fmtTime(sit.generated_at)}`;
    if (focused) {
      const again = mapList.querySelector(`a[data-code="${focused}"]`);
      if (again) again.focus();
    }
  }

  async function refresh() {
    try {
      draw(await api.get('/situation'));
      msg.replaceChildren();
    } catch (e) {
      msg.replaceChildren(errorBox(failure(e)));
    }
  }

  draw(await api.get('/situation'));
  const timer = setInterval(() => { if (!document.hidden) refresh(); }, 60000);
  onLeave(() => clearInterval(timer));
  return h('div', { class: 'page national' },
    h('h1', {}, t('map_title')),
    h('p', { class: 'muted' }, t('map_intro')),
    h('p', { class: 'muted small' }, t('map_refresh')), stamp, msg,
    h('div', { class: 'columns' },
      h('section', { class: 'card map-card', 'aria-labelledby': 'map-heading' },
        h('h2', { id: 'map-heading' }, t('map_label')), mapList, legend()),
      h('div', { class: 'col' },
        section(t('map_table'), tableBox),
        section(t('campaigns'), campaignBox,
          h('p', {}, h('a', { href: '/campaigns', class: 'button secondary' }, t('nav_campaigns')))))));
}

// --- campaigns ----------------------------------------------------------------------------------

/** What the campaign has in common, in a line: vulnerabilities and products first, indicators last. */
function evidenceLine(c, most = 3) {
  const rank = { cve: 0, product: 1, family: 2, ioc: 3 };
  const values = [...(c.links || [])].sort((a, b) => (rank[a.kind] ?? 9) - (rank[b.kind] ?? 9)).map((l) => l.value);
  return values.slice(0, most).join(t('list_sep')) + (values.length > most ? ` ${tf('campaign_more', { n: values.length - most })}` : '');
}

function incidentCount(c) {
  return c.incident_count ?? (c.incidents || []).length;
}

function campaignItem(c) {
  return h('li', { class: 'incident campaign-item' },
    h('a', { href: `/campaigns/${c.id}`, class: 'incident-link' },
      h('span', { class: 'ref' }, campaignName(c)),
      h('span', { class: 'title' }, evidenceLine(c) || campaignName(c))),
    h('p', { class: 'badges' }, badge('campaign_status', c.status), c.drill ? h('span', { class: 'badge drill' }, t('drill')) : null),
    h('p', { class: 'meta' }, `${t('incident_count')} ${incidentCount(c)}・${prefList(c.prefectures)}`),
    h('p', { class: 'meta' }, `${t('detected_at')} ${fmtTime(c.created_at)}`));
}

export async function campaignsPage() {
  const params = new URLSearchParams(location.search);
  // Without a status the API lists the open ones (proposed and confirmed).
  const status = select(t('status'), [['', t('campaigns_open')], ...opts('campaign_status', campaignStatuses())], { name: 'status', value: params.get('status') || '' });
  const list = h('div', { id: 'campaign-list', 'aria-live': 'polite', 'aria-busy': 'false' });
  let items = [];
  let cursor = null;

  function render() {
    const sorted = [...items].sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    const more = cursor ? h('button', { type: 'button', class: 'secondary' }, t('more')) : null;
    if (more) more.addEventListener('click', () => busy(more, () => load(true)));
    clear(list).append(sorted.length ? h('ul', { class: 'incidents' }, sorted.map(campaignItem)) : h('p', { class: 'muted' }, t('campaign_none')));
    if (more) list.append(h('p', {}, more));
  }

  async function load(next) {
    const q = new URLSearchParams({ limit: '100' });
    if (status.input.value) q.set('status', status.input.value);
    if (next && cursor) q.set('cursor', cursor);
    list.setAttribute('aria-busy', 'true');
    try {
      const page = await api.get(`/campaigns?${q}`);
      items = next ? items.concat(page.items) : page.items;
      cursor = page.next_cursor || null;
      render();
    } catch (e) {
      clear(list).append(errorBox(failure(e)));
    } finally {
      list.setAttribute('aria-busy', 'false');
    }
  }

  const form = h('form', { class: 'filters card' }, h('h2', {}, t('filters')),
    h('div', { class: 'filter-grid' }, status.el), h('button', { type: 'submit', class: 'secondary' }, t('apply')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    history.replaceState(null, '', status.input.value ? `/campaigns?status=${encodeURIComponent(status.input.value)}` : '/campaigns');
    load(false);
  });
  await load(false);
  return h('div', { class: 'page' }, h('h1', {}, t('campaigns_title')), h('p', { class: 'muted' }, t('campaigns_intro')), form, list);
}

function incidentLinks(c, ids) {
  const byId = new Map((c.incidents || []).map((i) => [i.id, i]));
  return h('ul', { class: 'plain nowrap' }, (ids || []).map((id) => h('li', {},
    h('a', { href: `/incidents/${id}` }, byId.has(id) ? byId.get(id).reference : id))));
}

function evidenceCard(c) {
  const links = c.links || [];
  return section(t('evidence'), links.length ? scrollTable(t('evidence'), h('table', { id: 'evidence', class: 'wide' },
    h('caption', { class: 'visually-hidden' }, t('evidence')),
    h('thead', {}, h('tr', {}, [t('link_kind'), t('link_value'), t('link_incidents')].map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, links.map((l) => h('tr', {},
      h('td', {}, label('campaign_link', l.kind)),
      h('th', { scope: 'row' }, h('code', { class: 'wrap' }, l.value)),
      h('td', {}, incidentLinks(c, l.incident_ids))))))) : h('p', { class: 'muted' }, t('none')));
}

function incidentsCard(c) {
  const rows = [...(c.incidents || [])].sort((a, b) => String(a.reported_at).localeCompare(String(b.reported_at)));
  return section(t('campaign_incidents'), rows.length ? scrollTable(t('campaign_incidents'), h('table', { id: 'campaign-incidents', class: 'wide' },
    h('caption', { class: 'visually-hidden' }, t('campaign_incidents')),
    h('thead', {}, h('tr', {}, [t('reference'), t('hospital'), t('prefecture'), t('reported_at'), t('care_impact'), t('status')]
      .map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.map((i) => h('tr', {},
      h('th', { scope: 'row', class: 'nowrap' }, h('a', { href: `/incidents/${i.id}` }, i.reference)),
      h('td', {}, i.hospital_name),
      h('td', { class: 'nowrap' }, prefectureName(i.prefecture)),
      h('td', { class: 'nowrap' }, fmtTime(i.reported_at)),
      h('td', {}, label('care_impact', i.care_impact)),
      h('td', {}, label('status', i.status))))))) : h('p', { class: 'muted' }, t('none')));
}

function decideCard(c) {
  const note = field(t('optional_note'), { tag: 'textarea', name: 'decision_note', rows: 2, maxlength: 2000 });
  const out = h('div', { class: 'messages' });
  const confirm = h('button', { type: 'button', class: 'primary', id: 'campaign-confirm' }, t('campaign_confirm'));
  const dismiss = h('button', { type: 'button', class: 'secondary', id: 'campaign-dismiss' }, t('campaign_dismiss'));
  const decide = (btn, action, okMsg) => busy(btn, async () => {
    out.replaceChildren();
    const body = {};
    if (note.input.value.trim()) body.note = note.input.value.trim();
    try {
      await api.post(`/campaigns/${c.id}/${action}`, body);
      announce(okMsg);
      navigate(location.pathname, { replace: true });
    } catch (e) {
      out.append(errorBox(failure(e)));
    }
  });
  confirm.addEventListener('click', () => decide(confirm, 'confirm', t('campaign_confirmed')));
  dismiss.addEventListener('click', () => decide(dismiss, 'dismiss', t('campaign_dismissed')));
  return section(t('campaign_decide'), note.el, h('p', { class: 'buttons' }, confirm, dismiss), out);
}

function advisoryCard(c) {
  const s = c.suggested_criteria || {};
  const rows = [
    s.vendor ? [t('adv_vendor'), s.vendor] : null,
    s.product ? [t('adv_product'), s.product] : null,
    s.prefectures && s.prefectures.length ? [t('prefecture'), prefList(s.prefectures)] : null,
  ].filter(Boolean);
  return section(t('suggested_criteria'),
    rows.length ? h('dl', { class: 'kv' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])) : h('p', { class: 'muted' }, t('none')),
    h('p', {}, h('a', { href: `/advisories/new?campaign=${encodeURIComponent(c.id)}`, class: 'button primary', id: 'write-advisory' }, t('write_advisory'))));
}

export async function campaignPage(id) {
  let c;
  try {
    c = await api.get(`/campaigns/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e instanceof api.ApiError && (e.status === 404 || e.status === 422)) {
      return h('div', { class: 'page' }, h('h1', {}, t('campaign')), errorBox(t('campaign_not_found')));
    }
    throw e;
  }
  const head = h('div', { class: 'card head' },
    h('p', { class: 'badges' }, badge('campaign_status', c.status), c.drill ? h('span', { class: 'badge drill' }, t('drill')) : null),
    h('dl', { class: 'kv' },
      h('dt', {}, t('detected_at')), h('dd', {}, fmtTime(c.created_at)),
      h('dt', {}, t('incident_count')), h('dd', {}, String(incidentCount(c))),
      h('dt', {}, t('prefecture')), h('dd', {}, prefList(c.prefectures)),
      c.decided_at ? [h('dt', {}, t('decided_at')), h('dd', {}, `${fmtTime(c.decided_at)}${c.decided_by_name ? `・${c.decided_by_name}` : ''}`)] : null,
      c.note ? [h('dt', {}, t('note')), h('dd', { class: 'pre' }, c.note)] : null));
  return h('div', { class: 'page detail' },
    h('p', { class: 'crumb' }, h('a', { href: '/campaigns' }, t('nav_campaigns'))),
    h('h1', {}, `${campaignName(c)}${evidenceLine(c, 2) ? `: ${evidenceLine(c, 2)}` : ''}`),
    h('div', { class: 'columns' },
      h('div', { class: 'col' }, head, c.status === 'proposed' ? decideCard(c) : null),
      h('div', { class: 'col' }, evidenceCard(c), c.status !== 'dismissed' ? advisoryCard(c) : null)),
    incidentsCard(c));
}
