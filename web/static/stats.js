// Outcome statistics as charts drawn here in SVG (no library), each with a data table, and the
// CSV export.

import * as api from './api.js';
import { t, label, enumValues, hoursOf, jstDate, fmtTime, problemText, checklistItems } from './i18n.js';
import { h, s, select, field, checkbox, section, clear, errorBox, busy, uid } from './ui.js';
import { onLeave } from './app.js';

function groupLabel(groupBy, g) {
  if (groupBy === 'category') return label('category', g.key);
  if (String(groupBy).startsWith('checklist:')) return label('checklist_state', g.key);
  return g.label || g.key;
}

/** The group-by choices: the vocabulary's, with "checklist" as one choice per item ("checklist:<item>"). */
function groupChoices() {
  const values = enumValues('group_by').filter((g) => g !== 'checklist');
  for (const item of checklistItems()) values.push(`checklist:${item}`);
  return values.map((g) => (g.startsWith('checklist:')
    ? [g, `${t('checklist_short')}: ${label('checklist_item', g.slice('checklist:'.length))}`]
    : [g, label('group_by', g)]));
}

/** Saves what an API path answers as a file (the API needs the bearer token, so a plain link cannot). */
async function download(path, filename) {
  const res = await api.api('GET', path, undefined, { raw: true });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, class: 'visually-hidden' }, 'csv');
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** A round axis maximum: 1, 2 or 5 times a power of ten (counts: a multiple of 4, so ticks are whole). */
function niceMax(v, whole) {
  if (whole) return Math.max(4, Math.ceil(v / 4) * 4);
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  const f = v / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/** A horizontal bar chart: one row per group, one bar per series. */
function barChart(title, rows, series, unit) {
  const titleId = uid('chart');
  const descId = uid('desc');
  const top = Math.max(0, ...rows.flatMap((r) => series.map((x) => r.values[x.key] || 0)));
  const max = niceMax(top, unit === '');
  // Drawn for the screen it is on: on a phone the user units stay close to pixels, so text stays legible.
  const width = Math.round(Math.min(640, Math.max(300, (window.innerWidth || 640) - 64)));
  const labelW = width < 480 ? 92 : 170;
  const barH = 14;
  const rowH = series.length * (barH + 4) + 12;
  const plotW = width - labelW - (width < 480 ? 56 : 70);
  const height = rows.length * rowH + 40;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-labelledby': `${titleId} ${descId}`, class: 'chart' },
    s('title', { id: titleId, text: title }),
    s('desc', { id: descId, text: rows.map((r) => `${r.label}: ${series.map((x) => `${x.name} ${r.values[x.key] ?? '—'}${unit}`).join(', ')}`).join('; ') }));
  // Grid lines at quarters.
  for (let q = 0; q <= 4; q += 1) {
    const x = labelW + (plotW * q) / 4;
    svg.append(s('line', { x1: x, x2: x, y1: 20, y2: height - 10, class: 'grid' }),
      s('text', { x, y: 14, 'text-anchor': 'middle', class: 'axis', text: `${Number(((max * q) / 4).toFixed(2))}${unit}` }));
  }
  rows.forEach((r, i) => {
    const y0 = 24 + i * rowH;
    svg.append(s('text', { x: labelW - 8, y: y0 + rowH / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle', class: 'label', text: r.label }));
    series.forEach((x, j) => {
      const v = r.values[x.key];
      const y = y0 + j * (barH + 4);
      if (v === null || v === undefined) {
        svg.append(s('text', { x: labelW + 4, y: y + barH - 3, class: 'axis', text: '—' }));
        return;
      }
      const w = Math.max(1, (plotW * v) / max);
      svg.append(s('rect', { x: labelW, y, width: w, height: barH, class: `bar ${x.cls}` }),
        s('text', { x: labelW + w + 4, y: y + barH - 3, class: 'value', text: `${v}${unit}` }));
    });
  });
  const legend = h('p', { class: 'legend' }, series.map((x) => h('span', { class: 'legend-item' },
    h('span', { class: `swatch ${x.cls}`, 'aria-hidden': 'true' }), x.name)));
  const table = h('table', {},
    h('caption', { class: 'visually-hidden' }, title),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('group')), series.map((x) => h('th', { scope: 'col' }, `${x.name}（${unit}）`)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, r.label), series.map((x) => h('td', {}, r.values[x.key] ?? '—'))))));
  const any = rows.some((r) => series.some((x) => r.values[x.key] !== null && r.values[x.key] !== undefined));
  return section(title, any ? [svg, legend, h('details', {}, h('summary', {}, t('data_table')), h('div', { class: 'table-wrap' }, table))] : h('p', { class: 'muted' }, t('no_data')));
}

