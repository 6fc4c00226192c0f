// The /api/v1 client. The access token lives only in this module's memory; the refresh token is
// an HttpOnly cookie the page cannot read, exchanged at /auth/session/refresh on load and before
// the access token expires.

const BASE = '/api/v1';
const CSRF = { 'X-Hikeshi-CSRF': '1' };

let access = null;
let timer = null;
let refreshing = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    /** Seconds to wait, from `Retry-After` (429). */
    this.retryAfter = retryAfter ?? null;
  }
}

export class NetworkError extends Error {}

export function setSignedOutHandler(fn) { onSignedOut = fn; }
export function signedIn() { return access !== null; }

function schedule(expiresIn) {
  clearTimeout(timer);
  // Refresh a minute before expiry (at least after 30 s).
  timer = setTimeout(() => { refresh().catch(() => {}); }, Math.max(30, expiresIn - 60) * 1000);
}

function accept(body) {
  access = body.access_token;
  schedule(body.expires_in || 900);
  return body;
}

async function send(url, init) {
  try {
    return await fetch(url, { credentials: 'same-origin', ...init });
  } catch (e) {
    throw new NetworkError(String(e));
  }
}

async function problemOf(res) {
  try { return await res.json(); } catch { return null; }
}

/** Signs in; the refresh token arrives as a cookie. Throws ApiError (type otp-required asks for `otp`). */
export async function login(email, password, otp) {
  const body = { email, password };
  if (otp) body.otp = otp;
  const res = await send(`${BASE}/auth/session`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...CSRF }, body: JSON.stringify(body),
  });
  if (!res.ok) throw new ApiError(res.status, await problemOf(res), res.headers.get('Retry-After'));
  return accept(await res.json());
}

async function doRefresh() {
  const res = await send(`${BASE}/auth/session/refresh`, { method: 'POST', headers: CSRF });
  if (!res.ok) {
    access = null;
    throw new ApiError(res.status, await problemOf(res));
  }
  return accept(await res.json());
}

/** Exchanges the cookie for a fresh access token; one at a time, across tabs too. */
export function refresh() {
  if (!refreshing) {
    const run = () => doRefresh();
    const p = navigator.locks ? navigator.locks.request('hikeshi-session-refresh', run) : run();
    refreshing = p.finally(() => { refreshing = null; });
  }
  return refreshing;
}

/** Restores the session after a reload; false when there is none. */
export async function resume() {
  try {
    await refresh();
    return true;
  } catch (e) {
    if (e instanceof NetworkError) throw e;
    return false;
  }
}

export async function logout() {
  clearTimeout(timer);
  access = null;
  try { await send(`${BASE}/auth/session`, { method: 'DELETE', headers: CSRF }); } catch { /* offline: the cookie expires */ }
}

/**
 * Confirms two-factor enrolment. Enrolment ends the session opened with the password alone; the
 * server moves the cookie to the new session and answers with its access token.
 */
export async function confirmTotp(code) {
  const res = await send(`${BASE}/auth/session/totp`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${access}`, ...CSRF },
    body: JSON.stringify({ code }),
  });
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  return accept(await res.json());
}

/**
 * Calls the API. Returns { status, body, headers }; throws ApiError for 4xx/5xx, NetworkError
 * when the server cannot be reached. A 401 triggers one refresh and one retry.
 */
export async function api(method, path, body, { headers = {}, raw = false, retried = false } = {}) {
  const h = { ...headers };
  if (access) h.Authorization = `Bearer ${access}`;
  const init = { method, headers: h };
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await send(`${BASE}${path}`, init);
  if (res.status === 401 && !retried) {
    try {
      await refresh();
    } catch (e) {
      if (e instanceof NetworkError) throw e;
      onSignedOut();
      throw new ApiError(401, await problemOf(res));
    }
    return api(method, path, body, { headers, raw, retried: true });
  }
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  if (raw) return res;
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  return { status: res.status, body: data, headers: res.headers };
}

/**
 * A POST that carries no session at all (no bearer token, no refresh on 401): for links that act by a
 * token of their own, such as acknowledging an advisory from its e-mail. Throws ApiError / NetworkError.
 */
export async function postPublic(path, body) {
  const res = await send(`${BASE}${path}`, {
    method: 'POST', credentials: 'omit', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!res.ok) throw new ApiError(res.status, await problemOf(res), res.headers.get('Retry-After'));
  const text = await res.text();
  try { return text ? JSON.parse(text) : null; } catch { return text; }
}

export const get = (path, opts) => api('GET', path, undefined, opts).then((r) => r.body);
export const post = (path, body, opts) => api('POST', path, body, opts).then((r) => r.body);
export const put = (path, body, opts) => api('PUT', path, body, opts).then((r) => r.body);
export const patch = (path, body, opts) => api('PATCH', path, body, opts).then((r) => r.body);

/** A random key (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function randomKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
