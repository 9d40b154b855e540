// TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) for the tests: what an authenticator
// app computes from the secret that `hpf demo`, `hpf user add-operator` or an employer
// registration handed out. Written from the RFC with node:crypto; it shares no code with the
// server's trust/totp.c, so the two check each other.

import crypto from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Bytes of a base32 secret (RFC 4648; case, spaces and '=' padding ignored). */
export function base32Decode(s) {
  const clean = s.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${JSON.stringify(s)}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The HOTP value (RFC 4226) of key bytes at a counter, as a zero-padded string. */
export function hotp(key, counter, digits = 6) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const md = crypto.createHmac('sha1', key).update(msg).digest();
  const off = md[md.length - 1] & 0x0f;
  const bin = ((md[off] & 0x7f) << 24) | (md[off + 1] << 16) | (md[off + 2] << 8) | md[off + 3];
  return String(bin % 10 ** digits).padStart(digits, '0');
}

/** The time step of unix seconds t. */
export function step(t = Date.now() / 1000) {
  return Math.floor(t / 30);
}

/** The 6-digit code of a base32 secret at time step s (default: now). */
export function totp(secret, s = step()) {
  return hotp(base32Decode(secret), s);
}

/** The base32 secret inside an otpauth:// URI. */
export function secretFromUri(uri) {
  const m = /^otpauth:\/\/totp\/[^?]+\?(.*)$/.exec(uri ?? '');
  const secret = m && new URLSearchParams(m[1]).get('secret');
  if (!secret) throw new Error(`no otpauth TOTP URI with a secret: ${uri}`);
  return secret;
}
