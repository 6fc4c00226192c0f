// Incident detail: status, obligations counting down, the PPC text, milestones, the timeline,
// status reports and support requests for everyone who may see the incident; transitions,
// severity override, notifications, support decisions and dispatch for duty officers. What a
// role may do is decided by the API; the page only leaves out controls a role never has.

import * as api from './api.js';
import { t, label, enumValues, fmtTime, countdown, toJstInput, fromJstInput, factorLabel, problemText, getLang } from './i18n.js';
import { h, field, select, choices, section, badge, errorBox, announce, opts, busy, uid } from './ui.js';
import { me, navigate, onLeave } from './app.js';
import { conversationCard } from './conversation.js';

const NEXT = {
  reported: ['triaged', 'withdrawn'],
  triaged: ['responding', 'recovering', 'withdrawn'],
  responding: ['recovering'],
  recovering: ['recovered'],
  recovered: ['closed'],
  closed: [],
  withdrawn: [],
};

const MILESTONES = ['emr_restored', 'emergency_accepting', 'new_outpatients_accepting', 'fully_normal', 'report_published'];

function reload(msg) {
  if (msg) announce(msg);
  navigate(location.pathname, { replace: true });
}

/** Runs an action from a button, showing a problem next to it. */
function act(button, out, fn, okMsg) {
  return busy(button, async () => {
    out.replaceChildren();
    try {
      await fn();
      reload(okMsg);
    } catch (e) {
      out.append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
    }
  });
}

function summary(e) {
  const d = e.data || {};
  switch (e.kind) {
    case 'note': return h('p', { class: 'pre' }, e.body || '');
    case 'status_report':
      return h('dl', { class: 'kv' }, ['damage', 'response', 'recovery', 'prevention'].filter((k) => d[k]).map((k) => [
        h('dt', {}, t(`sr_${k}`)), h('dd', { class: 'pre' }, d[k])]));
    case 'status_change':
      return h('p', {}, `${label('status', d.from)} → ${label('status', d.to)}`, e.body ? `（${e.body}）` : '');
    case 'severity_change':
      return h('p', {}, `${label('severity', d.from)} → ${label('severity', d.to)}`, d.reason ? `（${d.reason}）` : '');
    case 'milestone': return h('p', {}, `${label('milestone', d.milestone)}: ${fmtTime(d.at)}`);
    case 'filed':
      return h('p', {}, `${label('reported_via', d.reported_via)}・${label('severity', d.severity)}・`,
        (d.authorities || []).map((a) => label('authority', a)).join('、'));
    case 'support':
      return h('p', {}, d.needs ? `${d.needs.map((n) => label('skill', n)).join('、')}（${label('mode', d.mode)}）` : '',
        d.status ? ` ${label('support_status', d.status)}` : '', d.reason ? `（${d.reason}）` : '');
    case 'dispatch':
      return h('p', {}, `${d.team || ''} ${label('dispatch_status', d.to || d.status)}`, d.at ? ` ${fmtTime(d.at)}` : '', d.note ? `（${d.note}）` : '');
    case 'obligation':
      return h('p', {}, label('obligation', d.obligation), d.fulfilled_at ? ` ${t('fulfilled')} ${fmtTime(d.fulfilled_at)}` : '', d.overdue ? ` ${t('overdue')}` : '');
    case 'notification': return h('p', {}, `${t('resend')}: ${label('authority', d.authority)}`);
    case 'message':
      return h('p', {}, `${label('message_channel', d.channel)}・${label('message_direction', d.direction)}`,
        d.authority ? `・${label('authority', d.authority)}` : '', d.subject ? `: ${d.subject}` : '');
    case 'facts_changed': return h('p', {}, (d.fields || []).join(', '));
    default: return null;
  }
}

