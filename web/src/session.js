// Who is logged in. The CSRF token lives only in memory (api.js); after a page reload it is
// recovered with GET /api/v1/session.
import { reactive } from 'vue'
import { api, setCsrfToken } from './api.js'

export const session = reactive({
  user: null, // {username, role, name, account_no?, employer_account_no?}
  checked: false,
})

let pending = null

function apply(body) {
  session.user = body && body.user ? body.user : null
  setCsrfToken(body && body.csrf_token)
  session.checked = true
}

/** Recover the session once (on first navigation). Resolves to the user or null. */
export function restoreSession() {
  if (session.checked) return Promise.resolve(session.user)
  if (!pending) {
    pending = api
      .session()
      .then(apply, () => apply(null))
      .then(() => session.user)
      .finally(() => {
        pending = null
      })
  }
  return pending
}

/**
 * Log in. Resolves {user} once there is a session (201), or {challenge} when the server wants
 * the SMS code first (202 {challenge, channel, to, expires_in}): then call loginOtp().
 */
export async function login(username, password, totp) {
  const res = await api.login(username, password, totp)
  if (res.status === 202) return { challenge: res.data }
  apply(res.data)
  return { user: session.user }
}

/** The second login step: the SMS code for a challenge. Resolves to the user. */
export async function loginOtp(challenge, code) {
  const res = await api.loginOtp(challenge, code)
  apply(res.data)
  return session.user
}

/**
 * After a step-up the server may hand out a new CSRF token (and the same user): take it, keep
 * the user as it is when the answer has none.
 */
export function refresh(body) {
  if (body && body.csrf_token) setCsrfToken(body.csrf_token)
  if (body && body.user) session.user = body.user
}

export async function logout() {
  try {
    await api.logout()
  } finally {
    forget()
  }
}

/** Drop the local session (after logout or when the server says 401). */
export function forget() {
  apply(null)
}

export function homeFor(user) {
  switch (user && user.role) {
    case 'member':
      return '/member'
    case 'agent':
      return '/agent'
    case 'operator':
      return '/operator'
    case 'admin':
      return '/admin'
    default:
      return '/login'
  }
}
