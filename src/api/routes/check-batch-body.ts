/**
 * The body of `POST /check/batch` read straight from its text: one pass that notes where each
 * check's strings are ({@link CheckSpans}), with no JSON.parse, no object or string per
 * check, no text-guard walk and no schema validation of 100 objects. A text of printable
 * ASCII without a backslash (one regular expression finds it so) has its strings end at the
 * next quote (`indexOf`); any other is read character by character.
 *
 * It recognises exactly the bodies the general path accepts in their plainest spelling: the
 * schema's fields (`CheckBatchBody`), each at most once, strings of printable ASCII without
 * escapes and within the schema's lengths, any JSON whitespace. Anything else — an escape,
 * a character beyond ASCII, an unknown or repeated field, a wrong type, a missing field, no
 * checks or too many, text that is not JSON — is `null`, and the body takes the general path
 * (JSON.parse, the text guard, schema validation), which answers it, errors included
 * (test/api/check-batch-body.test.ts compares both paths).
 *
 * ```ts
 * readCheckBatch('{"checks":[{"identity":"i-1","permission":"p-2"}]}'); // CheckSpans, count 1
 * readCheckBatch('{"checks":[{"identity":"\\u0069-1","permission":"p-2"}]}'); // null: an escape
 * ```
 */
import { ACCESS_SPACES, CONTEXT_TYPES } from '../../domain/access.ts';
import { CheckSpans, SPAN } from '../../services/access/index.ts';
import { CheckBatchBody, CheckBody, Context } from './access-schemas.ts';

// Character codes: whitespace, then the JSON punctuation read here.
const [TAB, LF, CR, SPACE] = [0x09, 0x0a, 0x0d, 0x20];
const [QUOTE, COMMA, COLON, BACKSLASH, TILDE] = [0x22, 0x2c, 0x3a, 0x5c, 0x7e];
const [OPEN_BRACKET, CLOSE_BRACKET, OPEN_BRACE, CLOSE_BRACE] = [0x5b, 0x5d, 0x7b, 0x7d];
/** A character outside printable ASCII, or a backslash: a text without any has no string to check character by character. */
const NOT_PLAIN = /[^\x20-\x7e]|\\/;

interface Bounds {
  min: number;
  max: number;
}
const boundsOf = (s: { minLength?: number; maxLength?: number }): Bounds => ({ min: s.minLength ?? 0, max: s.maxLength ?? Number.MAX_SAFE_INTEGER });

const IDENTITY = boundsOf(CheckBody.properties.identity);
const PERMISSION = boundsOf(CheckBody.properties.permission);
const APPLICATION = boundsOf(CheckBody.properties.application);
const CONTEXT_ID = boundsOf(Context.properties.id.anyOf[0]);
const MIN_CHECKS = CheckBatchBody.properties.checks.minItems ?? 0;
const MAX_CHECKS = CheckBatchBody.properties.checks.maxItems ?? Number.MAX_SAFE_INTEGER;
/** The fewest characters a check and the comma after it take (with the shortest identity and permission). */
const SHORTEST_CHECK = '{"identity":"","permission":""},'.length + IDENTITY.min + PERMISSION.min;

/** A check's fields, one bit each (a field seen twice is not recognised). */
const [F_IDENTITY, F_PERMISSION, F_APPLICATION, F_CONTEXT, F_SPACE] = [1, 2, 4, 8, 16];

/** A position in the text, and the bounds of the last string read. */
class Reader {
  pos = 0;
  start = 0;
  end = 0;
  private readonly length: number;
  /** Printable ASCII without a backslash throughout: a string ends at the next quote, whatever it holds. */
  private readonly plain: boolean;

  constructor(readonly text: string) {
    this.length = text.length;
    this.plain = !NOT_PLAIN.test(text);
  }

  /** Skips whitespace; the next character's code, or -1 at the end. */
  next(): number {
    const { text, length } = this;
    let p = this.pos;
    while (p < length) {
      const c = text.charCodeAt(p);
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) {
        this.pos = p;
        return c;
      }
      p += 1;
    }
    this.pos = p;
    return -1;
  }

  /** Consumes `c` (after whitespace); false when something else comes. */
  take(c: number): boolean {
    if (this.next() !== c) return false;
    this.pos += 1;
    return true;
  }

  /** Reads a string of printable ASCII without escapes into `start`/`end`; false for anything else. */
  string(): boolean {
    if (this.next() !== QUOTE) return false;
    const { text, length } = this;
    const start = this.pos + 1;
    if (this.plain) {
      const end = text.indexOf('"', start);
      if (end < 0) return false;
      this.start = start;
      this.end = end;
      this.pos = end + 1;
      return true;
    }
    for (let p = start; p < length; p += 1) {
      const c = text.charCodeAt(p);
      if (c === QUOTE) {
        this.start = start;
        this.end = p;
        this.pos = p + 1;
        return true;
      }
      if (c < SPACE || c > TILDE || c === BACKSLASH) return false;
    }
    return false;
  }

  /** Reads a string within `bounds` (its length; ASCII: one character a code point). */
  value(bounds: Bounds): boolean {
    if (!this.string()) return false;
    const n = this.end - this.start;
    return n >= bounds.min && n <= bounds.max;
  }

  /** Whether the last string read is `word` (compared here: a call of `startsWith` costs more for these short words). */
  is(word: string): boolean {
    const n = word.length;
    if (this.end - this.start !== n) return false;
    const { text, start } = this;
    for (let i = 0; i < n; i += 1) if (text.charCodeAt(start + i) !== word.charCodeAt(i)) return false;
    return true;
  }

  /** Which of `words` the last string read is, or -1. */
  oneOf(words: readonly string[]): number {
    for (let i = 0; i < words.length; i += 1) if (this.is(words[i]!)) return i;
    return -1;
  }

  /** Consumes a `null` literal. */
  nullLiteral(): boolean {
    if (this.next() !== 0x6e || !this.text.startsWith('null', this.pos)) return false;
    this.pos += 4;
    return true;
  }
}

