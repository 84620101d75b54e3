/** Small helpers shared by the catalog services (applications, permissions, roles). */
import { sql, type Expression, type SqlBool } from 'kysely';
import { AppError } from '../../domain/errors.ts';
import type { Right } from '../../domain/rights.ts';

/** A `validation_failed` error naming one field. */
export function invalidField(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field} ${message}`, { errors: [{ field, message }] });
}

/** A `conflict` error naming the field whose value is taken. */
export function takenField(field: string, message: string): AppError {
  return new AppError('conflict', message, { errors: [{ field, message: 'is already taken' }], details: { field } });
}

/** Case-insensitive "contains" on a text column, the same on SQLite and PostgreSQL. */
export function containsText(column: string, q: string): Expression<SqlBool> {
  const pattern = `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}

export const bool = (n: number): boolean => n === 1;
export const flag = (b: boolean): number => (b ? 1 : 0);

/** The ids in `wanted` that are missing from `found`, in the caller's order. */
export function missingIds(wanted: readonly string[], found: Iterable<string>): string[] {
  const have = new Set(found);
  return wanted.filter((id) => !have.has(id));
}

/** Refuses a list with repeated entries, naming the field and the first repeat. */
export function assertDistinct(field: string, ids: readonly string[]): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw invalidField(field, `lists ${id} more than once`);
    seen.add(id);
  }
}

/**
 * Who may read the catalog. Applications and permissions: their managers, and those who
 * build roles or assign access to users (they pick from the catalog). Roles: role and user
 * managers (the Checkmarx document's "Manage Roles or Manage Users").
 */
export const CATALOG_READ_RIGHTS = ['manage-applications', 'manage-roles', 'manage-users'] as const satisfies readonly Right[];
export const ROLE_READ_RIGHTS = ['manage-roles', 'manage-users'] as const satisfies readonly Right[];

/** A read or write result with the row's version (its ETag). */
export interface Versioned<T> {
  value: T;
  version: number;
}
