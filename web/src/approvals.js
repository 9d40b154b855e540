// Maker-checker (复核) helpers shared by the list and the detail pages: what a request is about
// (its month and total, or the policy's first day), the policy fields in display order, and who
// may do what on a request as far as the page can tell (the server decides; see
// docs/internals/approval.md).
import { api } from './api.js'
import { sumMoney } from './format.js'

export const STATUSES = ['pending', 'approved', 'rejected', 'withdrawn']
export const KINDS = ['remittance.post', 'policy.change']

/** The policy fields of a policy.change payload, in display order, each with how to show it. */
export const POLICY_FIELDS = [
  { key: 'unit_ratio_min_bp', kind: 'bp' },
  { key: 'unit_ratio_max_bp', kind: 'bp' },
  { key: 'indiv_ratio_min_bp', kind: 'bp' },
  { key: 'indiv_ratio_max_bp', kind: 'bp' },
  { key: 'city_avg_wage', kind: 'money' },
  { key: 'min_wage', kind: 'money' },
  { key: 'cap_multiple', kind: 'int' },
  { key: 'rounding', kind: 'rounding' },
  { key: 'ratios_must_match', kind: 'bool' },
  { key: 'deposit_rate_e7', kind: 'rate' },
  { key: 'day_basis', kind: 'int' },
]

/**
 * {period, total, members, effective_from} of a request, from its result (approved) or its
 * payload (GET /approvals/{id} only); fields it cannot tell are null.
 */
export function summaryOf(a) {
  const s = { period: null, total: null, members: null, effective_from: null }
  if (!a) return s
  const r = a.result && typeof a.result === 'object' ? a.result : null
  const p = a.payload && typeof a.payload === 'object' ? a.payload : null
  if (a.kind === 'remittance.post') {
    const src = r && r.period ? r : p
    if (src) {
      s.period = src.period ?? null
      s.total = src.total ?? null
      s.members = r && Number.isInteger(r.members) ? r.members : Array.isArray(src.rows) ? src.rows.length : null
    }
  } else if (a.kind === 'policy.change') {
    s.effective_from = (r && r.effective_from) || (p && p.effective_from) || null
  }
  return s
}

/** Does the list item need its detail to say what it is about? (The list has no payloads.) */
function needsDetail(a) {
  const s = summaryOf(a)
  return a.kind === 'remittance.post' ? s.period === null : a.kind === 'policy.change' ? s.effective_from === null : false
}

/**
 * One page of GET /approvals with `summary` on each item. The list carries no payloads, so the
 * items whose result does not tell (pending, rejected, withdrawn) are read one by one, in
 * parallel; a failed read leaves that summary empty rather than failing the page.
 */
export async function approvalsPage(query) {
  const page = await api.approvals(query)
  const items = Array.isArray(page && page.items) ? page.items : []
  await Promise.all(
    items.map(async (a) => {
      let full = a
      if (needsDetail(a)) {
        try {
          full = await api.approval(a.approval_id)
        } catch {
          full = a
        }
      }
      a.summary = summaryOf(full)
    }),
  )
  return { ...page, items }
}

/** The roster totals of a remittance payload: {members, unit, individual, rows: [{..., total}]}. */
export function rosterOf(payload) {
  const rows = payload && Array.isArray(payload.rows) ? payload.rows : []
  return {
    members: rows.length,
    unit: sumMoney(rows.map((r) => r.unit)),
    individual: sumMoney(rows.map((r) => r.individual)),
    rows: rows.map((r) => ({ ...r, total: sumMoney([r.unit, r.individual]) })),
  }
}

export const isMaker = (a, user) => !!(a && user && a.made_by && a.made_by.username === user.username)
