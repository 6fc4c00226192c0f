// End-to-end tests of the hikeshi web interface in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core), against a release server this script starts on a fresh SQLite
// database with the demo data.
//
//   node run.mjs            (HIKESHI_BIN defaults to target/release/hikeshi, CHROMIUM to /usr/bin/chromium)
//
// Screenshots of every page at phone (360x740) and desktop (1280x800) sizes go to
// target/screenshots/ (SCREENSHOT_DIR overrides). Exit status 1 when any check fails.

import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '..', '..');
const BIN = process.env.HIKESHI_BIN || path.join(ROOT, 'target', 'release', 'hikeshi');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR || path.join(ROOT, 'target', 'screenshots');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PHONE = { width: 360, height: 740 };
const DESKTOP = { width: 1280, height: 800 };
const CSP = "script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const IMAP = process.env.HIKESHI_E2E_IMAP_PORT
  ? { port: process.env.HIKESHI_E2E_IMAP_PORT, user: process.env.HIKESHI_E2E_IMAP_USER, password: process.env.HIKESHI_E2E_IMAP_PASSWORD }
  : null;

/** Places a message in the e2e mailbox with IMAP APPEND (Python's imaplib, as a mail client would). */
function imapAppend(raw) {
  const script = 'import imaplib,sys\n'
    + 'm=imaplib.IMAP4("127.0.0.1",int(sys.argv[1]))\nm.login(sys.argv[2],sys.argv[3])\n'
    + 'typ,_=m.append("INBOX",None,None,sys.stdin.buffer.read())\nassert typ=="OK"\nm.logout()\n';
  const r = spawnSync('python3', ['-c', script, IMAP.port, IMAP.user, IMAP.password], { input: Buffer.from(raw) });
  if (r.status !== 0) throw new Error(`IMAP APPEND failed: ${r.stderr}`);
}

const results = [];
const axeReport = [];
const problems = []; // CSP violations and page errors seen by any page
let failed = false;

