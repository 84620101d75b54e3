/**
 * Cursor pagination, the one implementation of list cursors. A cursor is opaque to callers:
 * the position after the last item of a page, bound to the tenant, the list and its filter
 * by an HMAC-SHA256 with the tenant's cursor key (`cursor-key.ts`), so a forged, altered or foreign cursor (another
 * list, another filter, another tenant) is refused with `invalid_cursor` instead of
 * becoming a query.
 *
 * {@link sealCursor} / {@link openCursor} seal and open a position; {@link openPager} pages a
 * keyset-ordered list with them:
 *
 * ```ts
 * const pager = await openPager(deps, tenantId, 'identities', { status }, query.cursor);
 * let q = db.selectFrom('identities')...orderBy('number');
 * if (pager.after !== null) q = q.where('number', '>', pager.after);
 * const rows = await q.limit(pager.limit + 1).execute();
 * return pager.page(rows.map(toView), (row) => row.number);
 * ```
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical-json.ts';
import { AppError } from '../../domain/errors.ts';
import { cursorKey, type KeyDeps } from './cursor-key.ts';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

export interface Pager<K extends string | number> {
  limit: number;
  /** The sort key after which this page starts, or null for the first page. */
  after: K | null;
  /** Builds the page from up to `limit + 1` fetched rows (the extra one says there is more). */
  page<R, T>(rows: R[], keyOf: (row: R) => K, view: (row: R) => T): Page<T>;
}

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

export async function openPager<K extends string | number>(
  deps: KeyDeps,
  tenantId: string,
  list: string,
  filter: Record<string, unknown>,
  request: { cursor?: string | undefined; limit?: number | undefined },
): Promise<Pager<K>> {
  const limit = Math.min(Math.max(request.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
  const key = await cursorKey(deps, tenantId);
  const binding: CursorBinding = { tenantId, list, filter };
  let after: K | null = null;
  if (request.cursor !== undefined) {
    const k = openCursor(key, binding, request.cursor)?.k;
    if (typeof k !== 'string' && typeof k !== 'number') throw new AppError('invalid_cursor', 'the cursor is not valid for this list and filter; start again without a cursor');
    after = k as K;
  }
  return {
    limit,
    after,
    page(rows, keyOf, view) {
      const more = rows.length > limit;
      const pageRows = more ? rows.slice(0, limit) : rows;
      let nextCursor: string | null = null;
      if (more && pageRows.length) nextCursor = sealCursor(key, binding, { k: keyOf(pageRows[pageRows.length - 1]!) });
      return { items: pageRows.map(view), nextCursor };
    },
  };
}