function headerCard(i, role) {
  const hosp = i.hospital;
  return h('div', { class: 'card head' },
    h('p', { class: 'badges' }, badge('status', i.status), ' ', badge('severity', i.severity),
      i.drill ? h('span', { class: 'badge drill' }, t('drill')) : null,
      i.overdue_obligations > 0 ? h('span', { class: 'badge flag-overdue' }, `${t('overdue')} ${i.overdue_obligations}`) : null),
    h('dl', { class: 'kv' },
      h('dt', {}, t('reference')), h('dd', {}, i.reference),
      h('dt', {}, t('hospital_info')), h('dd', {}, `${hosp.name}（${hosp.prefecture_name}${hosp.beds ? `・${t('beds')} ${hosp.beds}` : ''}）`),
      hosp.regional_roles.length ? [h('dt', {}, t('roles')), h('dd', {}, hosp.regional_roles.map((r) => label('regional_role', r)).join('、'))] : null,
      h('dt', {}, t('category')), h('dd', {}, label('category', i.category)),
      h('dt', {}, t('f_care_impact').replace(' ★', '')), h('dd', {}, label('care_impact', i.care_impact)),
      h('dt', {}, t('reported_at')), h('dd', {}, `${fmtTime(i.reported_at)}（${label('reported_via', i.reported_via)}）`),
      h('dt', {}, t('f_detected_at').replace(' ★', '')), h('dd', {}, fmtTime(i.detected_at)),
      i.contact ? [h('dt', {}, t('contact')), h('dd', {}, `${i.contact.name} ${i.contact.phone}${i.contact.email ? ` ${i.contact.email}` : ''}`)] : null,
      role === 'duty_officer' ? [h('dt', {}, t('priority')), h('dd', {}, String(i.priority.score))] : null),
    i.description ? h('p', { class: 'pre' }, i.description) : null,
    role === 'duty_officer' && i.priority.factors.length ? h('details', { class: 'factors' },
      h('summary', {}, t('factors')),
      h('ul', {}, i.priority.factors.map((f) => h('li', {}, `${factorLabel(f.factor)} +${f.points}${t('points')}`)))) : null);
}

function obligationsCard(i, role) {
  const list = h('ul', { class: 'obligations' });
  const items = [];
  for (const o of i.obligations) {
    const cd = h('span', { class: 'countdown' });
    const tick = () => {
      if (o.fulfilled_at) {
        cd.textContent = `${t('fulfilled')} ${fmtTime(o.fulfilled_at)}${o.fulfilled_reference ? `（${o.fulfilled_reference}）` : ''}`;
        cd.className = 'countdown done';
        return;
      }
      const c = countdown(o.due_at);
      cd.textContent = o.due_at ? `${t('due')} ${fmtTime(o.due_at)}・${c.text}` : c.text;
      cd.className = `countdown${c.overdue || o.overdue ? ' late' : ''}`;
    };
    tick();
    items.push(tick);
    let form = null;
    if (!o.fulfilled_at && (role === 'reporter' || role === 'duty_officer')) {
      const receipt = field(t('receipt'), { name: 'reference', maxlength: 200 });
      const out = h('div', { class: 'messages' });
      const btn = h('button', { type: 'submit', class: 'secondary' }, t('fulfil'));
      const inner = h('form', { class: 'inline-form' }, receipt.el, btn, out);
      form = h('details', {}, h('summary', {}, `${t('fulfil')}: ${label('obligation', o.kind)}`), inner);
      inner.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const b = { at: new Date().toISOString() };
        if (receipt.input.value.trim()) b.reference = receipt.input.value.trim();
        act(btn, out, () => api.post(`/incidents/${i.id}/obligations/${o.id}/fulfil`, b), t('fulfilled'));
      });
    }
    // The law moves a deadline off a weekend, holiday or 12/29–1/3; hikeshi holds the hospital to the unmoved day.
    const legal = o.legal_due_at && o.due_at && o.legal_due_at !== o.due_at && !o.fulfilled_at
      ? h('p', { class: 'muted small legal-due' }, `${t('legal_due')} ${fmtTime(o.legal_due_at)}（${t('legal_due_note')}）`) : null;
    list.append(h('li', { class: 'obligation' },
      h('p', {}, h('strong', {}, label('obligation', o.kind)), ` — ${label('authority', o.authority)}`),
      h('p', {}, cd), legal, form));
  }
  const timer = setInterval(() => items.forEach((f) => f()), 30000);
  onLeave(() => clearInterval(timer));
  return section(t('obligations'), i.obligations.length ? list : h('p', { class: 'muted' }, t('none')));
}