function log(...a) { console.log(...a); }

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    log(`  ✔ ${name} (${Date.now() - t0} ms)`);
    return true;
  } catch (e) {
    failed = true;
    results.push({ name, ok: false, error: String(e && e.stack || e) });
    log(`  ✘ ${name}\n    ${String(e && e.message || e).split('\n').join('\n    ')}`);
    return false;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

// --- the server --------------------------------------------------------------------------------

async function startServer() {
  const dir = mkdtempSync(path.join(tmpdir(), 'hikeshi-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    HIKESHI_BIND: `127.0.0.1:${port}`,
    HIKESHI_PUBLIC_URL: base,
    HIKESHI_DATABASE_URL: `sqlite://${path.join(dir, 'hikeshi.db')}`,
    HIKESHI_MAIL_URL: `file://${path.join(dir, 'outbox')}`,
    HIKESHI_LOG_FORMAT: 'json',
    HIKESHI_AUTH__LOGIN_PER_MINUTE: '1000',
    HIKESHI_CONFIG: path.join(dir, 'none.toml'),
  };
  // The inbox: a Dovecot that web/e2e/ci.sh started (replies then come back onto incidents).
  if (IMAP) {
    env.HIKESHI_INBOX_URL = `imap://${encodeURIComponent(IMAP.user)}:${IMAP.password}@127.0.0.1:${IMAP.port}/INBOX`;
    env.HIKESHI_INBOX__POLL_SECONDS = '1';
  }
  const child = spawn(BIN, ['serve', '--demo'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const deadline = Date.now() + 60000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${out}\n${err}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok && /passwords are shown only once/.test(out)) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`server did not become ready:\n${out}\n${err.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const passwords = {};
  for (const line of out.split('\n')) {
    const m = line.match(/^\s+(\w+)\s+(\S+@\S+)\s+(\S+)\s+\(/);
    if (m) passwords[m[2]] = m[3];
  }
  return { child, dir, base, passwords, logs: () => err };
}

// --- helpers -------------------------------------------------------------------------------------

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** RFC 6238 (SHA-1, 6 digits, 30 s) for `step` steps after now. */
function totp(secret, step = 0) {
  const counter = Math.floor(Date.now() / 1000 / 30) + step;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0xf;
  const code = ((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).toString().padStart(6, '0');
  return code;
}

async function apiCall(base, method, p, token, body, headers = {}) {
  const res = await fetch(`${base}/api/v1${p}`, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, body: json, headers: res.headers };
}

async function apiLogin(srv, email, otp) {
  const r = await apiCall(srv.base, 'POST', '/auth/login', null, { email, password: srv.passwords[email], ...(otp ? { otp } : {}) });
  check(r.status === 200, `API login of ${email}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.access_token;
}

function watch(page, who) {
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content.Security.Policy|Refused to (load|execute|apply)/i.test(text)) problems.push(`${who}: CSP: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`${who}: page error: ${e.message}`));
}

async function axeScan(page, name) {
  const has = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!has) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  axeReport.push({ page: name, violations });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = violations.filter((v) => !(v.impact === 'serious' || v.impact === 'critical'));
  if (minor.length) log(`    axe ${name}: minor: ${minor.map((v) => `${v.id}(${v.impact})`).join(', ')}`);
  check(bad.length === 0, `axe on ${name}: ${JSON.stringify(bad, null, 1)}`);
}

/** Full-page screenshots at phone and desktop sizes; the viewport is restored afterwards. */
async function shots(page, name) {
  const original = page.viewportSize();
  for (const [label, size] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    await page.setViewportSize(size);
    await page.waitForTimeout(400);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
}

/** Both checks of every page: the axe scan (at the page's own size) and the screenshots. */
async function pageChecks(page, name) {
  await axeScan(page, name);
  await shots(page, name);
}

async function signIn(page, srv, email, { otp } = {}) {
  await page.goto(`${srv.base}/`);
  await page.waitForURL('**/login');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', srv.passwords[email]);
  await page.click('form button[type=submit]');
  if (otp) {
    await page.waitForSelector('input[name=otp]:visible');
    await page.fill('input[name=otp]', otp());
    await page.click('form button[type=submit]');
  }
  await page.waitForFunction(() => !location.pathname.startsWith('/login'));
  await page.waitForSelector('main h1');
}

// --- the scenario ----------------------------------------------------------------------------------

async function main() {
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  log(`hikeshi e2e: ${BIN}`);
  const srv = await startServer();
  log(`server at ${srv.base}`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const phoneCtx = () => browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'ja-JP', timezoneId: 'Europe/London' });
  const desktopCtx = () => browser.newContext({ viewport: DESKTOP, locale: 'ja-JP', timezoneId: 'America/New_York' });
  const state = {};
  const R_EMAIL = 'reporter@tokyo-chuo.example';
  const R2_EMAIL = 'reporter@minami-town.example';
  const R3_EMAIL = 'reporter@osaka-wangan.example';
  const O_EMAIL = 'officer@mhlw.example';
  const S_EMAIL = 'responder@east-team.example';

  try {
    await step('UI responses carry a strict Content-Security-Policy and the shell has no inline script', async () => {
      for (const p of ['/', '/login', '/incidents/00000000-0000-0000-0000-000000000000', '/assets/app.js', '/assets/app.css']) {
        const r = await fetch(`${srv.base}${p}`);
        check(r.status === 200, `${p}: ${r.status}`);
        const csp = r.headers.get('content-security-policy') || '';
        for (const part of CSP.split('; ')) check(csp.includes(part), `${p}: CSP ${csp} lacks ${part}`);
        if (p === '/') {
          const html = await r.text();
          check(!/<script(?![^>]*\bsrc=)/.test(html) && !/\sstyle=/.test(html), 'inline script or style in index.html');
        }
      }
    });

    // Reporter on a phone.
    const rctx = await phoneCtx();
    await rctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.base });
    const rp = await rctx.newPage();
    watch(rp, 'reporter');

    await step('sign-in page (phone): accessible, Japanese by default', async () => {
      await rp.goto(`${srv.base}/`);
      await rp.waitForURL('**/login');
      await rp.waitForSelector('main h1');
      check((await rp.textContent('main h1')) === 'サインイン', 'Japanese heading');
      check((await rp.getAttribute('html', 'lang')) === 'ja', 'lang=ja');
      await pageChecks(rp, '01-login');
    });

    await step('reporter signs in; the refresh token is an HttpOnly SameSite=Strict cookie scripts cannot read', async () => {
      await signIn(rp, srv, R_EMAIL);
      check(new URL(rp.url()).pathname === '/incidents', `landed on ${rp.url()}`);
      const cookies = await rctx.cookies();
      const c = cookies.find((x) => x.name === 'hikeshi_refresh');
      check(c, 'refresh cookie set');
      check(c.httpOnly && c.sameSite === 'Strict' && c.path === '/api/v1/auth/session', `cookie flags ${JSON.stringify(c)}`);
      const visible = await rp.evaluate(() => ({ cookie: document.cookie, local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage) }));
      check(!visible.cookie.includes('hikeshi_refresh'), 'document.cookie shows the refresh token');
      check(!/eyJ|refresh|access_token/.test(visible.local + visible.session), `token in web storage: ${visible.local} ${visible.session}`);
    });

    await step('the session survives a reload', async () => {
      await rp.reload();
      await rp.waitForSelector('main h1');
      check(new URL(rp.url()).pathname === '/incidents', `after reload at ${rp.url()}`);
      check((await rp.textContent('main h1')).includes('自院'), 'reporter list heading');
      await pageChecks(rp, '02-reporter-incidents-empty');
    });

    await step('filing form at 360 px: the draft survives a reload', async () => {
      await rp.click('main a[href="/file"]');
      await rp.waitForSelector('#filing-form');
      const width = await rp.evaluate(() => document.documentElement.scrollWidth);
      check(width <= 360, `no horizontal scrolling at 360 px (scrollWidth ${width})`);
      await rp.fill('input[name=title]', '電子カルテのランサムウェア感染');
      await rp.selectOption('select[name=category]', 'ransomware');
      // Detected six hours ago (Japan time), so that the statistics have hours to show.
      await rp.fill('input[name=detected_at]', new Date(Date.now() - 6 * 3600e3 + 9 * 3600e3).toISOString().slice(0, 16));
      await rp.check('input[name=care_impact][value=emergency_suspended]');
      await rp.check('input[name=affected_systems][value=emr]');
      await rp.check('input[name=personal_data][value=suspected]');
      await rp.fill('input[name=persons_estimate]', '40000');
      await rp.check('input[name=ransomware_kinds][value=encryption]');
      await rp.check('input[name=ransom_demand]');
      await rp.fill('input[name=contact_phone]', '03-1234-5678');
      await rp.waitForTimeout(900); // the draft is saved 600 ms after typing stops
      await rp.reload();
      await rp.waitForSelector('#filing-form');
      check((await rp.inputValue('input[name=title]')) === '電子カルテのランサムウェア感染', 'title restored');
      check((await rp.inputValue('select[name=category]')) === 'ransomware', 'category restored');
      check(await rp.isChecked('input[name=care_impact][value=emergency_suspended]'), 'care impact restored');
      check((await rp.inputValue('input[name=persons_estimate]')) === '40000', 'persons restored');
      check(await rp.isVisible('.notice'), 'draft-restored notice');
    });

    await step('the routing preview shows authorities, reasons and deadlines before submitting', async () => {
      await rp.click('#file-action');
      await rp.waitForSelector('#preview .route');
      const text = await rp.textContent('#preview');
      for (const want of ['厚生労働省', '個人情報保護委員会', '警察', '速報', '期限']) check(text.includes(want), `preview lacks ${want}: ${text.slice(0, 400)}`);
      check((await rp.textContent('#file-action')).includes('この内容で報告する'), 'the button now submits');
      const box = await rp.locator('#file-action').boundingBox();
      check(box && box.width >= 300 && box.height >= 48, `a large thumb-reachable button (${JSON.stringify(box)})`);
      await pageChecks(rp, '03-file-form-preview');
    });

    await step('a double press files once (button disabled + Idempotency-Key)', async () => {
      await rp.locator('#file-action').dblclick();
      await rp.waitForURL(/\/incidents\/[0-9a-f-]{36}$/);
      state.incidentId = rp.url().split('/').pop();
      const token = await apiLogin(srv, R_EMAIL);
      const list = await apiCall(srv.base, 'GET', '/incidents', token);
      check(list.body.items.length === 1, `filed ${list.body.items.length} incidents`);
      const draft = await rp.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('hikeshi:draft')));
      check(draft.length === 0, 'the draft is gone after filing');
    });

    await step('incident detail (reporter): status, obligations counting down, PPC text with copy, timeline', async () => {
      await rp.waitForSelector('.obligations');
      const text = await rp.textContent('main');
      for (const want of ['報告済み', '速報', 'あと', '経過', '復旧のマイルストーン', '支援要請']) check(text.includes(want), `detail lacks ${want}`);
      const ppc = await rp.inputValue('textarea.report');
      check(ppc.includes('個人情報保護委員会') && ppc.includes('HK-'), 'PPC text');
      await rp.click('button:has-text("コピー")');
      await rp.waitForSelector('text=コピーしました');
      const clip = await rp.evaluate(() => navigator.clipboard.readText());
      check(clip === ppc, 'the clipboard holds the PPC text');
      // Request on-site forensics support.
      await rp.click('summary:has-text("支援を要請")');
      await rp.check('input[name=needs][value=forensics]');
      await rp.click('button:has-text("支援を要請")');
      await rp.waitForSelector('.support li');
      await pageChecks(rp, '04-incident-reporter');
    });

    await step('a reporter cannot reach another hospital’s incident by editing the URL', async () => {
      const other = await apiLogin(srv, R2_EMAIL);
      const r = await apiCall(srv.base, 'POST', '/incidents', other, {
        title: 'みなみ町立病院の秘密の事案', category: 'unauthorized_access', detected_at: new Date().toISOString(),
        care_impact: 'partial', contact: { name: '事務長 田中', phone: '0884-00-0000' },
      });
      check(r.status === 201, `other hospital filed: ${r.status} ${JSON.stringify(r.body)}`);
      state.otherId = r.body.id;
      await rp.goto(`${srv.base}/incidents/${state.otherId}`);
      await rp.waitForSelector('main .error');
      const text = await rp.textContent('main');
      check(text.includes('見つかりません'), 'not-found message');
      check(!text.includes('秘密の事案'), 'the other hospital’s title leaked');
      const list = await rp.goto(`${srv.base}/incidents`).then(() => rp.waitForSelector('.incidents')).then(() => rp.textContent('main'));
      check(!list.includes('秘密の事案'), 'the other hospital’s incident is listed');
      await pageChecks(rp, '05-reporter-incidents');
    });

    // Duty officer on a desktop, with two-factor authentication.
    await step('duty officer enrols TOTP (API) and signs in with password and one-time password', async () => {
      const token = await apiLogin(srv, O_EMAIL);
      const setup = await apiCall(srv.base, 'POST', '/auth/totp/setup', token);
      check(setup.status === 200, `totp setup ${setup.status}`);
      const confirm = await apiCall(srv.base, 'POST', '/auth/totp/confirm', token, { code: totp(setup.body.secret) });
      check(confirm.status === 200, `totp confirm ${confirm.status} ${JSON.stringify(confirm.body)}`);
      state.officerSecret = setup.body.secret;
      const octx = await desktopCtx();
      state.octx = octx;
      state.op = await octx.newPage();
      watch(state.op, 'officer');
      await signIn(state.op, srv, O_EMAIL, { otp: () => totp(setup.body.secret, 1) });
      check(new URL(state.op.url()).pathname === '/queue', `officer landed on ${state.op.url()}`);
    });

    await step('triage queue: priority order with explanations, filters, auto-refresh', async () => {
      const op = state.op;
      await op.waitForSelector('#queue-list .incident');
      const first = await op.textContent('#queue-list .incident');
      check(first.includes('電子カルテのランサムウェア感染'), 'the ransomware incident heads the queue');
      await op.click('#queue-list .incident summary');
      const factors = await op.textContent('#queue-list .incident .factors');
      check(factors.includes('診療への影響') && factors.includes('救急受入を停止'), `priority explanation: ${factors}`);
      check(await op.isChecked('input[name=auto]'), 'auto-refresh on');
      await op.selectOption('select[name=category]', 'unauthorized_access');
      await op.click('form.filters button[type=submit]');
      await op.waitForFunction(() => document.querySelector('#queue-list') && !document.querySelector('#queue-list').textContent.includes('電子カルテ'));
      check((await op.textContent('#queue-list')).includes('秘密の事案'), 'filter shows the other incident');
      await op.selectOption('select[name=category]', '');
      await op.click('form.filters button[type=submit]');
      await op.waitForFunction(() => document.querySelector('#queue-list')?.textContent.includes('電子カルテ'));
      await pageChecks(op, '06-officer-queue');
    });

    await step('language switch: English, remembered across a reload, times in Japan time', async () => {
      const op = state.op;
      await op.click('button.lang');
      await op.waitForSelector('text=Triage queue');
      await op.reload();
      await op.waitForSelector('#queue-list .incident');
      check((await op.textContent('main h1')) === 'Triage queue', 'English after reload');
      check((await op.getAttribute('html', 'lang')) === 'en', 'lang=en');
      const meta = await op.locator('#queue-list .incident').first().textContent();
      check(/JST/.test(meta), `times say JST: ${meta}`);
      await shots(op, '07-officer-queue-english');
      await op.click('button.lang');
      await op.waitForSelector('text=トリアージ待ち行列');
    });

    await step('incident detail (officer): triage, severity override, notifications, support decision, ranked dispatch', async () => {
      const op = state.op;
      await op.click(`#queue-list a[href="/incidents/${state.incidentId}"]`);
      await op.waitForSelector('.suggestions');
      await op.click('button[data-to=triaged]');
      await op.waitForSelector('.badge.status-triaged');
      // Notifications per authority, with resend.
      const notes = await op.textContent('.notifications');
      check(notes.includes('厚生労働省') && notes.includes('再送'), 'notifications with resend');
      // Approve the support request.
      await op.fill('.support input', '現地フォレンジック支援を承認');
      await op.click('.support button:has-text("承認")');
      await op.waitForFunction(() => document.querySelector('.support')?.textContent.includes('承認済み'));
      // Override severity with a reason.
      const sev = op.locator('section:has(h2:has-text("重大度の変更"))');
      await sev.locator('select').selectOption('high');
      await sev.locator('input').fill('電話で状況を確認し、救急は近隣で受入可能');
      await sev.locator('button[type=submit]').click();
      await op.waitForSelector('.head .badge.severity-high');
      // Ranked suggestions: the east team first, with reasons; dispatch it.
      const top = await op.textContent('.suggestions > li:first-child h3');
      check(top.startsWith('1.') && top.includes('東日本'), `top suggestion ${top}`);
      await op.click('.suggestions > li:first-child summary');
      await op.click('.suggestions > li:first-child button[type=submit]');
      await op.waitForSelector('.dispatches li');
      check((await op.textContent('.dispatches')).includes('派遣決定'), 'dispatch assigned');
      await pageChecks(op, '08-incident-officer');
    });

    await step('correspondence (officer): writes to the hospital, logs a call, assigns a reply from the inbox', async () => {
      const op = state.op;
      await op.click('section:has(h2:has-text("連絡（メール・電話）")) summary:has-text("メッセージを書く")');
      await op.selectOption('form.send-message select[name=to]', 'hospital');
      await op.fill('form.send-message input[name=subject]', 'バックアップの状況確認');
      await op.fill('form.send-message textarea[name=body]', 'オフラインバックアップの世代と保管場所を教えてください。');
      await op.click('form.send-message button[type=submit]');
      await op.waitForSelector('.conversation li:has-text("バックアップの状況確認")');
      await op.click('summary:has-text("電話を記録")');
      await op.fill('input[name=with]', '情報システム室 佐藤');
      await op.fill('textarea[name=summary]', '救急の受入再開は明朝の見込み');
      await op.click('button:has-text("電話を記録")');
      await op.waitForSelector('.conversation li:has-text("救急の受入再開は明朝の見込み")');
      check(!process.env.CI || IMAP, 'on CI the inbox is tested against Dovecot (web/e2e/ci.sh starts it)');
      if (IMAP) {
        imapAppend(`From: backup-vendor@example.org\r\nTo: ${IMAP.user}\r\nMessage-ID: <e2e-vendor@example.org>\r\n`
          + 'Subject: =?UTF-8?B?' + Buffer.from('バックアップ装置の調査結果').toString('base64') + '?=\r\n'
          + 'MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n'
          + '<p>バックアップは<b>無事</b>でした。</p><img src=x onerror=alert(1)>\r\n');
        const deadline = Date.now() + 20000;
        for (;;) {
          await op.goto(`${srv.base}/inbox`);
          await op.waitForSelector('main h1');
          if ((await op.textContent('main')).includes('バックアップ装置の調査結果')) break;
          check(Date.now() < deadline, 'the vendor mail reached the inbox within 20 s');
          await op.waitForTimeout(1000);
        }
        const text = await op.textContent('main');
        check(text.includes('バックアップは無事でした。') && !text.includes('<b>'), `the HTML mail is shown as text: ${text.slice(0, 300)}`);
        check(await op.evaluate(() => !document.querySelector('main img')), 'no markup from a mail is rendered');
        await pageChecks(op, '09a-officer-inbox');
        await op.selectOption('.inbox select', state.incidentId);
        await op.click('.inbox button:has-text("事案に割り当て")');
        await op.waitForURL(`**/incidents/${state.incidentId}`);
        await op.waitForSelector('.conversation li:has-text("バックアップ装置の調査結果")');
      }
      await pageChecks(op, '09b-incident-conversation');
    });

    await step('correspondence (reporter): reads the ministry’s message and answers it from the phone', async () => {
      await rp.goto(`${srv.base}/incidents/${state.incidentId}`);
      await rp.waitForSelector('.conversation li:has-text("バックアップの状況確認")');
      await rp.click('summary:has-text("メッセージを書く")');
      await rp.fill('form.send-message input[name=subject]', 'Re: バックアップの状況確認');
      await rp.fill('form.send-message textarea[name=body]', '外付けディスク2世代、院外保管です。');
      await rp.click('form.send-message button[type=submit]');
      await rp.waitForSelector('.conversation li:has-text("外付けディスク2世代")');
      const width = await rp.evaluate(() => document.documentElement.scrollWidth);
      check(width <= 360, `no horizontal scrolling at 360 px (scrollWidth ${width})`);
      await pageChecks(rp, '09c-reporter-conversation');
    });

    await step('proxy filing form (officer, after a phone call)', async () => {
      const op = state.op;
      await op.click('nav a[href="/file?proxy=1"]');
      await op.waitForSelector('select[name=hospital_id]');
      await pageChecks(op, '09-officer-proxy-filing');
    });

    // Responder on a phone.
    await step('responder: my dispatches with large next-step buttons; on site; care resumed recorded', async () => {
      const sctx = await phoneCtx();
      const sp = await sctx.newPage();
      watch(sp, 'responder');
      await signIn(sp, srv, S_EMAIL);
      check(new URL(sp.url()).pathname === '/dispatches', `responder landed on ${sp.url()}`);
      await sp.waitForSelector('button[data-to=accepted]');
      const box = await sp.locator('button[data-to=accepted]').boundingBox();
      check(box.height >= 56 && box.width >= 300, `large step button ${JSON.stringify(box)}`);
      await pageChecks(sp, '10-responder-dispatches');
      await sp.click('button[data-to=accepted]');
      await sp.waitForSelector('button[data-to=on_site]');
      await sp.fill('textarea[name^=note-]', '現地に到着、サーバー室を確認中');
      await sp.click('button[data-to=on_site]');
      await sp.waitForSelector('.badge.dispatch_status-on_site');
      await sp.click('button[data-milestone=emergency_accepting]');
      await sp.waitForFunction(() => document.querySelector('.milestones')?.textContent.includes('救急受入再開:'));
      await pageChecks(sp, '11-responder-on-site');
      const token = await apiLogin(srv, S_EMAIL);
      const d = await apiCall(srv.base, 'GET', '/dispatches?mine=true', token);
      check(d.body.items[0].status === 'on_site', `dispatch ${d.body.items[0].status}`);
      const i = await apiCall(srv.base, 'GET', `/incidents/${state.incidentId}`, token);
      check(i.body.milestones.emergency_accepting, 'emergency_accepting recorded');
      check(i.body.status === 'responding', `incident ${i.body.status}`);
      await sp.click(`a[href="/incidents/${state.incidentId}"]`);
      await sp.waitForSelector('.timeline');
      await pageChecks(sp, '12-incident-responder');
      await sctx.close();
    });

    await step('statistics: charts drawn in SVG and the CSV export', async () => {
      const op = state.op;
      await op.click('nav a[href="/stats"]');
      await op.waitForSelector('svg.chart');
      const charts = await op.locator('svg.chart').count();
      // Counts and time to care resumed have data; nobody is fully recovered yet ("no data").
      check(charts === 2, `${charts} charts`);
      check((await op.textContent('#charts')).includes('データがありません'), 'full recovery: no data yet');
      check((await op.textContent('#charts')).includes('東京都'), 'Tokyo in the charts');
      const bars = await op.locator('svg.chart rect.bar').count();
      check(bars >= 3, `${bars} bars`);
      await pageChecks(op, '13-officer-stats');
      const [download] = await Promise.all([op.waitForEvent('download'), op.click('#export-csv')]);
      const file = await download.path();
      const csv = readFileSync(file, 'utf8');
      check(csv.split('\n').length >= 2 && csv.includes(','), `CSV: ${csv.slice(0, 200)}`);
    });

    // The national picture. The officer's account has two factors and a code is good once, so an API
    // token takes a code of a step not used yet (waiting for the next 30 s step when needed).
    const officerToken = async () => {
      if (state.officerToken) return state.officerToken;
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const r = await apiCall(srv.base, 'POST', '/auth/login', null,
          { email: O_EMAIL, password: srv.passwords[O_EMAIL], otp: totp(state.officerSecret, 1) });
        if (r.status === 200) {
          state.officerToken = r.body.access_token;
          return state.officerToken;
        }
        await new Promise((res) => setTimeout(res, 31000 - (Date.now() % 30000)));
      }
      throw new Error('no API token for the duty officer');
    };

    await step('national picture (officer): a tile map of the 47 prefectures, counted and coloured, with the same figures in a table', async () => {
      const op = state.op;
      await op.click('nav a[href="/map"]');
      await op.waitForSelector('#tilemap a.tile');
      check((await op.locator('#tilemap a.tile').count()) === 47, 'a tile for each of the 47 prefectures');
      // Tokushima: the one incident of みなみ町立病院 (partial impact on care), still active.
      const tokushima = op.locator('#tilemap a[data-code="36"]');
      const name = (await tokushima.textContent()).replace(/\s+/g, ' ');
      check(name.includes('徳島県') && name.includes('1'), `Tokushima's tile says its name and count: ${name}`);
      check((await tokushima.getAttribute('class')).includes('impact-partial'), 'Tokushima coloured by its partial impact');
      check((await op.locator('#tilemap a.impact-quiet').count()) >= 40, 'prefectures without an active incident are plain');
      await op.waitForSelector('#situation-table tbody tr');
      check(await op.locator('#situation-table caption').count() === 1, 'the table has a caption');
      check((await op.textContent('#situation-table tbody')).includes('徳島県'), 'Tokushima in the table');
      check((await op.textContent('.map-legend')).includes('対応中の事案なし'), 'a legend');
      await op.setViewportSize(PHONE);
      await op.waitForTimeout(300);
      const box = await tokushima.boundingBox();
      check(box.width >= 24 && box.height >= 24, `tiles are large enough to touch at 360 px: ${JSON.stringify(box)}`);
      const width = await op.evaluate(() => document.documentElement.scrollWidth);
      check(width <= 360, `no horizontal scrolling at 360 px (scrollWidth ${width})`);
      await op.setViewportSize(DESKTOP);
      await pageChecks(op, '14-officer-map');
      // A tile opens the queue filtered by its prefecture.
      await tokushima.click();
      await op.waitForURL('**/queue?prefecture=36');
      await op.waitForSelector('#queue-list .incident');
      check((await op.inputValue('select[name=prefecture]')) === '36', 'the queue is filtered by Tokushima');
      check((await op.textContent('#queue-list')).includes('秘密の事案'), 'Tokushima’s incident in the queue');
    });

    // The campaign: three hospitals in three prefectures (Tokyo, Tokushima, Osaka: the demo's
    // reporter accounts) report entry through the same FortiGate vulnerability; the server's
    // detector proposes a campaign within seconds.
    await step('campaigns: the same VPN vulnerability at three hospitals becomes a proposed campaign; the officer checks its evidence and confirms it', async () => {
      const op = state.op;
      const officer = await officerToken();
      const filing = (title) => ({
        title, category: 'unauthorized_access', detected_at: new Date(Date.now() - 2 * 3600e3).toISOString(), care_impact: 'partial',
        vulnerabilities: ['CVE-2024-21762'], entry_point: { kind: 'vpn', vendor: 'Fortinet', product: 'FortiGate' },
        contact: { name: '情報システム担当', phone: '03-0000-0000' },
      });
      const filed = [];
      for (const email of [R_EMAIL, R2_EMAIL, R3_EMAIL]) {
        const r = await apiCall(srv.base, 'POST', '/incidents', await apiLogin(srv, email), filing('VPN 装置経由の不正アクセス'));
        check(r.status === 201, `${email} filed: ${r.status} ${JSON.stringify(r.body)}`);
        filed.push(r.body.id);
      }
      // The detector may propose the campaign with the first two and add the third a moment later.
      const deadline = Date.now() + 15000;
      let campaign = null;
      for (;;) {
        const r = await apiCall(srv.base, 'GET', '/campaigns?status=proposed', officer);
        check(r.status === 200, `campaigns: ${r.status} ${JSON.stringify(r.body)}`);
        campaign = r.body.items.find((c) => filed.every((id) => (c.incidents || []).some((i) => i.id === id)));
        if (campaign) break;
        check(Date.now() < deadline, `a campaign of the three incidents was proposed within 15 s: ${JSON.stringify(r.body.items)}`);
        await new Promise((res) => setTimeout(res, 500));
      }
      state.campaign = campaign;
      state.campaignIncidents = filed;
      await op.click('nav a[href="/campaigns"]');
      await op.waitForSelector(`#campaign-list a[href="/campaigns/${campaign.id}"]`);
      check((await op.textContent('#campaign-list')).includes('CVE-2024-21762'), 'the campaign is listed with its vulnerability');
      await pageChecks(op, '15-officer-campaigns');
      await op.click(`#campaign-list a[href="/campaigns/${campaign.id}"]`);
      await op.waitForSelector('#evidence');
      check((await op.textContent('#evidence')).includes('CVE-2024-21762'), 'the shared vulnerability is evidence');
      const rows = await op.locator('#campaign-incidents tbody tr').count();
      check(rows === campaign.incidents.length, `${rows} incidents in the table (API: ${campaign.incidents.length})`);
      check((await op.textContent('#evidence')).toLowerCase().includes('fortinet/fortigate'), 'the shared product is evidence');
      check(await op.isVisible('#campaign-confirm'), 'confirm while proposed');
      await pageChecks(op, '16-officer-campaign');
      await op.fill('textarea[name=decision_note]', '同一の脆弱性を経由した侵入を3病院で確認');
      await op.click('#campaign-confirm');
      await op.waitForSelector('.badge.campaign_status-confirmed');
      check(!(await op.isVisible('#campaign-confirm')), 'no decision once confirmed');
      const after = await apiCall(srv.base, 'GET', `/campaigns/${campaign.id}`, officer);
      check(after.body.status === 'confirmed', `campaign ${after.body.status}`);
    });

    await step('advisory (officer): written from the campaign, sent to every hospital, with acknowledgements per hospital', async () => {
      const op = state.op;
      await op.click('#write-advisory');
      await op.waitForSelector('#advisory-form');
      const suggested = state.campaign.suggested_criteria || {};
      if (suggested.vendor) check((await op.inputValue('input[name=vendor]')) === suggested.vendor, 'the vendor comes from the campaign');
      check((await op.textContent('main')).includes('もとの攻撃キャンペーン'), 'the advisory names its campaign');
      await pageChecks(op, '17-officer-advisory-new');
      await op.fill('input[name=title]', 'FortiGate の脆弱性（CVE-2024-21762）を悪用した侵入について');
      await op.fill('textarea[name=body]', 'VPN 装置のファームウェアを直ちに更新し、管理者アカウントのパスワードを変更してください。');
      await op.check('input[name=all]');
      await op.click('#advisory-form button[type=submit]');
      await op.waitForURL(/\/advisories\/[0-9A-Za-z-]+$/);
      state.advisoryId = op.url().split('/').pop();
      await op.waitForSelector('#recipients tbody tr');
      check((await op.textContent('#recipients')).includes('東京中央総合病院'), 'the Tokyo hospital is a recipient');
      check((await op.textContent('#recipients')).includes('未確認'), 'nobody has acknowledged yet');
      await pageChecks(op, '18-officer-advisory');
    });

    await step('hospital profile (reporter, phone): remote-access products and the checklist, "not recorded" kept apart from "not done"', async () => {
      await rp.click('nav a[href="/profile"]');
      await rp.waitForSelector('#remote-access-form');
      await rp.waitForSelector('#checklist-form');
      const token = await apiLogin(srv, R_EMAIL);
      const orgId = (await apiCall(srv.base, 'GET', '/me', token)).body.org.id;
      const before = (await apiCall(srv.base, 'GET', `/organizations/${orgId}`, token)).body.remote_access || [];
      check((await rp.locator('#remote-access-form fieldset.ra-row').count()) === before.length, `one row per registered product (${before.length})`);
      // A new row for the remote-desktop gateway, below the demo's FortiGate and maintenance line.
      await rp.click('#ra-add');
      const row = rp.locator('#remote-access-form fieldset.ra-row').last();
      await row.locator('select[name=ra_kind]').selectOption('remote_desktop');
      await row.locator('input[name=ra_vendor]').fill('Microsoft');
      await row.locator('input[name=ra_product]').fill('RD Gateway');
      await row.locator('input[name=ra_version]').fill('Windows Server 2019');
      await rp.click('#remote-access-form button[type=submit]');
      await rp.waitForSelector('#remote-access-form .info');
      const after = (await apiCall(srv.base, 'GET', `/organizations/${orgId}`, token)).body.remote_access || [];
      check(after.length === before.length + 1 && after.some((x) => x.product === 'RD Gateway' && x.kind === 'remote_desktop'),
        `remote access saved: ${JSON.stringify(after)}`);
      check((await rp.textContent('fieldset[data-item=two_factor]')).includes('未記録'), 'an item never answered is "not recorded"');
      await rp.check('input[name="cl-offline_backup"][value=done]');
      await rp.fill('input[name="cl-offline_backup-at"]', '2025-04-01');
      await rp.check('input[name="cl-two_factor"][value=not_done]');
      await rp.click('#checklist-form button[type=submit]');
      await rp.waitForSelector('#checklist-form .info');
      check(!(await rp.textContent('fieldset[data-item=two_factor]')).includes('未記録'), 'a "not done" answer is recorded');
      check((await rp.textContent('fieldset[data-item=bcp]')).includes('未記録'), 'an item left alone stays "not recorded"');
      const cl = await apiCall(srv.base, 'GET', `/organizations/${orgId}/checklist`, token);
      const items = Object.fromEntries((cl.body.items || []).map((x) => [x.item, x]));
      check(items.offline_backup && items.offline_backup.done === true && items.offline_backup.at === '2025-04-01', `offline backup: ${JSON.stringify(items.offline_backup)}`);
      check(items.two_factor && items.two_factor.done === false, `two factor: ${JSON.stringify(items.two_factor)}`);
      check(!items.bcp, 'bcp not recorded');
      const width = await rp.evaluate(() => document.documentElement.scrollWidth);
      check(width <= 360, `no horizontal scrolling at 360 px (scrollWidth ${width})`);
      await rp.click('details.history summary');
      await pageChecks(rp, '19-reporter-profile');
    });

    await step('advisories (reporter, phone): the ministry’s advisory, acknowledged with one press', async () => {
      await rp.click('nav a[href="/advisories"]');
      await rp.waitForSelector(`button[data-advisory="${state.advisoryId}"]`);
      check((await rp.textContent('main')).includes('CVE-2024-21762'), 'the advisory is shown');
      await pageChecks(rp, '20-reporter-advisories');
      await rp.click(`button[data-advisory="${state.advisoryId}"]`);
      await rp.waitForSelector('.ack-done');
      check((await rp.textContent('.ack-done')).includes('受領確認済み'), 'acknowledged');
      const a = await apiCall(srv.base, 'GET', `/advisories/${state.advisoryId}`, await officerToken());
      check(a.body.counts.acknowledged === 1, `acknowledged ${JSON.stringify(a.body.counts)}`);
      const tokyo = a.body.recipients.find((r) => r.organization_name === '東京中央総合病院');
      check(tokyo && tokyo.acknowledged_at, 'Tokyo’s row acknowledged');
    });

    await step('the campaign on the map (officer); a reporter of one of its hospitals reads no other hospital’s name anywhere', async () => {
      const op = state.op;
      await op.click('nav a[href="/map"]');
      await op.waitForSelector('#tilemap a.tile.campaign[data-code="27"]');
      for (const code of ['13', '27', '36']) {
        check(await op.$(`#tilemap a.tile.campaign[data-code="${code}"]`), `prefecture ${code} is marked with the campaign`);
      }
      check(!(await op.$('#tilemap a.tile.campaign[data-code="01"]')), 'Hokkaido is not marked');
      const others = ['大阪湾岸急性期医療センター', 'みなみ町立病院', '道北地域医療センター', '岡山こころの医療センター'];
      const own = state.campaignIncidents[0];
      for (const path of ['/incidents', `/incidents/${own}`, '/advisories', '/profile']) {
        await rp.goto(`${srv.base}${path}`);
        await rp.waitForSelector('main h1');
        await rp.waitForLoadState('networkidle');
        const text = await rp.textContent('body');
        for (const name of others) check(!text.includes(name), `${path} shows ${name} to Tokyo’s reporter`);
        check(!text.includes(state.campaign.id), `${path} shows the campaign to Tokyo’s reporter`);
      }
      check(!(await rp.$('nav a[href="/map"]')) && !(await rp.$('nav a[href="/campaigns"]')), 'no map or campaigns in a reporter’s navigation');
      const reporterToken = await apiLogin(srv, R_EMAIL);
      for (const path of ['/campaigns', '/situation', `/campaigns/${state.campaign.id}`]) {
        const r = await apiCall(srv.base, 'GET', path, reporterToken);
        check(r.status === 403, `${path} answers ${r.status} to a reporter`);
      }
    });

    await step('the acknowledgement link of an advisory e-mail opens signed out; a wrong token is refused on the page', async () => {
      const ctx = await phoneCtx();
      const p = await ctx.newPage();
      watch(p, 'advisory-ack');
      await p.goto(`${srv.base}/advisory-ack?id=${state.advisoryId}&token=not-the-token`);
      await p.waitForSelector('#ack-button');
      check(new URL(p.url()).pathname === '/advisory-ack', `stayed signed out on ${p.url()}`);
      check((await p.textContent('main h1')) === '注意喚起の受領確認', 'the acknowledgement page');
      await p.click('#ack-button');
      await p.waitForSelector('main .error');
      await pageChecks(p, '21-advisory-ack');
      await ctx.close();
    });

    await step('sign-out ends the browser session (a reload stays signed out)', async () => {
      const op = state.op;
      await op.click('button:has-text("サインアウト")');
      await op.waitForURL('**/login');
      await op.reload();
      await op.waitForSelector('input[name=email]');
      check(new URL(op.url()).pathname === '/login', 'signed out after reload');
      const c = (await state.octx.cookies()).find((x) => x.name === 'hikeshi_refresh');
      check(!c || !c.value, 'cookie cleared');
    });

    await step('a role that must use two factors enrols in the browser and stays signed in after a reload', async () => {
      const admin = await apiLogin(srv, 'admin@mhlw.example');
      const put = await apiCall(srv.base, 'PUT', '/security-policy', admin, { totp_required_roles: ['responder'] });
      check(put.status === 200, `policy ${put.status}`);
      const ctx = await desktopCtx();
      const p = await ctx.newPage();
      watch(p, 'responder-totp');
      await signIn(p, srv, S_EMAIL);
      check(new URL(p.url()).pathname === '/totp', `a responder without a second factor landed on ${p.url()}`);
      const secret = (await p.textContent('code.secret')).trim();
      await p.fill('form input[inputmode=numeric]', totp(secret));
      await p.click('form button[type=submit]');
      await p.waitForFunction(() => location.pathname !== '/totp');
      // Enrolment ended the password-only session; the cookie moved to the new one.
      await p.reload();
      await p.waitForSelector('main h1');
      check(!new URL(p.url()).pathname.startsWith('/login'), `signed out after enrolment and reload: ${p.url()}`);
      await apiCall(srv.base, 'PUT', '/security-policy', admin, { totp_required_roles: [] });
      await ctx.close();
    });

    await step('the cookie endpoints refuse cross-site requests (CSRF)', async () => {
      const noHeader = await fetch(`${srv.base}/api/v1/auth/session/refresh`, { method: 'POST' });
      check(noHeader.status === 403, `without X-Hikeshi-CSRF: ${noHeader.status}`);
      const evil = await fetch(`${srv.base}/api/v1/auth/session/refresh`, { method: 'POST', headers: { 'X-Hikeshi-CSRF': '1', Origin: 'https://evil.example' } });
      check(evil.status === 403, `foreign Origin: ${evil.status}`);
    });

    await step('repeated wrong passwords make this device wait, and the page says the account is not locked', async () => {
      const ctx = await phoneCtx();
      const p = await ctx.newPage();
      watch(p, 'throttled');
      await p.goto(`${srv.base}/`);
      await p.waitForURL('**/login');
      for (let i = 0; i < 6; i += 1) {
        await p.fill('input[name=email]', R2_EMAIL);
        await p.fill('input[name=password]', `Wrong-password-${i}!`);
        await Promise.all([
          p.waitForResponse((r) => r.url().endsWith('/api/v1/auth/session') && r.request().method() === 'POST'),
          p.click('form button[type=submit]'),
        ]);
        await p.waitForSelector('.messages .error');
      }
      const text = await p.textContent('.messages');
      check(/秒待って/.test(text) && /ロックされていません/.test(text), `wait message: ${text}`);
      await pageChecks(p, '90-login-wait');
      await ctx.close();
    });

    await step('the API documentation renders every operation under its strict Content-Security-Policy', async () => {
      const ctx = await desktopCtx();
      const p = await ctx.newPage();
      watch(p, 'docs');
      await p.goto(`${srv.base}/docs/`);
      await p.waitForSelector('.opblock');
      await p.click('.opblock-summary');
      await p.waitForTimeout(500);
      const ops = await p.$$eval('.opblock', (e) => e.length);
      check(ops > 40, `operations shown: ${ops}`);
      await ctx.close();
    });

    await step('no Content-Security-Policy violation or script error on any page', async () => {
      check(problems.length === 0, problems.join('\n'));
    });
  } finally {
    await browser.close().catch(() => {});
    srv.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    if (failed) writeFileSync(path.join(SHOTS, 'server.log'), srv.logs());
    rmSync(srv.dir, { recursive: true, force: true });
  }
  writeFileSync(path.join(SHOTS, 'axe-report.json'), JSON.stringify(axeReport, null, 2));
  writeFileSync(path.join(SHOTS, 'results.json'), JSON.stringify(results, null, 2));
  const passed = results.filter((r) => r.ok).length;
  log(`\n${passed}/${results.length} checks passed; screenshots in ${SHOTS}`);
  const worst = axeReport.flatMap((p) => p.violations.map((v) => `${p.page}: ${v.id} (${v.impact})`));
  log(worst.length ? `axe (all impacts): ${worst.join('; ')}` : 'axe: no violations on any page');
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
