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

export async function login(username, password) {
  const body = await api.login(username, password)
  apply(body)
  return session.user
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
    default:
      return '/login'
  }
}