async function ppcCard(i) {
  if (!i.routing.some((r) => r.authority === 'ppc')) return null;
  let text;
  try {
    const res = await api.api('GET', `/incidents/${i.id}/reports/ppc?format=text`);
    text = res.body;
  } catch {
    return null;
  }
  const id = uid('ppc');
  const area = h('textarea', { id, readonly: true, rows: 12, class: 'report' });
  area.value = text;
  const out = h('span', { class: 'muted small', role: 'status' });
  const copy = h('button', { type: 'button', class: 'secondary', on: { click: async () => {
    try {
      await navigator.clipboard.writeText(area.value);
    } catch {
      area.select();
      document.execCommand('copy');
    }
    out.textContent = t('copied');
    announce(t('copied'));
  } } }, t('copy'));
  return section(t('ppc_text'), h('label', { for: id, class: 'visually-hidden' }, t('ppc_text')), area, h('p', {}, copy, ' ', out));
}

function milestonesCard(i, role) {
  const can = ['reporter', 'responder', 'duty_officer'].includes(role);
  return section(t('milestones'), h('ul', { class: 'milestones' }, MILESTONES.map((m) => {
    const at = i.milestones[m];
    let form = null;
    if (can && !at) {
      const when = field(`${label('milestone', m)} — ${t('at')}`, { type: 'datetime-local', value: toJstInput() });
      when.el.classList.add('visually-hidden-label');
      const out = h('div', { class: 'messages' });
      const btn = h('button', { type: 'submit', class: 'secondary', dataset: { milestone: m } }, `${t('record')}: ${label('milestone', m)}`);
      const inner = h('form', { class: 'inline-form' }, when.el, btn, out);
      form = h('details', {}, h('summary', {}, `${t('record')}: ${label('milestone', m)}`), inner);
      inner.addEventListener('submit', (ev) => {
        ev.preventDefault();
        act(btn, out, () => api.put(`/incidents/${i.id}/milestones/${m}`, { at: fromJstInput(when.input.value) }), t('recorded'));
      });
    }
    return h('li', { class: at ? 'done' : '' }, h('strong', {}, label('milestone', m)), ': ', at ? fmtTime(at) : '—', form);
  })));
}

function timelineCard(i, updates, role) {
  const list = h('ol', { class: 'timeline' }, updates.map((e) => h('li', {},
    h('p', { class: 'meta' }, h('strong', {}, label('update', e.kind)), ` ${fmtTime(e.created_at)}・${e.author_name}`),
    summary(e))));
  const forms = [];
  if (['reporter', 'responder', 'duty_officer'].includes(role)) {
    const note = field(t('add_note'), { tag: 'textarea', rows: 3, maxlength: 10000, name: 'note' });
    const out = h('div', { class: 'messages' });
    const btn = h('button', { type: 'submit', class: 'secondary' }, t('add_note'));
    const f = h('form', {}, note.el, btn, out);
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      act(btn, out, () => api.post(`/incidents/${i.id}/updates`, { kind: 'note', body: note.input.value }), t('recorded'));
    });
    forms.push(f);
  }
  if (['reporter', 'duty_officer'].includes(role)) {
    const fields = ['damage', 'response', 'recovery', 'prevention'].map((k) => [k, field(t(`sr_${k}`), { tag: 'textarea', rows: 2, maxlength: 10000 })]);
    const out = h('div', { class: 'messages' });
    const btn = h('button', { type: 'submit', class: 'secondary' }, t('send_report'));
    const f = h('form', {}, h('fieldset', {}, h('legend', {}, t('status_report')), fields.map(([, x]) => x.el)), btn, out);
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const b = { kind: 'status_report' };
      for (const [k, x] of fields) if (x.input.value.trim()) b[k] = x.input.value.trim();
      act(btn, out, () => api.post(`/incidents/${i.id}/updates`, b), t('recorded'));
    });
    forms.push(h('details', {}, h('summary', {}, t('status_report')), f));
  }
  return section(t('timeline'), list, forms);
}

