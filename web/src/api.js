// HPF API client: JSON over fetch (same-origin credentials), CSRF header on writes,
// problem+json turned into ApiError {status, detail, field, rule, type, title, requestId}.

const BASE = '/api/v1'

let csrfToken = null
let onUnauthenticated = null

export function setCsrfToken(token) {
  csrfToken = token || null
}

/** Called with the error when a non-session request answers 401 (the session ended). */
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn
}

export class ApiError extends Error {
  constructor({ status = 0, title = '', detail = '', field = null, rule = null, type = null, requestId = null }) {
    super(detail || title || `HTTP ${status}`)
    this.name = 'ApiError'
    this.status = status
    this.title = title
    this.detail = detail
    this.field = field
    this.rule = rule
    this.type = type
    this.requestId = requestId
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
 * Returns {data, headers} when opts.raw is true.
 */
export async function request(method, path, opts = {}) {
  const headers = { Accept: 'application/json, application/problem+json' }
  if (opts.headers) Object.assign(headers, opts.headers)
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' }
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(opts.body)
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken

  let res
  try {
    res = await fetch(BASE + path + buildQuery(opts.query), init)
  } catch (e) {
    throw new ApiError({ status: 0, title: 'network', detail: '', rule: 'network' })
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
    })
    if (res.status === 401 && !path.startsWith('/session') && onUnauthenticated) onUnauthenticated(err)
    throw err
  }
  return opts.raw ? { data, headers: res.headers, status: res.status } : data
}

export const api = {
  get: (path, query) => request('GET', path, { query }),
  post: (path, body, headers) => request('POST', path, { body, headers }),
  del: (path) => request('DELETE', path),

  // session
  login: (username, password) => request('POST', '/session', { body: { username, password } }),
  session: () => request('GET', '/session'),
  logout: () => request('DELETE', '/session'),

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
  remittances: (dwzh, offset, limit) =>
    request('GET', `/employers/${encodeURIComponent(dwzh)}/remittances`, { query: { offset, limit } }),
}

/** A fresh Idempotency-Key: 32 lowercase hex characters from the platform CSPRNG. */
export function newIdempotencyKey() {
  const b = new Uint8Array(16)
  crypto.getRandomValues(b)
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}
