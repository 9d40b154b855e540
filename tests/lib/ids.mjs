// Check characters of the identifiers the API carries (shared/domain/RULES.md §10), and
// generators of fresh valid ones so that each test can register its own employers and members.
// Generators are deterministic per call order within a process; callers pass a distinct `n`.

const MOD112 = '10X98765432';
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** ISO 7064 MOD 11-2 check character of 17 digits (resident ids and the 18-char account numbers). */
export function mod112Check(digits17) {
  if (!/^\d{17}$/.test(digits17)) throw new Error(`mod112Check: need 17 digits, got ${digits17}`);
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(digits17[i]) * ID_WEIGHTS[i];
  return MOD112[s % 11];
}

/** True when an 18-character string ends in the right MOD 11-2 check character. */
export function mod112Valid(s) {
  return typeof s === 'string' && /^\d{17}[\dX]$/.test(s) && mod112Check(s.slice(0, 17)) === s[17];
}

/** A valid resident id number: address code, birth date YYYYMMDD, sequence 0..999. */
export function idNumber(birth = '19900307', seq = 123, area = '320902') {
  const body = `${area}${birth}${String(seq).padStart(3, '0')}`;
  return body + mod112Check(body);
}

/** Same 17 digits with a wrong check character. */
export function idNumberBadCheck(birth = '19900307', seq = 123, area = '320902') {
  const good = idNumber(birth, seq, area);
  const wrong = MOD112.split('').find((c) => c !== good[17]);
  return good.slice(0, 17) + wrong;
}

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];

/** GB 32100 check character of the first 17 characters (with the outer mod 31). */
export function usccCheck(first17) {
  let s = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_CHARS.indexOf(first17[i]);
    if (v < 0) throw new Error(`usccCheck: bad character ${first17[i]}`);
    s += v * USCC_WEIGHTS[i];
  }
  return USCC_CHARS[(31 - (s % 31)) % 31];
}

/** GB 11714 check character of an 8-character organisation code body. */
export function orgCodeCheck(first8) {
  let s = 0;
  for (let i = 0; i < 8; i++) {
    const c = first8[i];
    const v = /\d/.test(c) ? Number(c) : c.charCodeAt(0) - 55; // A=10 .. Z=35
    s += v * ORG_WEIGHTS[i];
  }
  const c9 = 11 - (s % 11);
  return c9 === 10 ? 'X' : c9 === 11 ? '0' : String(c9);
}

/** A valid USCC for a company in 盐城 (320900) whose embedded organisation code is also valid. */
export function uscc(n) {
  const org8 = String(73000000 + (n % 1000000) * 7 + 11).padStart(8, '0').slice(-8);
  const org = org8 + orgCodeCheck(org8);
  const first17 = `91320900${org}`;
  return first17 + usccCheck(first17);
}

export function usccValid(s) {
  return /^[0-9A-HJ-NP-RT-UW-Y]{18}$/.test(s) && usccCheck(s.slice(0, 17)) === s[17];
}

/** Mask as the API does: first 4 and last 4 characters kept. */
export function maskId(id) {
  return id.slice(0, 4) + '*'.repeat(id.length - 8) + id.slice(-4);
}