function supportCard(i, requests, role) {
  const list = h('ul', { class: 'support' }, requests.map((r) => {
    let decide = null;
    if (role === 'duty_officer' && r.status === 'pending') {
      const reason = field(t('decision_reason'), { maxlength: 1000, required: true });
      const out = h('div', { class: 'messages' });
      const yes = h('button', { type: 'button', class: 'primary' }, t('approve'));
      const no = h('button', { type: 'button', class: 'secondary' }, t('decline'));
      const send = (btn, approve) => act(btn, out, () => api.post(`/support-requests/${r.id}/decision`, { approve, reason: reason.input.value }), t('recorded'));
      yes.addEventListener('click', () => send(yes, true));
      no.addEventListener('click', () => send(no, false));
      decide = h('div', { class: 'inline-form' }, reason.el, h('p', { class: 'buttons' }, yes, ' ', no), out);
    }
    return h('li', {},
      h('p', {}, h('strong', {}, r.needs.map((n) => label('skill', n)).join('、') || '—'), `（${label('mode', r.mode)}）・${label('support_status', r.status)}・${fmtTime(r.requested_at)}`),
      r.note ? h('p', { class: 'pre' }, r.note) : null,
      r.decision_reason ? h('p', { class: 'muted' }, `${t('reason')}: ${r.decision_reason}`) : null,
      decide);
  }));
  let form = null;
  if (['reporter', 'duty_officer'].includes(role) && !['closed', 'withdrawn'].includes(i.status)) {
    const needs = choices(t('needs'), 'needs', opts('skill', enumValues('skill')), { type: 'checkbox', cls: 'grid' });
    const mode = choices(t('mode'), 'mode', opts('mode', ['on_site', 'remote']), { value: 'on_site', cls: 'inline' });
    const note = field(t('note'), { tag: 'textarea', rows: 2, maxlength: 2000 });
    const out = h('div', { class: 'messages' });
    const btn = h('button', { type: 'submit', class: 'secondary' }, t('request_support'));
    form = h('details', {}, h('summary', {}, t('request_support')), h('form', {}, needs.el, mode.el, note.el, btn, out));
    form.querySelector('form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const b = { needs: needs.get(), mode: mode.get() };
      if (note.input.value.trim()) b.note = note.input.value.trim();
      act(btn, out, () => api.post(`/incidents/${i.id}/support-requests`, b), t('recorded'));
    });
  }
  return section(t('support'), requests.length ? list : h('p', { class: 'muted' }, t('none')), form);
}

function transitionsCard(i) {
  const next = NEXT[i.status] || [];
  const reason = field(t('reason'), { maxlength: 1000, name: 'transition_reason' });
  const out = h('div', { class: 'messages' });
  const buttons = next.map((to) => {
    const b = h('button', { type: 'button', class: to === 'withdrawn' ? 'secondary' : 'primary', dataset: { to } }, `${t('move_to')}: ${label('status', to)}`);
    b.addEventListener('click', () => {
      const body = { to };
      if (reason.input.value.trim()) body.reason = reason.input.value.trim();
      act(b, out, () => api.post(`/incidents/${i.id}/transitions`, body), label('status', to));
    });
    return b;
  });
  return section(t('transitions'), next.length ? [reason.el, h('p', { class: 'buttons' }, buttons), out] : h('p', { class: 'muted' }, t('none')));
}

