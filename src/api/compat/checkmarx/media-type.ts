/**
 * Checkmarx media-type versioning: the API version travels as a `v` parameter of the media
 * type — `Accept: application/json;v=1.0` on reads, `Content-Type: application/json;v=1.0`
 * on writes — and is echoed in the response's `Content-Type`. No version means the latest.
 *
 * ```ts
 * acceptedVersion('application/json;v=1.0')   // '1.0'
 * acceptedVersion(undefined)                  // '1.0' (the latest)
 * acceptedVersion('application/json;v=2.0')   // null → 406
 * ```
 */

/** Versions this profile speaks, oldest first; the last is the latest. */
export const CX_VERSIONS = ['1.0'] as const;
export type CxVersion = (typeof CX_VERSIONS)[number];
export const CX_LATEST: CxVersion = CX_VERSIONS[CX_VERSIONS.length - 1]!;

export const cxContentType = (version: CxVersion): string => `application/json;v=${version}`;

interface MediaRange {
  type: string;
  params: Map<string, string>;
  q: number;
}

function parseMediaRange(text: string): MediaRange | null {
  const [head, ...rest] = text.split(';');
  const type = head?.trim().toLowerCase() ?? '';
  if (!/^[a-z0-9!#$&^_.+*-]+\/[a-z0-9!#$&^_.+*-]+$/.test(type)) return null;
  const params = new Map<string, string>();
  let q = 1;
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (key === 'q') q = Number.isFinite(Number(value)) ? Number(value) : 0;
    else params.set(key, value);
  }
  return { type, params, q };
}

/** `1` and `1.0` name the same version. */
function normalizeVersion(v: string): string {
  return /^\d+$/.test(v) ? `${v}.0` : v;
}

function supported(v: string | undefined): CxVersion | null {
  if (v === undefined || v === '') return CX_LATEST;
  const n = normalizeVersion(v);
  return (CX_VERSIONS as readonly string[]).includes(n) ? (n as CxVersion) : null;
}

const JSON_RANGES = new Set(['application/json', 'application/*', '*/*']);

/**
 * The version to answer with for this `Accept` header, or null when it admits no
 * supported version (the caller answers 406). Ranges are tried in order of preference.
 */
export function acceptedVersion(accept: string | undefined): CxVersion | null {
  if (accept === undefined || accept.trim() === '') return CX_LATEST;
  const ranges = accept
    .slice(0, 1024)
    .split(',')
    .map(parseMediaRange)
    .filter((r): r is MediaRange => r !== null && r.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const range of ranges) {
    if (!JSON_RANGES.has(range.type)) continue;
    const version = supported(range.params.get('v'));
    if (version) return version;
  }
  return null;
}

/** The version a request body's `Content-Type` declares, or null when it is unsupported. */
export function bodyVersion(contentType: string | undefined): CxVersion | null {
  const range = parseMediaRange(contentType ?? '');
  if (!range || range.type !== 'application/json') return null;
  return supported(range.params.get('v'));
}
