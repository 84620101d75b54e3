/**
 * Text that the store cannot keep faithfully never reaches it: every string of a request —
 * path parameters, query string, body (native routes and vendor profiles alike) — is
 * refused with `validation_failed` naming the field when it holds a control character,
 * and bodies or URLs that are not valid UTF-8 are refused instead of being decoded with
 * replacement characters. (PostgreSQL cannot store U+0000 at all; SQLite would keep it;
 * invisible controls in names make look-alikes.)
 *
 * - C0 controls (U+0000-U+001F), DEL and C1 controls (U+007F-U+009F) are refused in
 *   every string and every object key, except tab, line feed and carriage return in the
 *   free-text fields named in {@link FREE_TEXT_FIELDS} (descriptions, notes, reasons, ...).
 * - Lone UTF-16 surrogates (`"\ud800"` in JSON) are refused: they are not text.
 *
 * ```ts
 * registerTextGuard(app);                       // in buildApp, before the routes
 * app.addContentTypeParser('application/json', { parseAs: 'buffer' }, jsonParser(app.getDefaultJsonParser('error', 'error')));
 * ```
 *
 * A JSON body of printable ASCII with no backslash (nearly every request: ids, names,
 * numbers) is parsed by `JSON.parse` at once and known clean without a walk: no escape can
 * spell a control, `__proto__` or `constructor`, and raw controls are not JSON. Any other
 * body takes Fastify's parser (prototype-poisoning checks) and the walk. A route that reads
 * its own body (route-body.ts) is given the text before either.
 */
import { isAscii } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode, type FieldError } from '../domain/errors.ts';
import { textProblem } from '../domain/text.ts';
import { bodyReaderOf, markReadBody } from './route-body.ts';

/** Fields (by property name) whose text may hold tab, line feed and carriage return. */
export const FREE_TEXT_FIELDS: ReadonlySet<string> = new Set(['description', 'note', 'reason', 'comment', 'justification', 'message', 'delimiter']);

/** At most this many offending fields are named in one answer. */
const MAX_ERRORS = 20;

/** Throws `validation_failed` naming `field` when `value` is not acceptable text. */
export function assertCleanText(value: string, field: string, freeText = FREE_TEXT_FIELDS.has(field)): void {
  const problem = textProblem(value, freeText);
  if (problem) throw new AppError('validation_failed', `${field} ${problem}`, { errors: [{ field, message: problem }] });
}

/**
 * The field errors of every string (and object key) in `root`, named from `prefix` the way
 * schema validation names them (`name`, `grants.0.permission`, `querystring.q`). Walks
 * with its own stack, so a deeply nested body cannot overflow the call stack.
 */
export function controlCharacterErrors(root: unknown, prefix: string): FieldError[] {
  // Nearly every request is clean: found so without allocating (or by the parser, from the
  // text), it needs no walk.
  if ((typeof root === 'object' && root !== null && PLAIN_BODIES.has(root)) || plainlyClean(root, 0)) return [];
  const errors: FieldError[] = [];
  const stack: { value: unknown; path: string; key: string }[] = [{ value: root, path: '', key: '' }];
  const name = (path: string) => prefix + (path || '(root)');
  while (stack.length && errors.length < MAX_ERRORS) {
    const { value, path, key } = stack.pop()!;
    if (typeof value === 'string') {
      const problem = textProblem(value, FREE_TEXT_FIELDS.has(key));
      if (problem) errors.push({ field: name(path), message: problem });
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i -= 1) stack.push({ value: value[i], path: path ? `${path}.${i}` : String(i), key });
    } else if (value !== null && typeof value === 'object' && isRecord(value)) {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i -= 1) {
        const [k, v] = entries[i]!;
        const at = path ? `${path}.${k}` : k;
        const problem = textProblem(k, false);
        if (problem) errors.push({ field: name(at), message: `its name ${problem}` });
        else stack.push({ value: v, path: at, key: k });
      }
    }
  }
  return errors;
}

/* eslint-disable no-control-regex */
/** Every character {@link textProblem} could refuse: controls and any surrogate (paired or not). */
const SUSPECT = /[\u0000-\u001F\u007F-\u009F\uD800-\uDFFF]/;
/* eslint-enable no-control-regex */
const PLAIN_DEPTH = 32;

/**
 * True when no string or key in `value` holds a character that could be refused — with no
 * allocation, unlike the walk that names fields. False means "walk it": a suspect character
 * (which may still be allowed: a line break in a free-text field, a well-formed surrogate
 * pair) or nesting deeper than {@link PLAIN_DEPTH}.
 */