function severityCard(i) {
  const sev = select(t('severity'), opts('severity', enumValues('severity')), { value: i.severity });
  const reason = field(t('severity_reason'), { maxlength: 500, required: true });
  const out = h('div', { class: 'messages' });
  const btn = h('button', { type: 'submit', class: 'secondary' }, t('save'));
  const f = h('form', {}, sev.el, reason.el, btn, out);
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(btn, out, () => api.patch(`/incidents/${i.id}`, { severity: sev.input.value, severity_reason: reason.input.value },
      { headers: { 'If-Match': `"${i.version}"` } }), t('recorded'));
  });
  return section(t('severity_override'), i.severity_overridden ? h('p', { class: 'muted' }, '✔︎ override') : null, f);
}

function notificationsCard(i, notes) {
  return section(t('notifications'), notes.length ? h('ul', { class: 'notifications' }, notes.map((n) => {
    const out = h('div', { class: 'messages' });
    const btn = h('button', { type: 'button', class: 'secondary small' }, t('resend'));
    btn.addEventListener('click', () => act(btn, out, () => api.post(`/incidents/${i.id}/notifications/${n.id}/resend`), t('resent')));
    return h('li', { class: `note-${n.status}` },
      h('p', {}, h('strong', {}, n.authority ? label('authority', n.authority) : label('notification_kind', n.kind)), ' ', h('span', { class: `badge notification-${n.status}` }, label('notification_status', n.status))),
      h('p', { class: 'small' }, (n.recipients || []).join(', ')),
      h('p', { class: 'small muted' }, `${t('attempts')} ${n.attempts}・${t('sent_at')} ${fmtTime(n.sent_at)}`, n.last_error ? `・${n.last_error}` : ''),
      h('p', {}, btn), out);
  })) : h('p', { class: 'muted' }, t('none')));
}

function dispatchCard(i, suggestions, dispatches, requests, teams) {
  const teamName = (id) => (teams.find((x) => x.id === id) || {}).name || id;
  const memberName = (id) => {
    for (const tm of teams) for (const m of tm.members) if (m.id === id) return m.name;
    return id;
  };
  const existing = dispatches.length ? h('div', {}, h('h3', {}, t('dispatches_of_incident')), h('ul', { class: 'dispatches' }, dispatches.map((d) => {
    let cancel = null;
    if (['assigned', 'accepted', 'en_route'].includes(d.status)) {
      const out = h('div', { class: 'messages' });
      const b = h('button', { type: 'button', class: 'secondary small' }, `${t('move_to')}: ${label('dispatch_status', 'cancelled')}`);
      b.addEventListener('click', () => act(b, out, () => api.post(`/dispatches/${d.id}/status`, { status: 'cancelled' }), t('dispatch_status_set')));
      cancel = h('div', {}, b, out);
    }
    return h('li', {}, h('strong', {}, teamName(d.team_id)), ` ${label('mode', d.mode)}・`, badge('dispatch_status', d.status),
      h('p', { class: 'small' }, d.responder_ids.map(memberName).join('、')), cancel);
  }))) : null;
  const closed = ['closed', 'withdrawn', 'recovered'].includes(i.status);
  const wanted = requests.find((r) => r.status === 'approved') || requests.find((r) => r.status === 'pending');
  const ranked = closed ? null : h('ol', { class: 'suggestions' }, suggestions.map((sug, idx) => {
    const mode = choices(t('mode'), `mode-${idx}`, opts('mode', ['on_site', 'remote']), { value: wanted ? wanted.mode : 'on_site', cls: 'inline' });
    const people = choices(t('responders'), `resp-${idx}`, sug.team.members.map((m) => [m.id, `${m.name}（${label('availability', m.availability)}）`]),
      { type: 'checkbox', value: sug.available_responder_ids });
    const out = h('div', { class: 'messages' });
    const btn = h('button', { type: 'submit', class: idx === 0 ? 'primary' : 'secondary' }, `${t('dispatch_team')}: ${sug.team.name}`);
    const f = h('form', {}, mode.el, people.el, btn, out);
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      act(btn, out, () => api.post(`/incidents/${i.id}/dispatches`, { team_id: sug.team.id, responder_ids: people.get(), mode: mode.get() }), t('dispatched'));
    });
    return h('li', { class: 'suggestion' },
      h('h3', {}, `${idx + 1}. ${sug.team.name} — ${sug.score}${t('score')}`),
      h('ul', { class: 'reasons' }, sug.reasons.map((r) => h('li', {}, `${r.detail} (+${r.points})`))),
      h('details', {}, h('summary', {}, t('dispatch_team')), f));
  }));
  return section(t('dispatch'), existing, closed ? null : h('h3', {}, t('suggestions')), ranked);
}

