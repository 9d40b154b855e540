// Display helpers. Money stays a decimal string end to end: never parsed into a float.

/** "1234567.80" → "1,234,567.80"; "-5.00" → "-5.00"; anything odd is shown unchanged. */
export function fmtMoney(s) {
  if (s === null || s === undefined || s === '') return '—'
  const str = String(s).trim()
  const m = /^([+-]?)(\d+)(\.\d+)?$/.exec(str)
  if (!m) return str
  const int = m[2].replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return m[1] + int + (m[3] || '')
}

/** Is a money string negative (for colouring)? */
export function isNegative(s) {
  return typeof s === 'string' && s.trim().startsWith('-') && /[1-9]/.test(s)
}

/** Percent text ("12", "12.5", "7.25") → basis points (1200, 1250, 725) without floats; null if bad. */
export function percentToBp(text) {
  const m = /^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*%?\s*$/.exec(String(text ?? ''))
  if (!m) return null
  return parseInt(m[1], 10) * 100 + parseInt((m[2] || '').padEnd(2, '0'), 10)
}

/** 1200 → "12%", 1250 → "12.5%". */
export function bpToPercent(bp) {
  if (bp === null || bp === undefined || !Number.isInteger(bp)) return '—'
  const whole = Math.trunc(bp / 100)
  const frac = String(Math.abs(bp % 100)).padStart(2, '0').replace(/0+$/, '')
  return `${whole}${frac ? '.' + frac : ''}%`
}

const pad = (n) => String(n).padStart(2, '0')

/** The month before d as "YYYY-MM". */
export function previousMonth(d = new Date()) {
  const p = new Date(d.getFullYear(), d.getMonth() - 1, 1)
  return `${p.getFullYear()}-${pad(p.getMonth() + 1)}`
}

/** JSON Pointer "/rows/3/unit" → 3 (row index) or null. */
export function rowIndexFromField(field) {
  const m = /^\/rows\/(\d+)(?:\/|$)/.exec(field || '')
  return m ? parseInt(m[1], 10) : null
}

/** Money text ("1234.5", "-3.00") → fen as a BigInt (exact, no float); null when not money. */
export function toFen(s) {
  const m = /^\s*([+-]?)(\d+)(?:\.(\d{1,2}))?\s*$/.exec(String(s ?? ''))
  if (!m) return null
  const v = BigInt(m[2]) * 100n + BigInt((m[3] || '').padEnd(2, '0'))
  return m[1] === '-' ? -v : v
}

/** Fen (BigInt) → "1234.50". */
export function fenToMoney(f) {
  const neg = f < 0n
  const a = neg ? -f : f
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`
}

/** The sum of money strings as a money string; null when one of them is not money. */
export function sumMoney(values) {
  let total = 0n
  for (const v of values) {
    const f = toFen(v)
    if (f === null) return null
    total += f
  }
  return fenToMoney(total)
}

/** An annual rate ×10^7 (150000) → "1.5%"; "—" when not an integer. */
export function e7ToPercent(e7) {
  if (!Number.isInteger(e7)) return '—'
  const whole = Math.trunc(e7 / 100000)
  const frac = String(Math.abs(e7 % 100000)).padStart(5, '0').replace(/0+$/, '')
  return `${whole}${frac ? '.' + frac : ''}%`
}

/** Percent text ("1.5", "2.75%") → the rate ×10^7 (150000, 275000) by string arithmetic; null if bad. */
export function percentToE7(text) {
  const m = /^\s*(\d{1,3})(?:\.(\d{1,5}))?\s*%?\s*$/.exec(String(text ?? ''))
  if (!m) return null
  return parseInt(m[1], 10) * 100000 + parseInt((m[2] || '').padEnd(5, '0'), 10)
}

/** Basis points → percent text for an input ("12", "7.5"): bpToPercent without the sign. */
export function bpToPercentText(bp) {
  return Number.isInteger(bp) ? bpToPercent(bp).replace(/%$/, '') : ''
}

/** "2026-12-01" → "2026-11-30" (calendar arithmetic in UTC); null when not a date. */
export function dayBefore(day) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(day ?? ''))
  if (!m) return null
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3] - 1))
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
}
