// The filing form: one column for a phone held in one hand, the routing preview before submitting,
// a draft kept in localStorage across a dropped connection or a reload, and one filing per press
// (the button is disabled while sending, and the Idempotency-Key makes a retry replay the first
// answer instead of filing twice).

import * as api from './api.js';
import { t, label, enumValues, fmtTime, countdown, toJstInput, fromJstInput, getLang, problemText } from './i18n.js';
import { h, field, select, choices, checkbox, opts, section, errorBox, announce, clear } from './ui.js';
import { me, navigate, onLeave } from './app.js';

function draftKey(proxy) {
  const user = me();
  return `hikeshi:draft:${user ? user.id : 'anon'}:${proxy ? 'proxy' : 'own'}`;
}

function loadDraft(key) {
  try { return JSON.parse(localStorage.getItem(key) || 'null'); } catch { return null; }
}

export async function filePage({ proxy = false } = {}) {
  const key = draftKey(proxy);
  const draft = loadDraft(key);
  const v = (draft && draft.values) || {};

  let hospitals = [];
  if (proxy) {
    const page = await api.get('/organizations?kind=hospital&limit=200');
    hospitals = page.items;
  }

  // --- fields -------------------------------------------------------------------------------
  const hospital = proxy ? select(t('hospital'), [['', '—'], ...hospitals.map((o) => [o.id, o.name])], { name: 'hospital_id', required: true, value: v.hospital_id || '' }) : null;
  const via = proxy ? choices(t('f_reported_via'), 'reported_via', opts('reported_via', ['phone', 'web']), { value: v.reported_via || 'phone', cls: 'inline' }) : null;
  const title = field(t('f_title'), { name: 'title', required: true, maxlength: 200, value: v.title || '', autocomplete: 'off' }, t('f_title_hint'));
  const category = select(t('f_category'), [['', '—'], ...opts('category', enumValues('category'))], { name: 'category', required: true, value: v.category || '' });
  const detected = field(t('f_detected_at'), { type: 'datetime-local', name: 'detected_at', required: true, value: v.detected_at || toJstInput() });
  const aware = field(t('f_aware_at'), { type: 'datetime-local', name: 'aware_at', value: v.aware_at || '' }, t('f_aware_at_hint'));
  const care = choices(t('f_care_impact'), 'care_impact', opts('care_impact', enumValues('care_impact')), { value: v.care_impact, cls: 'big' });
  const systems = choices(t('f_affected_systems'), 'affected_systems', opts('system', enumValues('system')), { type: 'checkbox', value: v.affected_systems || [], cls: 'grid' });
  const vector = select(t('f_attack_vector'), opts('attack_vector', enumValues('attack_vector')), { name: 'attack_vector', value: v.attack_vector || 'unknown' });
  // Asked, never defaulted: a ransomware filing left at `none` used to keep the PPC out (DOMAIN.md 2.2).
  const pd = choices(t('f_personal_data'), 'personal_data', opts('personal_data', enumValues('personal_data')), { value: v.personal_data, cls: 'inline' });
  const noneReason = field(t('f_none_reason'), { tag: 'textarea', name: 'none_reason', rows: 2, maxlength: 1000, value: v.none_reason || '' }, t('f_none_reason_hint'));
  const persons = field(t('f_persons'), { type: 'number', name: 'persons_estimate', min: 0, inputmode: 'numeric', value: v.persons_estimate || '' });
  const kinds = choices(t('f_ransomware_kinds'), 'ransomware_kinds', opts('ransomware_kind', enumValues('ransomware_kind')), { type: 'checkbox', value: v.kinds || [] });
  const ransom = checkbox(t('f_ransom_demand'), { name: 'ransom_demand', checked: !!v.ransom_demand });
  const noteText = field(t('f_note_text'), { tag: 'textarea', name: 'note_text', rows: 3, value: v.note_text || '' });
  const extension = field(t('f_extension'), { name: 'encrypted_extension', maxlength: 50, value: v.encrypted_extension || '' });
  const backup = select(t('f_offline_backup'), opts('offline_backup', enumValues('offline_backup')), { name: 'offline_backup', value: v.offline_backup || 'unknown' });
  const bcp = checkbox(t('f_bcp'), { name: 'bcp_activated', checked: !!v.bcp_activated });
  const description = field(t('f_description'), { tag: 'textarea', name: 'description', rows: 4, maxlength: 10000, value: v.description || '' });
  const contactName = field(t('f_contact_name'), { name: 'contact_name', required: true, autocomplete: 'name', value: v.contact_name || (proxy ? '' : (me() && me().name) || '') });
  const contactPhone = field(t('f_contact_phone'), { type: 'tel', name: 'contact_phone', required: true, autocomplete: 'tel', inputmode: 'tel', value: v.contact_phone || '' });
  const contactEmail = field(t('f_contact_email'), { type: 'email', name: 'contact_email', autocomplete: 'email', value: v.contact_email || '' });
  const drill = checkbox(t('f_drill'), { name: 'drill', checked: !!v.drill });

  const ransomBlock = h('div', { class: 'sub' }, kinds.el, ransom.el, noteText.el, extension.el);
  const personsBlock = h('div', { class: 'sub' }, persons.el);
  const noneBlock = h('div', { class: 'sub' }, noneReason.el);

  function values() {
    return {
      hospital_id: hospital ? hospital.input.value : undefined,
      reported_via: via ? via.get() : undefined,
      title: title.input.value,
      category: category.input.value,
      detected_at: detected.input.value,
      aware_at: aware.input.value,
      care_impact: care.get(),
      affected_systems: systems.get(),
      attack_vector: vector.input.value,
      personal_data: pd.get(),
      persons_estimate: persons.input.value,
      none_reason: noneReason.input.value,
      kinds: kinds.get(),
      ransom_demand: ransom.input.checked,
      note_text: noteText.input.value,
      encrypted_extension: extension.input.value,
      offline_backup: backup.input.value,
      bcp_activated: bcp.input.checked,
      description: description.input.value,
      contact_name: contactName.input.value,
      contact_phone: contactPhone.input.value,
      contact_email: contactEmail.input.value,
      drill: drill.input.checked,
    };
  }

  function body() {
    const x = values();
    const b = {
      title: x.title.trim(),
      category: x.category || undefined,
      detected_at: fromJstInput(x.detected_at) || undefined,
      aware_at: fromJstInput(x.aware_at) || undefined,
      description: x.description.trim(),
      attack_vector: x.attack_vector,
      affected_systems: x.affected_systems,
      care_impact: x.care_impact || undefined,
      personal_data: x.personal_data ? { status: x.personal_data } : undefined,
      ransom_demand: x.ransom_demand,
      offline_backup: x.offline_backup,
      bcp_activated: x.bcp_activated,
      contact: { name: x.contact_name.trim(), phone: x.contact_phone.trim() },
      drill: x.drill,
    };
    if (x.personal_data && x.personal_data !== 'none' && x.persons_estimate !== '') b.personal_data.persons_estimate = Number(x.persons_estimate);
    if (x.personal_data === 'none' && x.none_reason.trim()) b.personal_data.none_reason = x.none_reason.trim();
    if (x.contact_email.trim()) b.contact.email = x.contact_email.trim();
    if (x.category === 'ransomware') {
      b.ransomware = { kinds: x.kinds };
      if (x.note_text.trim()) b.ransomware.note_text = x.note_text.trim();
      if (x.encrypted_extension.trim()) b.ransomware.encrypted_extension = x.encrypted_extension.trim();
    }
    if (proxy) {
      b.hospital_id = x.hospital_id || undefined;
      b.reported_via = x.reported_via || 'phone';
    }
    return JSON.parse(JSON.stringify(b));
  }

  // --- draft ----------------------------------------------------------------------------------
  let attempt = (draft && draft.attempt) || null; // { body, key } of the last submission tried
  const savedNote = h('p', { class: 'muted small', id: 'draft-status' });
  function save() {
    try {
      localStorage.setItem(key, JSON.stringify({ values: values(), attempt, saved_at: new Date().toISOString() }));
      savedNote.textContent = `${t('draft_saved')} ${fmtTime(new Date().toISOString())}`;
    } catch { /* storage full or blocked */ }
  }
  function discard() {
    try { localStorage.removeItem(key); } catch { /* ignore */ }
  }

  // --- preview --------------------------------------------------------------------------------
  const previewBox = h('div', { id: 'preview', 'aria-live': 'polite' });
  const messages = h('div', { class: 'messages' });
  let previewed = null; // JSON of the body the preview is for
  let debounce = null;

  function renderPreview(p) {
    clear(previewBox);
    const lang = getLang();
    previewBox.append(section(t('preview_title'),
      h('ol', { class: 'routes' }, p.routes.map((r) => h('li', { class: 'route' },
        h('h3', {}, label('authority', r.authority), ' ', h('span', { class: `badge req-${r.requirement}` }, label('requirement', r.requirement))),
        h('p', { class: 'label-inline' }, `${t('why')}:`),
        h('ul', { class: 'reasons' }, r.reasons.map((x) => h('li', {}, lang === 'en' ? x.en : x.ja))),
        r.obligations.length ? h('ul', { class: 'deadlines' }, r.obligations.map((o) => {
          const c = countdown(o.due_at);
          return h('li', {}, h('strong', {}, label('obligation', o.kind)), ': ',
            o.due_at ? `${t('deadline')} ${fmtTime(o.due_at)}（${c.text}）` : t('no_deadline'));
        })) : null,
        r.contacts.length ? h('p', { class: 'small' }, `${t('contacts')}: `, r.contacts.map((c) => c.name).join('、')) : null,
        r.contacts.filter((c) => c.instructions).map((c) => h('p', { class: 'small muted' }, c.instructions)))))));
  }

  function missing(b) {
    const m = [];
    if (proxy && !b.hospital_id) m.push(t('hospital'));
    if (!b.title) m.push(t('f_title'));
    if (!b.category) m.push(t('f_category'));
    if (!b.detected_at) m.push(t('f_detected_at'));
    if (!b.care_impact) m.push(t('f_care_impact'));
    if (!b.personal_data) m.push(t('f_personal_data'));
    if (!b.contact.name) m.push(t('f_contact_name'));
    if (!b.contact.phone) m.push(t('f_contact_phone'));
    return m.map((x) => x.replace(' ★', ''));
  }

  async function preview() {
    const b = body();
    if (!b.category || (proxy && !b.hospital_id)) return false;
    try {
      const p = await api.post('/routing/preview', b);
      previewed = JSON.stringify(b);
      renderPreview(p);
      update();
      return true;
    } catch (e) {
      clear(messages).append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
      return false;
    }
  }

  // --- actions --------------------------------------------------------------------------------
  const action = h('button', { type: 'submit', class: 'primary wide', id: 'file-action' }, t('preview'));
  const hint = h('p', { class: 'muted small', id: 'action-hint' });
  let sending = false;

  function fresh() { return previewed !== null && previewed === JSON.stringify(body()); }

  function update() {
    ransomBlock.hidden = category.input.value !== 'ransomware';
    personsBlock.hidden = !pd.get() || pd.get() === 'none';
    noneBlock.hidden = pd.get() !== 'none';
    if (sending) return;
    action.textContent = fresh() ? t('submit') : t('preview');
    hint.textContent = fresh() ? '' : (previewed ? t('preview_stale') : t('preview_first'));
  }

  async function submit() {
    const b = body();
    const miss = missing(b);
    clear(messages);
    if (miss.length) {
      messages.append(errorBox(`${t('required_missing')}${miss.join('、')}`));
      return;
    }
    if (!fresh()) {
      if (await preview()) document.getElementById('preview').scrollIntoView({ block: 'start' });
      return;
    }
    const text = JSON.stringify(b);
    if (!attempt || attempt.body !== text) attempt = { body: text, key: api.randomKey() };
    save();
    sending = true;
    action.disabled = true;
    action.setAttribute('aria-busy', 'true');
    action.textContent = t('submitting');
    try {
      const r = await api.api('POST', '/incidents', b, { headers: { 'Idempotency-Key': attempt.key } });
      discard();
      attempt = null;
      announce(`${t('submitted')}: ${r.body.reference}`);
      navigate(`/incidents/${r.body.id}`);
    } catch (e) {
      messages.append(errorBox(e instanceof api.NetworkError ? t('offline') : problemText(e.problem)));
      sending = false;
      action.disabled = false;
      action.removeAttribute('aria-busy');
      update();
    }
  }

  const form = h('form', { class: 'filing', novalidate: true, id: 'filing-form' },
    proxy ? section(t('hospital'), hospital.el, via.el) : null,
    section(t('file_title'), title.el, category.el, detected.el, aware.el, care.el),
    section(t('f_affected_systems'), systems.el, vector.el, ransomBlock, backup.el, bcp.el),
    section(t('f_personal_data'), pd.el, personsBlock, noneBlock),
    section(t('f_description'), description.el),
    section(t('f_contact'), contactName.el, contactPhone.el, contactEmail.el, drill.el),
    previewBox,
    h('div', { class: 'actionbar' }, messages, hint, action, savedNote));

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!sending) submit();
  });
  const changed = () => {
    update();
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      save();
      // Keep a shown preview current as the form changes.
      if (previewed !== null && !fresh()) preview();
    }, 600);
  };
  form.addEventListener('input', changed);
  form.addEventListener('change', changed);
  onLeave(() => clearTimeout(debounce));

  const discardBtn = h('button', { type: 'button', class: 'link-button', on: { click: () => { discard(); navigate(location.pathname + location.search, { replace: true }); } } }, t('discard_draft'));
  const restored = draft ? h('div', { class: 'notice', role: 'status' }, t('draft_restored'), ' ', discardBtn) : null;

  update();
  if (draft) savedNote.textContent = `${t('draft_saved')} ${fmtTime(draft.saved_at)}`;
  return h('div', { class: 'page' },
    h('h1', {}, proxy ? t('proxy_title') : t('file_title')),
    h('p', { class: 'muted' }, t('file_intro')),
    restored,
    form);
}
