/**
 * Opaque, signed list cursors. A cursor carries the position in a list and is bound to the
 * tenant, the list and its filter by an HMAC-SHA256 with a per-tenant key: a forged, edited
 * or foreign cursor (another tenant, another list, other filters) does not open.
 *
 * ```ts
 * const binding = { tenantId, list: 'audit-events', filter: { action: 'identity.create' } };
 * const token = sealCursor(key, binding, { seq: 42 });
 * openCursor(key, binding, token); // { seq: 42 }
 * openCursor(key, { ...binding, filter: {} }, token); // null
 * ```
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

export interface CursorBinding {
  tenantId: string;
  /** Which list the cursor pages (e.g. `audit-events`). */
  list: string;
  /** The list's filters; a cursor only continues the same query. */
  filter: unknown;
}

export type CursorPosition = Record<string, string | number>;

function bindingDigest(binding: CursorBinding): string {
  return createHash('sha256').update(canonicalJson(binding)).digest('base64url').slice(0, 22);
}

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}

export function sealCursor(key: Buffer, binding: CursorBinding, position: CursorPosition): string {
  const payload = Buffer.from(canonicalJson({ b: bindingDigest(binding), p: position })).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/** The position sealed in `token`, or `null` when it was not sealed with this key for this binding. */
export function openCursor(key: Buffer, binding: CursorBinding, token: string): CursorPosition | null {
  const parts = token.split('.');
  if (parts.length !== 2 || token.length > 2048) return null;
  const [payload, signature] = parts as [string, string];
  const expected = mac(key, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const { b, p } = (decoded ?? {}) as { b?: unknown; p?: unknown };
  if (b !== bindingDigest(binding) || typeof p !== 'object' || p === null) return null;
  return p as CursorPosition;
}
