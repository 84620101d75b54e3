/** What SCIM Users and Groups share: list queries and results, `meta`, and checks of body values. */
import { etagOf } from '../../domain/etag.ts';
import { AppError } from '../../domain/errors.ts';
import { scimError } from '../../domain/scim.ts';
import type { SortOrder } from './filter.ts';

export interface ScimResource {
  schemas: string[];
  id: string;
  meta: ScimMeta;
}

export interface ScimMeta {
  resourceType: 'User' | 'Group';
  created: string;
  lastModified: string;
  location: string;
  /** The ETag (the row's version), as the `ETag` header sends it. */
  version: string;
}

/** `startIndex` is 1-based; `count` 0 asks for the total only; `sortBy` an attribute path. */
export interface ListQuery {
  filter?: string | undefined;
  startIndex: number;
  count: number;
  sortBy?: string | undefined;
  sortOrder?: SortOrder | undefined;
}

export interface ListResult<T> {
  total: number;
  resources: T[];
}

export function meta(resourceType: ScimMeta['resourceType'], location: string, created: string, lastModified: string, version: number): ScimMeta {
  return { resourceType, created, lastModified, location, version: etagOf(version) };
}

/** A 400 with `scimType: invalidValue` naming the attribute. */
export function invalidValue(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field} ${message}`, { errors: [{ field, message }], details: scimError('invalidValue') });
}

/** A string attribute of a body: absent or null is null; anything else but bounded text is a 400. */
export function text(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalidValue(field, 'must be a string');
  if (value.length > max) throw invalidValue(field, `must be at most ${max} characters`);
  return value === '' ? null : value;
}

/**
 * A read, a change computed from it, and a write guarded by the version read. With the
 * caller's `If-Match` the write is guarded by that tag alone (a mismatch is its 412); without
 * one, a write that lost a race with another (a concurrent PATCH of the same Group) reads
 * again and retries, so no change is lost and the caller sees no 412 it did not ask for.
 */
export async function readModifyWrite<T>(ifMatch: string | undefined, attempt: (expected: string | undefined) => Promise<T>, tries = 5): Promise<T> {
  if (ifMatch !== undefined) return attempt(ifMatch);
  for (let i = 1; ; i += 1) {
    try {
      return await attempt(undefined);
    } catch (e) {
      if (!(e instanceof AppError && e.code === 'precondition_failed') || i >= tries) throw e;
    }
  }
}

/**
 * One page of rows and the total of the list. The total is counted only when the page
 * cannot tell it (a full page, or an empty one past the first): the `userName eq` look-up
 * an identity provider makes before each create is then one query.
 */
export async function pageWithTotal<R>(query: ListQuery, rows: (limit: number, offset: number) => Promise<R[]>, countAll: () => Promise<number>): Promise<{ total: number; rows: R[] }> {
  if (query.count === 0) return { total: await countAll(), rows: [] };
  const page = await rows(query.count, query.startIndex - 1);
  const told = page.length < query.count && (page.length > 0 || query.startIndex === 1);
  return { total: told ? query.startIndex - 1 + page.length : await countAll(), rows: page };
}