function responderDispatches(dispatches) {
  if (!dispatches.length) return null;
  return section(t('dispatches_of_incident'), h('ul', {}, dispatches.map((d) => h('li', {}, `${label('mode', d.mode)}・`, badge('dispatch_status', d.status)))),
    h('p', {}, h('a', { href: '/dispatches', class: 'button secondary' }, t('my_dispatches'))));
}

export async function detailPage(id) {
  const role = me().role;
  let i;
  try {
    i = (await api.api('GET', `/incidents/${encodeURIComponent(id)}`)).body;
  } catch (e) {
    if (e instanceof api.ApiError && (e.status === 404 || e.status === 422)) {
      return h('div', { class: 'page' }, h('h1', {}, t('incident_detail')), errorBox(t('not_found')));
    }
    throw e;
  }
  const officer = role === 'duty_officer';
  const safe = (p, fallback) => p.catch(() => fallback);
  const reads = ['duty_officer', 'reporter', 'liaison', 'admin'].includes(role);
  const [updates, requests, notes, suggestions, dispatches, teams, ppc, messages] = await Promise.all([
    safe(api.get(`/incidents/${i.id}/updates?limit=200`), { items: [] }),
    safe(api.get(`/incidents/${i.id}/support-requests`), []),
    officer ? safe(api.get(`/incidents/${i.id}/notifications`), []) : [],
    officer ? safe(api.get(`/responder-teams/suggestions?incident_id=${i.id}`), []) : [],
    ['duty_officer', 'responder', 'reporter'].includes(role) ? safe(api.get(`/dispatches?incident_id=${i.id}&limit=50`), { items: [] }) : { items: [] },
    officer ? safe(api.get('/responder-teams'), []) : [],
    ppcCard(i),
    reads ? safe(api.get(`/incidents/${i.id}/messages`), null) : null,
  ]);
  const lang = getLang();
  const routes = section(t('preview_title').split('（')[0].split(' (')[0], h('ul', {}, i.routing.map((r) => h('li', {},
    h('strong', {}, label('authority', r.authority)), ` ${label('requirement', r.requirement)}: `,
    r.reasons.map((x) => (lang === 'en' ? x.en : x.ja)).join(' / ')))));
  return h('div', { class: 'page detail' },
    h('p', { class: 'crumb' }, h('a', { href: officer ? '/queue' : (role === 'responder' ? '/dispatches' : '/incidents') }, officer ? t('nav_queue') : (role === 'responder' ? t('nav_dispatches') : t('nav_incidents')))),
    h('h1', {}, i.title),
    h('div', { class: 'columns' },
      h('div', { class: 'col' },
        headerCard(i, role),
        officer ? transitionsCard(i) : null,
        obligationsCard(i, role),
        milestonesCard(i, role),
        ppc,
        routes),
      h('div', { class: 'col' },
        officer ? dispatchCard(i, suggestions, dispatches.items, requests, teams) : responderDispatches(dispatches.items),
        supportCard(i, requests, role),
        conversationCard(i, role, messages, notes, reload),
        officer ? notificationsCard(i, notes) : null,
        officer ? severityCard(i) : null,
        timelineCard(i, updates.items, role))));
}