/** The field bit of the check field name just read, or 0. */
function checkField(r: Reader): number {
  switch (r.end - r.start) {
    case 8:
      return r.is('identity') ? F_IDENTITY : 0;
    case 10:
      return r.is('permission') ? F_PERMISSION : 0;
    case 11:
      return r.is('application') ? F_APPLICATION : 0;
    case 7:
      return r.is('context') ? F_CONTEXT : 0;
    case 5:
      return r.is('space') ? F_SPACE : 0;
    default:
      return 0;
  }
}

/** A string within `bounds`, its start and end into `spans` at `at`. */
function readSpan(r: Reader, bounds: Bounds, spans: Int32Array, at: number): boolean {
  if (!r.value(bounds)) return false;
  spans[at] = r.start;
  spans[at + 1] = r.end;
  return true;
}

/** `{"type": ..., "id": ...}` into the check's context numbers at `o`. */
function readContext(r: Reader, spans: Int32Array, o: number): boolean {
  if (!r.take(OPEN_BRACE)) return false;
  let type = -1;
  let id = false;
  do {
    if (!r.string()) return false;
    const isType = r.is('type');
    if (isType ? type >= 0 : !r.is('id') || id) return false;
    if (!r.take(COLON)) return false;
    if (isType) {
      if (!r.string() || (type = r.oneOf(CONTEXT_TYPES)) < 0) return false;
      spans[o + SPAN.contextType] = type;
    } else {
      id = true;
      if (r.next() !== QUOTE) {
        if (!r.nullLiteral()) return false;
        spans[o + SPAN.contextId] = -2;
      } else if (!readSpan(r, CONTEXT_ID, spans, o + SPAN.contextId)) {
        return false;
      }
    }
  } while (r.take(COMMA));
  return type >= 0 && r.take(CLOSE_BRACE);
}

/** One check object into its numbers at `o`. */
function readCheck(r: Reader, spans: Int32Array, o: number): boolean {
  if (!r.take(OPEN_BRACE)) return false;
  spans[o + SPAN.application] = -1;
  spans[o + SPAN.contextType] = -1;
  spans[o + SPAN.contextId] = -1;
  spans[o + SPAN.space] = -1;
  let seen = 0;
  do {
    if (!r.string()) return false;
    const field = checkField(r);
    if (field === 0 || (seen & field) !== 0 || !r.take(COLON)) return false;
    seen |= field;
    let read: boolean;
    if (field === F_IDENTITY) read = readSpan(r, IDENTITY, spans, o + SPAN.identity);
    else if (field === F_PERMISSION) read = readSpan(r, PERMISSION, spans, o + SPAN.permission);
    else if (field === F_APPLICATION) read = readSpan(r, APPLICATION, spans, o + SPAN.application);
    else if (field === F_CONTEXT) read = readContext(r, spans, o);
    else read = (spans[o + SPAN.space] = r.string() ? r.oneOf(ACCESS_SPACES) : -1) >= 0;
    if (!read) return false;
  } while (r.take(COMMA));
  return (seen & (F_IDENTITY | F_PERMISSION)) === (F_IDENTITY | F_PERMISSION) && r.take(CLOSE_BRACE);
}

/** The batch's checks as spans of `text`, or null when the body is not one this reader recognises exactly (see the file's comment). */
export function readCheckBatch(text: string): CheckSpans | null {
  const r = new Reader(text);
  if (!r.take(OPEN_BRACE) || !r.string() || !r.is('checks') || !r.take(COLON) || !r.take(OPEN_BRACKET)) return null;
  const room = Math.min(MAX_CHECKS, Math.floor(text.length / SHORTEST_CHECK) + 1);
  const spans = new Int32Array(room * SPAN.stride);
  let count = 0;
  if (r.next() !== CLOSE_BRACKET) {
    do {
      if (count === room || !readCheck(r, spans, count * SPAN.stride)) return null;
      count += 1;
    } while (r.take(COMMA));
  }
  if (count < MIN_CHECKS || !r.take(CLOSE_BRACKET) || !r.take(CLOSE_BRACE) || r.next() !== -1) return null;
  return new CheckSpans(text, count, spans);
}
