/**
 * Entity tags for optimistic concurrency. Every versioned row has an integer `version`
 * that each update increments; its ETag is `"<version>"`. A PATCH or DELETE that sends
 * `If-Match` with another tag fails with `precondition_failed` (412).
 *
 * ```ts
 * etagOf(3)                       // '"3"'
 * assertIfMatch('"2"', 3)         // throws precondition_failed
 * ```
 */
import { AppError } from './errors.ts';

export const etagOf = (version: number): string => `"${version}"`;

/** Accepts `*`, one tag or a comma-separated list (weak tags compare by their value). */
export function assertIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (tags.includes('*') || tags.includes(etagOf(version))) return;
  throw new AppError('precondition_failed', `the resource is at version ${etagOf(version)}; read it again and retry`, {
    details: { currentEtag: etagOf(version) },
  });
}
