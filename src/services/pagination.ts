/**
 * Cursor pagination. A cursor is opaque to callers: the position after the last item of a
 * page, bound to the list and its filter, and signed with a per-tenant key, so a forged,
 * altered or foreign cursor (another list, another filter, another tenant) is refused with
 * `invalid_cursor` instead of becoming a query.
 *
 * ```ts
 * const pager = await openPager(deps.store, tenantId, 'identities', { status }, query.cursor);
 * let q = db.selectFrom('identities')...orderBy('number');
 * if (pager.after !== null) q = q.where('number', '>', pager.after);
 * const rows = await q.limit(pager.limit + 1).execute();
 * return pager.page(rows.map(toView), (row) => row.number);
 * ```
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json.ts';
import { AppError } from '../domain/errors.ts';
import type { Store } from '../store/store.ts';

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

const CURSOR_SECRET = 'cursor';

function sign(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest().subarray(0, 18).toString('base64url');
}

export async function openPager<K extends string | number>(
  store: Store,
  tenantId: string,
  list: string,
  filter: Record<string, unknown>,
  request: { cursor?: string | undefined; limit?: number | undefined },
): Promise<Pager<K>> {
  const limit = Math.min(Math.max(request.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
  const key = await store.tenantSecret(tenantId, CURSOR_SECRET);
  const binding = canonicalJson({ list, filter });
  let after: K | null = null;
  if (request.cursor !== undefined) {
    const invalid = new AppError('invalid_cursor', 'the cursor is not valid for this list and filter; start again without a cursor');
    const [payload, signature] = request.cursor.split('.');
    if (!payload || !signature || request.cursor.length > 1024) throw invalid;
    const expected = Buffer.from(sign(key, `${binding}\n${payload}`));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid;
    try {
      after = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as K;
    } catch {
      throw invalid;
    }
    if (typeof after !== 'string' && typeof after !== 'number') throw invalid;
  }
  return {
    limit,
    after,
    page(rows, keyOf, view) {
      const more = rows.length > limit;
      const pageRows = more ? rows.slice(0, limit) : rows;
      let nextCursor: string | null = null;
      if (more && pageRows.length) {
        const payload = Buffer.from(JSON.stringify(keyOf(pageRows[pageRows.length - 1]!))).toString('base64url');
        nextCursor = `${payload}.${sign(key, `${binding}\n${payload}`)}`;
      }
      return { items: pageRows.map(view), nextCursor };
    },
  };
}
