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