function plainlyClean(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return !SUSPECT.test(value);
  if (value === null || typeof value !== 'object') return true;
  if (depth >= PLAIN_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!plainlyClean(item, depth + 1)) return false;
    return true;
  }
  if (!isRecord(value)) return true;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    if (SUSPECT.test(key) || !plainlyClean((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

/** Parsed records (query objects have no usual prototype); not buffers or streams (uploads). */
function isRecord(value: object): boolean {
  return !ArrayBuffer.isView(value) && typeof (value as { pipe?: unknown }).pipe !== 'function';
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes `body` as UTF-8, refusing (with `code`, a 400) bytes that are not UTF-8. */
export function strictUtf8(body: Buffer | string, code: ErrorCode & ('malformed_json' | 'validation_failed')): string {
  if (typeof body === 'string') return body;
  try {
    return fatalUtf8.decode(body);
  } catch {
    throw new AppError(code, 'the request body is not valid UTF-8', { errors: [{ field: '(body)', message: 'is not valid UTF-8' }] });
  }
}

type Done = (error: Error | null, body?: unknown) => void;
type TextParser = (request: FastifyRequest, body: string, done: Done) => void;

/**
 * A `parseAs: 'buffer'` content-type parser that decodes the body as strict UTF-8 (a
 * `malformed_json` 400 otherwise) and hands the text to `parse` (e.g. Fastify's default
 * JSON parser, which keeps its prototype-poisoning and empty-body checks).
 */
export function utf8Parser(parse: TextParser): (request: FastifyRequest, body: Buffer | string, done: Done) => void {
  return (request, body, done) => {
    let text: string;
    try {
      text = strictUtf8(body, 'malformed_json');
    } catch (e) {
      done(e as Error);
      return;
    }
    parse(request, text, done);
  };
}

/**
 * Bodies parsed from text of printable ASCII without a backslash: every string and key in
 * them is printable ASCII, so the guard need not look.
 */
const PLAIN_BODIES = new WeakSet<object>();

const BACKSLASH = 0x5c;
const DEL = 0x7f;

/**
 * Whether a JSON text (as bytes) can be parsed with `JSON.parse` alone and needs no text
 * walk: ASCII, no backslash (so no escape), no DEL, and no `__proto__` or `constructor`
 * (the names Fastify's parser guards against; without escapes they can only be spelled
 * plainly). Raw controls inside strings are not JSON, so `JSON.parse` refuses them; a body
 * that fails takes Fastify's parser, which answers it as before.
 */
function plainJson(body: Buffer): boolean {
  return (
    body.length > 0 &&
    isAscii(body) &&
    body.indexOf(BACKSLASH) < 0 &&
    body.indexOf(DEL) < 0 &&
    body.indexOf('__proto__') < 0 &&
    body.indexOf('constructor') < 0
  );
}

/**
 * {@link utf8Parser} for JSON with two fast paths: a route that reads its own body
 * (route-body.ts) is given the text first; a plain body ({@link plainJson}) is parsed by
 * `JSON.parse`; either is marked clean for the text guard. Anything else (and any body
 * `JSON.parse` refuses) goes to `parse`, Fastify's JSON parser, with its errors.
 */
export function jsonParser(parse: TextParser): (request: FastifyRequest, body: Buffer | string, done: Done) => void {
  const slow = utf8Parser(parse);
  return (request, body, done) => {
    if (typeof body === 'string') {
      slow(request, body, done);
      return;
    }
    const read = bodyReaderOf(request);
    const own = read === undefined ? null : read(body.toString('latin1'));
    if (own !== null) {
      PLAIN_BODIES.add(own);
      markReadBody(own);
      done(null, own);
      return;
    }
    if (!plainJson(body)) {
      slow(request, body, done);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(body.toString('latin1'));
    } catch {
      slow(request, body, done);
      return;
    }
    if (typeof value === 'object' && value !== null) PLAIN_BODIES.add(value);
    done(null, value);
  };
}

/** Percent-decodes `text` (`+` as a space when `plusIsSpace`), or null when the bytes it names are not UTF-8. */
export function strictPercentDecode(text: string, plusIsSpace: boolean): string | null {
  try {
    return decodeURIComponent(plusIsSpace ? text.replace(/\+/g, ' ') : text);
  } catch {
    return null;
  }
}

/** Whether every `&`-separated part of a query string or form decodes to UTF-8. */
export function isUtf8Form(text: string): boolean {
  return !text.includes('%') || text.split('&').every((pair) => strictPercentDecode(pair, true) !== null);
}

export const badUrlEncoding = (where: 'path' | 'querystring'): AppError =>
  new AppError('validation_failed', `the ${where} is not valid percent-encoded UTF-8`, { errors: [{ field: where, message: 'is not valid percent-encoded UTF-8' }] });

/** Throws `validation_failed` when a percent-escape of the URL names bytes that are not UTF-8. */
export function assertUtf8Url(url: string): void {
  const at = url.indexOf('?');
  const path = at < 0 ? url : url.slice(0, at);
  const query = at < 0 ? '' : url.slice(at + 1);
  if (path.includes('%') && strictPercentDecode(path, false) === null) throw badUrlEncoding('path');
  if (!isUtf8Form(query)) throw badUrlEncoding('querystring');
}

/**
 * Checks every request: the URL's encoding first (before authentication, so nothing reads
 * a mangled path), then — after parsing, before schema validation — params, query and body.
 */
export function registerTextGuard(app: FastifyInstance): void {
  // Synchronous hooks (no promise and no turn of the microtask queue per request); a throw is the request's error.
  app.addHook('onRequest', (request, _reply, done) => {
    assertUtf8Url(request.raw.url ?? '/');
    done();
  });
  app.addHook('preValidation', (request, _reply, done) => {
    const errors = [
      ...controlCharacterErrors(request.params, 'params.'),
      ...controlCharacterErrors(request.query, 'querystring.'),
      ...controlCharacterErrors(request.body, ''),
    ];
    if (errors.length) throw new AppError('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors: errors.slice(0, MAX_ERRORS) });
    done();
  });
}
