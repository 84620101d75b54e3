/**
 * Identifiers people read and compare: usernames, subjects, e-mail addresses and the names
 * of organization units, applications, permissions and roles.
 *
 * - They are stored in Unicode NFC, so the same text typed on two keyboards is one value.
 * - They may not hold characters that cannot be seen (format characters such as zero-width
 *   joiners and bidirectional overrides or isolates, variation selectors, other default-
 *   ignorable code points, non-characters, unassigned code points): `admin` and `ad\u200Dmin`
 *   would look the same in every list.
 * - Usernames that look alike are one username: their confusables skeleton (Unicode TR39
 *   with the `unhomoglyph` package's copy of confusables.txt, after case folding) is unique
 *   in a tenant, so `аdmin` with a Cyrillic `а`, `ａdmin` and `Admin` cannot be created next
 *   to `admin`.
 *
 * Subjects are matched byte for byte against the tokens of identity providers, which pick
 * them (often opaque, mixing `0`/`O` and `1`/`l`), so they are normalised and kept free of
 * invisible characters but not compared by skeleton.
 *
 * ```ts
 * normalizeIdentifier('Jose\u0301', 'username'); // 'José' (NFC)
 * identifierSkeleton('ａdmin') === identifierSkeleton('admin'); // true
 * ```
 */
import unhomoglyph from 'unhomoglyph';
import { AppError } from './errors.ts';

/**
 * Characters refused in identifiers: format characters (Cf: zero-width space and joiners,
 * bidirectional marks, overrides and isolates, BOM, invisible operators), variation
 * selectors, other default-ignorable code points, non-characters, unassigned, private-use
 * and surrogate code points, and line or paragraph separators. Control characters (Cc) are
 * refused too.
 */
const INVISIBLE =
  /[\p{Cc}\p{Cf}\p{Cn}\p{Co}\p{Cs}\p{Zl}\p{Zp}\p{Variation_Selector}\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]/u;

function describe(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The identifier in NFC; a 400 naming `field` when it holds a character that cannot be
 * seen (see {@link INVISIBLE}).
 */
export function normalizeIdentifier(value: string, field: string): string {
  const normalized = value.normalize('NFC');
  const found = INVISIBLE.exec(normalized);
  if (found) {
    const message = `must not contain invisible or formatting characters (${describe(found[0])} at position ${found.index + 1})`;
    throw new AppError('validation_failed', `${field} ${message}`, { errors: [{ field, message }] });
  }
  return normalized;
}

/** `normalizeIdentifier` for an optional or nullable value. */
export function normalizeOptionalIdentifier<T extends string | null | undefined>(value: T, field: string): T {
  return (typeof value === 'string' ? normalizeIdentifier(value, field) : value) as T;
}

/**
 * The confusables skeleton of an identifier: compatibility forms folded (NFKD: `ａ` is `a`),
 * lower-cased (case does not tell two identifiers apart), then Unicode TR39 section 4
 * (NFD, each confusable mapped to its prototype, NFD again). Equal skeletons: the
 * identifiers look alike.
 */
export function identifierSkeleton(value: string): string {
  // Some prototypes are capitals (`0` maps to `O`): fold case again after mapping.
  return unhomoglyph(value.normalize('NFKD').toLowerCase().normalize('NFD')).toLowerCase().normalize('NFD');
}

/** Whether `value` starts with `prefix` or something that looks like it (`GRANTORY:`, `grant0ry:`). */
export function startsWithLookAlike(value: string, prefix: string): boolean {
  return identifierSkeleton(value).startsWith(identifierSkeleton(prefix));
}

/** `input` with its `name` (of a unit, application, permission or role) normalised; see {@link normalizeIdentifier}. */
export function withNormalizedName<T extends { name?: string | null | undefined }>(input: T): T {
  return input.name === undefined || input.name === null ? input : { ...input, name: normalizeIdentifier(input.name, 'name') };
}
