/**
 * Case-insensitive "contains" search that behaves the same on SQLite and PostgreSQL:
 * `lower(column) LIKE lower(pattern) ESCAPE '\'`, with the caller's `%`, `_` and `\` taken
 * literally. (SQLite's lower() folds ASCII letters only; PostgreSQL folds all of Unicode.)
 *
 * ```ts
 * q.where((eb) => eb.or(['email', 'username'].map((c) => containsText(sql.ref(c), 'ada'))))
 * ```
 */
import { sql, type RawBuilder } from 'kysely';

/** Bound on search text, in characters (the routes declare the same bound). */
export const MAX_SEARCH_LENGTH = 100;

/** `%`, `_` and `\` taken literally in a LIKE pattern (with `escape '\'`). */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export function likeContains(text: string): string {
  return `%${escapeLike(text)}%`;
}

export function containsText(column: RawBuilder<unknown>, text: string): RawBuilder<boolean> {
  return sql<boolean>`lower(${column}) like lower(${likeContains(text)}) escape '\\'`;
}

/** `lower(column) LIKE 'text%'`: case-insensitive "starts with" (SCIM `sw`). */
export function startsWithText(column: RawBuilder<unknown>, text: string): RawBuilder<boolean> {
  return sql<boolean>`lower(${column}) like lower(${`${escapeLike(text)}%`}) escape '\\'`;
}

/** `lower(column) LIKE '%text'`: case-insensitive "ends with" (SCIM `ew`). */
export function endsWithText(column: RawBuilder<unknown>, text: string): RawBuilder<boolean> {
  return sql<boolean>`lower(${column}) like lower(${`%${escapeLike(text)}`}) escape '\\'`;
}

