/**
 * The format of secrets Grantory issues: `<prefix>_<32 base62 random><6 base62 checksum>`.
 * The recognisable prefix lets secret scanners spot a leaked key; the CRC-32 checksum lets
 * the server reject a mistyped or made-up key without a store lookup.
 *
 * ```ts
 * const key = generateSecret('gty');   // 'gty_3kT...'
 * hasValidChecksum(key, 'gty');        // true
 * ```
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 32;
const CHECKSUM_LENGTH = 6;

function toBase62(n: number, width: number): string {
  let out = '';
  let v = n;
  for (let i = 0; i < width; i += 1) {
    out = BASE62[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out;
}

function randomBase62(length: number): string {
  // Rejection sampling keeps every character uniformly distributed.
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(s: string): number {
  let c = 0xffffffff;
  for (const byte of Buffer.from(s, 'utf8')) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function generateSecret(prefix: string): string {
  const head = `${prefix}_${randomBase62(BODY_LENGTH)}`;
  return head + toBase62(crc32(head), CHECKSUM_LENGTH);
}

/** True when `secret` has the given prefix, the right length and a matching checksum. */
export function hasValidChecksum(secret: string, prefix: string): boolean {
  const expectedLength = prefix.length + 1 + BODY_LENGTH + CHECKSUM_LENGTH;
  if (secret.length !== expectedLength || !secret.startsWith(`${prefix}_`)) return false;
  const head = secret.slice(0, -CHECKSUM_LENGTH);
  if (!/^[0-9A-Za-z]+$/.test(secret.slice(prefix.length + 1))) return false;
  return toBase62(crc32(head), CHECKSUM_LENGTH) === secret.slice(-CHECKSUM_LENGTH);
}

/** The stored form of a secret: SHA-256, hex. Secrets are 190 bits of entropy, so a fast hash is enough. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests. */
export function digestsEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}
