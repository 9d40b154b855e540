// HPF API client: JSON over fetch (same-origin credentials), CSRF header on writes,
// problem+json turned into ApiError {status, detail, field, rule, type, title, requestId}.

const BASE = '/api/v1'

let csrfToken = null
let onUnauthenticated = null
let onStepUp = null
let stepUpPending = null

export function setCsrfToken(token) {
  csrfToken = token || null
}

/** Called with the error when a non-session request answers 401 (the session ended). */
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn
}

/** The session ended as seen elsewhere (the step-up dialog): the same path as a 401 here. */
export function reportUnauthenticated(err) {
  if (onUnauthenticated) onUnauthenticated(err)
}

/**
 * Called with the error when a request answers 401 auth.step_up_required: the session is fine
 * but the action wants a fresh second factor. fn() resolves true once the user proved one (the
 * request is then sent again, once), false when they gave up. StepUpDialog.vue installs it.
 */
export function setStepUpHandler(fn) {
  onStepUp = fn
}

// Several requests may ask at once (two tabs of one page, a retry racing a load): they share one
// dialog, and all of them retry after it.
function askStepUp(err) {
  if (!onStepUp) return Promise.resolve(false)
  if (!stepUpPending) {
    stepUpPending = Promise.resolve()
      .then(() => onStepUp(err))
      .catch(() => false)
      .finally(() => {
        stepUpPending = null
      })
  }
  return stepUpPending
}

/** Retry-After as seconds (delta-seconds or an HTTP date), or null. */
function retryAfterSeconds(value) {
  if (!value) return null
  if (/^\d+$/.test(value.trim())) return Number(value.trim())
  const at = Date.parse(value)
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000))
}

export class ApiError extends Error {
  constructor({ status = 0, title = '', detail = '', field = null, rule = null, type = null, requestId = null, retryAfter = null, errors = null }) {
    super(detail || title || `HTTP ${status}`)
    this.name = 'ApiError'
    this.status = status
    this.title = title
    this.detail = detail
    this.field = field
    this.rule = rule
    this.type = type
    this.requestId = requestId
    // Every problem of an uploaded file: [{pointer, line, column, rule, detail}] (roster CSV).
    this.errors = Array.isArray(errors) ? errors : null
    // 429 with Retry-After: the moment (ms since the epoch) after which trying again makes sense.
    this.retryAt = retryAfter === null ? null : Date.now() + retryAfter * 1000
  }
}

function buildQuery(query) {
  if (!query) return ''
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v))
  }
  const s = p.toString()
  return s ? `?${s}` : ''
}

/**
 * request('GET', '/members/320...', {query, body, headers}) → parsed JSON (null for 204).
 * Returns {data, headers, status} when opts.raw is true.
 *
 * A 401 auth.step_up_required (outside /session) asks the step-up handler for a fresh second
 * factor and then sends the very same request once more: same body, same headers (so the same
 * Idempotency-Key), with the CSRF token current at that moment. A second step-up answer, or a
 * dialog the user closed, ends as the ApiError of the original answer.
 */
export async function request(method, path, opts = {}) {
  const first = await send(method, path, opts)
  if (first.ok) return first.value
  const err = first.error
  if (err.status === 401 && err.rule === 'auth.step_up_required' && !path.startsWith('/session')) {
    if (await askStepUp(err)) {
      const again = await send(method, path, opts)
      if (again.ok) return again.value
      throw again.error
    }
    throw err
  }
  throw err
}

/** One HTTP exchange: {ok: true, value} or {ok: false, error: ApiError}. Never throws. */
async function send(method, path, opts) {
  const headers = { Accept: 'application/json, application/problem+json' }
  if (opts.headers) Object.assign(headers, opts.headers)
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' }
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(opts.body)
  } else if (opts.rawBody !== undefined) {
    // a file as it is (a Blob/File): the server detects its encoding
    headers['Content-Type'] = opts.contentType
    init.body = opts.rawBody
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken

  let res
  try {
    res = await fetch(BASE + path + buildQuery(opts.query), init)
  } catch (e) {
    return { ok: false, error: new ApiError({ status: 0, title: 'network', detail: '', rule: 'network' }) }
  }

  const ctype = res.headers.get('Content-Type') || ''
  let data = null
  if (res.status !== 204 && /json/i.test(ctype)) {
    try {
      data = await res.json()
    } catch {
      data = null
    }
  }

  if (!res.ok) {
    const p = data && typeof data === 'object' ? data : {}
    const err = new ApiError({
      status: res.status,
      title: p.title || res.statusText || '',
      detail: p.detail || '',
      field: p.field ?? null,
      rule: p.rule ?? null,
      type: p.type ?? null,
      requestId: p.request_id || res.headers.get('X-Request-Id'),
      retryAfter: res.status === 429 ? retryAfterSeconds(res.headers.get('Retry-After')) : null,
      errors: p.errors ?? null,
    })
    // The session ended, unless the server only wants a fresh second factor for this action.
    if (res.status === 401 && err.rule !== 'auth.step_up_required' && !path.startsWith('/session') && onUnauthenticated) {
      onUnauthenticated(err)
    }
    return { ok: false, error: err }
  }
  return { ok: true, value: opts.raw ? { data, headers: res.headers, status: res.status } : data }
}