export async function statsPage() {
  const params = new URLSearchParams(location.search);
  const yearAgo = new Date(Date.now() - 365 * 86400000);
  const groupBy = select(t('group_by'), groupChoices(), { name: 'group_by', value: params.get('group_by') || 'prefecture' });
  const from = field(t('from'), { type: 'date', value: params.get('from') || jstDate(yearAgo) });
  const to = field(t('to'), { type: 'date', value: params.get('to') || jstDate() });
  const drill = checkbox(t('drill_only'), { checked: params.get('drill') === 'true' });
  const pseudo = checkbox(t('pseudonymize'), { checked: true });
  const out = h('div', { id: 'charts' });
  const msg = h('div', { class: 'messages' });
  const summaryLink = h('a', { href: '/api/v1/stats.csv', class: 'button secondary', id: 'export-stats-csv' }, t('stats_csv'));
  let shown = null; // the query of the statistics on the page

  function q() {
    const x = new URLSearchParams();
    if (from.input.value) x.set('from', from.input.value);
    if (to.input.value) x.set('to', to.input.value);
    if (drill.input.checked) x.set('drill', 'true');
    return x;
  }

  async function load() {
    const x = q();
    x.set('group_by', groupBy.input.value);
    history.replaceState(null, '', `/stats?${x}`);
    shown = x;
    summaryLink.href = `/api/v1/stats.csv?${x}`;
    try {
      last = await api.get(`/stats?${x}`);
      draw();
    } catch (e) {
      clear(out).append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
    }
  }

  /** Draws the charts of the last answer for the current width. */
  function draw() {
    const st = last;
    if (!st) return;
    {
      const rows = (metric) => st.groups.map((g) => ({
        label: groupLabel(st.group_by, g),
        values: { median: hoursOf(g.metrics[metric].median_seconds), p90: hoursOf(g.metrics[metric].p90_seconds) },
      }));
      const series = [{ key: 'median', name: t('median'), cls: 'median' }, { key: 'p90', name: t('p90'), cls: 'p90' }];
      clear(out).append(
        h('p', { class: 'muted', id: 'stats-as-of' }, `${t('as_of')}: ${fmtTime(st.as_of)}`),
        barChart(t('chart_count'), st.groups.map((g) => ({ label: groupLabel(st.group_by, g), values: { count: g.count } })),
          [{ key: 'count', name: t('count'), cls: 'count' }], ''),
        barChart(t('chart_care'), rows('time_to_care_resumed'), series, t('hours_unit')),
        barChart(t('chart_full'), rows('time_to_full_recovery'), series, t('hours_unit')));
    }
  }

  // Redraw for a new width (a phone turned sideways), so that chart text stays legible.
  let last = null;
  let resizeTimer = null;
  const onResize = () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(draw, 150); };
  window.addEventListener('resize', onResize);
  onLeave(() => { window.removeEventListener('resize', onResize); clearTimeout(resizeTimer); });

  const exportLink = h('a', { href: '/api/v1/incidents/export.csv', class: 'button secondary', id: 'export-csv' }, t('export_csv'));
  exportLink.addEventListener('click', (ev) => {
    ev.preventDefault();
    busy(exportLink, async () => {
      msg.replaceChildren();
      const x = q();
      if (pseudo.input.checked) x.set('pseudonymize', 'true');
      try {
        await download(`/incidents/export.csv?${x}`, `hikeshi-incidents-${jstDate()}.csv`);
      } catch (e) {
        msg.append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
      }
    });
  });

  // The summary as shown (its group, from, to and drill choice), as CSV.
  summaryLink.addEventListener('click', (ev) => {
    ev.preventDefault();
    busy(summaryLink, async () => {
      msg.replaceChildren();
      const x = new URLSearchParams(shown || '');
      try {
        await download(`/stats.csv?${x}`, `hikeshi-stats-${(x.get('group_by') || 'stats').replace(/[^a-z0-9_]+/gi, '-')}-${jstDate()}.csv`);
      } catch (e) {
        msg.append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
      }
    });
  });

  const form = h('form', { class: 'card filters' },
    h('div', { class: 'filter-grid' }, groupBy.el, from.el, to.el), drill.el,
    h('p', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('show')), summaryLink));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  await load();
  return h('div', { class: 'page' }, h('h1', {}, t('stats_title')), form,
    h('div', { class: 'card' }, h('p', { class: 'buttons' }, exportLink), pseudo.el, msg), out);
}
