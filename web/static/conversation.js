// Correspondence on an incident (e-mail read from the inbox, e-mail written here, phone calls) and
// the duty officers' inbox of mail that matched no incident. Mail text is shown as text only:
// hikeshi reduced HTML mail to text when it arrived, and nothing here renders markup.

import * as api from './api.js';
import { t, label, enumValues, fmtTime, toJstInput, fromJstInput, problemText } from './i18n.js';
import { h, field, select, choices, section, errorBox, announce, opts, busy } from './ui.js';
import { navigate } from './app.js';

function size(n) {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} B`;
}

/** Saves an attachment as a file (the API needs the bearer token, so a plain link cannot). */
function downloadButton(m, a) {
  const path = m.incident_id
    ? `/incidents/${m.incident_id}/messages/${m.id}/attachments/${a.id}`
    : `/inbox/${m.id}/attachments/${a.id}`;
  const out = h('span', { role: 'status' });
  const btn = h('button', { type: 'button', class: 'secondary small' }, t('download'));
  btn.addEventListener('click', () => busy(btn, async () => {
    out.replaceChildren();
    try {
      const res = await api.api('GET', path, undefined, { raw: true });
      const url = URL.createObjectURL(await res.blob());
      const link = h('a', { href: url, download: a.filename || `attachment-${a.sha256.slice(0, 12)}`, class: 'visually-hidden' }, a.filename || '');
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      out.append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
    }
  }));
  return h('span', {}, ' ', btn, out);
}

function attachmentList(m) {
  if (!m.attachments || !m.attachments.length) return null;
  return h('div', { class: 'attachments' }, h('p', { class: 'small' }, h('strong', {}, t('attachments'))),
    h('ul', {}, m.attachments.map((a) => h('li', { class: 'small' },
      h('span', {}, a.filename || '—'), ` ${size(a.size)}`,
      a.declared_type ? `・${a.declared_type}` : '',
      a.sniffed_type && a.sniffed_type !== a.declared_type ? `（${t('sniffed')}: ${a.sniffed_type}）` : '',
      a.stored ? downloadButton(m, a) : `・${t('not_stored')}`,
      h('br'), h('code', { class: 'hash' }, `SHA-256 ${a.sha256}`)))));
}

/** Who is on the other side, as hikeshi knows them. */
function partyText(m) {
  const who = m.party === 'contact' && m.authority ? label('authority', m.authority) : label('message_party', m.party);
  const name = m.party_label || m.from_name;
  return name ? `${who}・${name}` : who;
}

export function messageItem(m) {
  const when = m.sent_at || m.created_at;
  const head = m.channel === 'phone'
    ? `${t(m.direction === 'in' ? 'call_in' : 'call_out')}・${partyText(m)}`
    : `${label('message_direction', m.direction)}・${partyText(m)}`;
  return h('li', { class: `message message-${m.direction}${m.auto_reply ? ' auto' : ''}` },
    h('p', { class: 'meta' }, h('strong', {}, label('message_channel', m.channel)), ` ${head}・${fmtTime(when)}`,
      m.auto_reply ? h('span', { class: 'badge' }, t('auto_reply')) : null,
      m.sender_check === 'fail' ? h('span', { class: 'badge flag-overdue' }, label('sender_check', 'fail')) : null),
    m.from_address && m.direction === 'in' ? h('p', { class: 'small muted' }, `${t('msg_from')}: ${m.from_address}`) : null,
    m.to && m.to.length && m.direction === 'out' ? h('p', { class: 'small muted' }, `${t('msg_to')}: ${m.to.join(', ')}`) : null,
    m.subject ? h('p', {}, h('strong', {}, m.subject)) : null,
    h('p', { class: 'pre' }, m.body),
    attachmentList(m));
}

function recipients(role, notes) {
  if (role === 'reporter') return [['ministry', t('to_ministry')]];
  const seen = new Map();
  for (const n of notes) {
    if (n.contact_id && n.authority && !seen.has(n.contact_id)) {
      seen.set(n.contact_id, `${label('authority', n.authority)}（${(n.recipients || []).join(', ')}）`);
    }
  }
  return [['hospital', t('to_hospital')], ...seen.entries()];
}

function sendForm(i, role, notes, reload) {
  const to = select(t('msg_to'), recipients(role, notes), { name: 'to' });
  const subject = field(t('msg_subject'), { name: 'subject', maxlength: 200, required: true });
  const body = field(t('msg_body'), { tag: 'textarea', name: 'body', rows: 5, maxlength: 20000, required: true });
  const out = h('div', { class: 'messages' });
  const btn = h('button', { type: 'submit', class: 'primary' }, t('msg_send'));
  const f = h('form', { class: 'send-message' }, to.el, subject.el, body.el, btn, out);
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(btn, async () => {
      out.replaceChildren();
      try {
        await api.post(`/incidents/${i.id}/messages`, { to: to.input.value, subject: subject.input.value, body: body.input.value });
        reload(t('msg_sent'));
      } catch (e) {
        out.append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
      }
    });
  });
  return f;
}

function callForm(i, reload) {
  const direction = choices(t('call_direction'), 'call-direction', [['in', t('call_in')], ['out', t('call_out')]], { value: 'in', cls: 'inline' });
  const withWhom = field(t('call_with'), { name: 'with', maxlength: 200, required: true });
  const at = field(t('call_at'), { type: 'datetime-local', name: 'at', value: toJstInput(), required: true });
  const authority = select(t('call_authority'), [['', t('to_hospital')], ...opts('authority', enumValues('authority'))], { name: 'authority' });
  const summary = field(t('call_summary'), { tag: 'textarea', name: 'summary', rows: 3, maxlength: 10000, required: true });
  const out = h('div', { class: 'messages' });
  const btn = h('button', { type: 'submit', class: 'secondary' }, t('log_call'));
  const f = h('form', {}, direction.el, withWhom.el, at.el, authority.el, summary.el, btn, out);
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(btn, async () => {
      out.replaceChildren();
      const b = { direction: direction.get(), with: withWhom.input.value, at: fromJstInput(at.input.value), summary: summary.input.value };
      if (authority.input.value) b.authority = authority.input.value;
      try {
        await api.post(`/incidents/${i.id}/calls`, b);
        reload(t('recorded'));
      } catch (e) {
        out.append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
      }
    });
  });
  return h('details', {}, h('summary', {}, t('log_call')), f);
}

/** The conversation card of the incident page (`null` for roles that see no correspondence). */
export function conversationCard(i, role, list, notes, reload) {
  if (list === null) return null;
  const items = list.length ? h('ol', { class: 'conversation' }, list.map(messageItem)) : h('p', { class: 'muted' }, t('none'));
  const canWrite = role === 'duty_officer' || role === 'reporter';
  return section(t('conversation'), items,
    canWrite ? h('details', { class: 'reply' }, h('summary', {}, t('write_message')), sendForm(i, role, notes, reload)) : null,
    role === 'duty_officer' ? callForm(i, reload) : null);
}

/** The officers' inbox: mail that matched no incident, to read and put on an incident. */
export async function inboxPage() {
  const [mail, open] = await Promise.all([
    api.get('/inbox?limit=100'),
    api.get('/incidents?limit=100&active=true').catch(() => ({ items: [] })),
  ]);
  const choicesOf = open.items.map((x) => [x.id, `${x.reference} ${x.title}`]);
  const list = mail.length ? h('ol', { class: 'conversation inbox' }, mail.map((m) => {
    const item = messageItem(m);
    item.prepend(h('p', { class: 'badge' }, label('inbox_reason', m.inbox_reason)));
    if (choicesOf.length) {
      const target = select(t('assign_to'), choicesOf, { name: `assign-${m.id}` });
      const out = h('div', { class: 'messages' });
      const btn = h('button', { type: 'submit', class: 'secondary' }, t('assign'));
      const f = h('form', { class: 'inline-form' }, target.el, btn, out);
      f.addEventListener('submit', (ev) => {
        ev.preventDefault();
        busy(btn, async () => {
          out.replaceChildren();
          try {
            await api.post(`/inbox/${m.id}/assign`, { incident_id: target.input.value });
            announce(t('assigned'));
            navigate(`/incidents/${target.input.value}`);
          } catch (e) {
            out.append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
          }
        });
      });
      item.append(f);
    }
    return item;
  })) : h('p', { class: 'muted' }, t('inbox_empty'));
  return h('div', { class: 'page' }, h('h1', {}, t('inbox_title')), h('p', { class: 'muted' }, t('inbox_intro')), list);
}