export const api = {
  get: (path, query) => request('GET', path, { query }),
  post: (path, body, headers) => request('POST', path, { body, headers }),
  del: (path) => request('DELETE', path),

  // session
  // 201 {user, csrf_token} = logged in; 202 {challenge, channel, to, expires_in} = SMS code next.
  login: (username, password, totp) =>
    request('POST', '/session', { body: totp ? { username, password, totp } : { username, password }, raw: true }),
  loginOtp: (challenge, code) => request('POST', '/session/otp', { body: { challenge, code }, raw: true }),
  session: () => request('GET', '/session'),
  logout: () => request('DELETE', '/session'),
  // Step-up: {totp} → 200 (operators, agents); {} → 202 {challenge, ...}, then loginOtp (members).
  stepUp: (body) => request('POST', '/session/step-up', { body, raw: true }),

  // public: check a receipt's verification code (no login)
  verifyDocument: (code) => request('GET', `/public/documents/${encodeURIComponent(code)}`),

  // employers
  employers: (offset, limit) => request('GET', '/employers', { query: { offset, limit } }),
  employer: (dwzh) => request('GET', `/employers/${encodeURIComponent(dwzh)}`),
  createEmployer: (body) => request('POST', '/employers', { body }),

  // members
  members: (dwzh, offset, limit) =>
    request('GET', `/employers/${encodeURIComponent(dwzh)}/members`, { query: { offset, limit } }),
  openAccount: (dwzh, body) => request('POST', `/employers/${encodeURIComponent(dwzh)}/members`, { body }),
  member: (grzh) => request('GET', `/members/${encodeURIComponent(grzh)}`),
  statement: (grzh, from, to) =>
    request('GET', `/members/${encodeURIComponent(grzh)}/statement`, { query: { from, to } }),
  // account states (docs/internals/accounts.md): action is seal, unseal, freeze, unfreeze, transfer
  memberStateChange: (grzh, action, body) => request('POST', `/members/${encodeURIComponent(grzh)}/${action}`, { body }),
  memberHistory: (grzh, offset, limit) =>
    request('GET', `/members/${encodeURIComponent(grzh)}/history`, { query: { offset, limit } }),

  // policy in force (ratio ranges etc.)
  policy: (date) => request('GET', '/policy', { query: { date } }),

  // remittances
  remittanceDraft: (dwzh, period) =>
    request('GET', `/employers/${encodeURIComponent(dwzh)}/remittances/draft`, { query: { period } }),
  remit: (dwzh, body, idempotencyKey) =>
    request('POST', `/employers/${encodeURIComponent(dwzh)}/remittances`, {
      body,
      headers: { 'Idempotency-Key': idempotencyKey },
      raw: true,
    }),
  // the roster as a CSV file: a plain link downloads it (a GET with the session cookie)
  remittanceDraftCsvUrl: (dwzh, period) =>
    `${BASE}/employers/${encodeURIComponent(dwzh)}/remittances/draft${buildQuery({ period, format: 'csv' })}`,
  // upload an edited roster file: the same submit as remit() (202 pending approval)
  remitCsv: (dwzh, period, total, file, idempotencyKey) =>
    request('POST', `/employers/${encodeURIComponent(dwzh)}/remittances`, {
      query: { period, total },
      rawBody: file,
      contentType: 'text/csv',
      headers: { 'Idempotency-Key': idempotencyKey },
      raw: true,
    }),
  remittances: (dwzh, offset, limit) =>
    request('GET', `/employers/${encodeURIComponent(dwzh)}/remittances`, { query: { offset, limit } }),

  // maker-checker (复核): operators see every request, agents their employer's
  approvals: ({ status, kind, offset, limit } = {}) => request('GET', '/approvals', { query: { status, kind, offset, limit } }),
  approval: (id) => request('GET', `/approvals/${encodeURIComponent(id)}`),
  // approve and reject want a fresh second factor: request() handles auth.step_up_required
  approve: (id) => request('POST', `/approvals/${encodeURIComponent(id)}/approve`, { body: {} }),
  reject: (id, reason) => request('POST', `/approvals/${encodeURIComponent(id)}/reject`, { body: { reason } }),
  withdraw: (id) => request('POST', `/approvals/${encodeURIComponent(id)}/withdraw`, { body: {} }),
  // a policy change: 202 pending approval, 200 + Idempotent-Replay for the same key and body
  proposePolicy: (body, idempotencyKey) =>
    request('POST', '/policies', { body, headers: { 'Idempotency-Key': idempotencyKey }, raw: true }),

  // administration (admin only): operator logins. Creating one and disabling or enabling any
  // login want a fresh second factor (the step-up dialog, as for money). The 201 of
  // createOperator carries the login's totp_uri this once: callers keep it in memory only.
  operators: (offset, limit) => request('GET', '/operators', { query: { offset, limit } }),
  createOperator: (body) => request('POST', '/operators', { body }),
  disableUser: (username) => request('POST', `/users/${encodeURIComponent(username)}/disable`, { body: {} }),
  enableUser: (username) => request('POST', `/users/${encodeURIComponent(username)}/enable`, { body: {} }),
}

/** A fresh Idempotency-Key: 32 lowercase hex characters from the platform CSPRNG. */
export function newIdempotencyKey() {
  const b = new Uint8Array(16)
  crypto.getRandomValues(b)
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}
