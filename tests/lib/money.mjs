// Money in tests: decimal strings <-> BigInt fen, and the contribution rule of
// shared/domain/RULES.md §1.2 as an independent reference to compare the server against.

/** "6543.21" -> 654321n. Throws on anything that is not a plain decimal with <= 2 decimals. */
export function fen(s) {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) throw new Error(`not money: ${JSON.stringify(s)}`);
  const v = BigInt(m[2]) * 100n + BigInt((m[3] || '').padEnd(2, '0'));
  return m[1] ? -v : v;
}

/** 654321n -> "6543.21" */
export function yuan(f) {
  f = BigInt(f);
  const neg = f < 0n;
  const a = neg ? -f : f;
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}

const UNIT = { yuan: 100n, jiao: 10n, fen: 1n };

/** round_half_up(base * bp / 10000) to a multiple of the rounding unit, in fen (base >= 0). */
export function share(baseFen, bp, rounding = 'yuan') {
  const unit = UNIT[rounding];
  if (!unit) throw new Error(`rounding ${rounding}`);
  const num = BigInt(baseFen) * BigInt(bp);
  const den = 10000n * unit;
  return ((num * 2n + den) / (2n * den)) * unit;
}

/**
 * Expected roster row for a wage under a policy (the GET /api/v1/policy object) and an
 * employer's ratios. Returns decimal strings like the API.
 */
export function contribution(wage, policy, unitBp, indivBp) {
  const floor = fen(policy.base_floor);
  const cap = fen(policy.base_cap);
  let base = fen(wage);
  if (base < floor) base = floor;
  if (base > cap) base = cap;
  const unit = share(base, unitBp, policy.rounding);
  const individual = share(base, indivBp, policy.rounding);
  return { base: yuan(base), unit: yuan(unit), individual: yuan(individual), total: yuan(unit + individual) };
}

/** Sum of decimal strings, as a decimal string. */
export function sum(list) {
  return yuan(list.reduce((a, s) => a + fen(s), 0n));
}
