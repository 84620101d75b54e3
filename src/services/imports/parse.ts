/**
 * Streaming reader of one import file: rows come out one at a time, so memory does not
 * grow with the file. The encoding is taken from a byte-order mark (UTF-8, UTF-16 LE/BE),
 * else detected for BOM-less UTF-16, else the file group's setting. CSV goes through
 * csv-parse; JSON lines through a line reader. Problems are reported with the file name
 * and line number: a bad row is yielded as a {@link RowProblem} (the caller keeps the
 * bad-row budget); a problem that makes the file unreadable (a missing or duplicate
 * header, an unclosed quote, bytes that are not in the encoding) throws {@link FileProblem}.
 * Cell values are kept verbatim apart from surrounding whitespace: a value starting with
 * `=`, `+`, `-` or `@` is data here (exports escape it).
 *
 * ```ts
 * for await (const item of readImportFile({ path, name: 'grants.csv', group, onBytes })) {
 *   if (item.kind === 'problem') budget -= 1; else use(item.values);
 * }
 * ```
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { TextDecoder } from 'node:util';
import { Parser as CsvParser, type CsvError, type Options as CsvOptions } from 'csv-parse';
import type { ColumnMapping, Encoding, FileGroup } from '../../domain/connector.ts';
import { textProblem } from '../../domain/text.ts';

export type Column = keyof ColumnMapping;
export type RowValues = Partial<Record<Column, string>>;

export interface Row {
  kind: 'row';
  line: number;
  values: RowValues;
}

export interface RowProblem {
  kind: 'problem';
  file: string;
  line: number;
  message: string;
}

export class FileProblem extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}, line ${line}: ${message}`);
  }
}

type Detected = 'utf-8' | 'utf-16le' | 'utf-16be' | 'latin1';

/** Looks at the first bytes: a BOM decides; else NUL bytes at odd/even places reveal UTF-16. */
export function detectEncoding(head: Buffer, configured: Encoding): { encoding: Detected; bomLength: number } {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bomLength: 3 };
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2 };
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', bomLength: 2 };
  const sample = head.subarray(0, Math.min(head.length, 256) & ~1);
  if (sample.length >= 4 && configured !== 'latin1') {
    let evenZeros = 0;
    let oddZeros = 0;
    for (let i = 0; i < sample.length; i += 1) {
      if (sample[i] !== 0) continue;
      if (i % 2 === 0) evenZeros += 1;
      else oddZeros += 1;
    }
    const half = sample.length / 2;
    if (oddZeros > half * 0.3 && evenZeros === 0) return { encoding: 'utf-16le', bomLength: 0 };
    if (evenZeros > half * 0.3 && oddZeros === 0) return { encoding: 'utf-16be', bomLength: 0 };
  }
  return { encoding: configured, bomLength: 0 };
}

/** Bytes in, text out: strips the BOM, decodes (strictly) and counts bytes read. */
class Decoder extends Transform {
  private head: Buffer | null = Buffer.alloc(0);
  private decoder: TextDecoder | null = null;
  private swapCarry: Buffer | null = null;
  private bigEndian = false;

  constructor(
    private readonly configured: Encoding,
    private readonly file: string,
    private readonly onBytes: ((n: number) => void) | undefined,
  ) {
    super({ readableObjectMode: false, decodeStrings: true, encoding: 'utf8' });
  }

  private start(head: Buffer): Buffer {
    const { encoding, bomLength } = detectEncoding(head, this.configured);
    this.bigEndian = encoding === 'utf-16be';
    this.decoder = new TextDecoder(encoding === 'utf-16be' ? 'utf-16le' : encoding === 'latin1' ? 'latin1' : encoding, { fatal: true });
    return head.subarray(bomLength);
  }

  /** UTF-16 BE is decoded as LE after swapping byte pairs (the decoder's BE support depends on ICU). */
  private swap(chunk: Buffer): Buffer {
    let bytes = this.swapCarry ? Buffer.concat([this.swapCarry, chunk]) : chunk;
    this.swapCarry = null;
    if (bytes.length % 2 === 1) {
      this.swapCarry = bytes.subarray(bytes.length - 1);
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    const copy = Buffer.from(bytes);
    return copy.swap16();
  }

  private decode(bytes: Buffer, final: boolean): string {
    try {
      const input = this.bigEndian ? this.swap(bytes) : bytes;
      return this.decoder!.decode(input, { stream: !final });
    } catch {
      throw new FileProblem(this.file, 0, 'the file contains bytes that are not valid in its encoding');
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.onBytes?.(chunk.length);
    try {
      if (this.head) {
        const head: Buffer = Buffer.concat([this.head, chunk]);
        if (head.length < 256) {
          this.head = head;
          return done();
        }
        this.head = null;
        return done(null, this.decode(this.start(head), false));
      }
      done(null, this.decode(chunk, false));
    } catch (e) {
      done(e as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      let text = '';
      if (this.head) {
        const head = this.head;
        this.head = null;
        text += this.decode(this.start(head), false);
      }
      text += this.decode(Buffer.alloc(0), true);
      if (this.swapCarry) throw new FileProblem(this.file, 0, 'the UTF-16 file ends in the middle of a character');
      done(null, text);
    } catch (e) {
      done(e as Error);
    }
  }
}

const COLUMNS: readonly Column[] = ['accountName', 'accountStatus', 'employeeNumber', 'email', 'username', 'subject', 'permission', 'context'];

export interface ReadOptions {
  path: string;
  /** The name reported in problems (e.g. `grants.csv`). */
  name: string;
  group: FileGroup;
  onBytes?: (n: number) => void;
}

function clean(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** A row whose values the store could not keep (a control character, say) is a bad row. */
function badValue(values: RowValues, group: FileGroup): string | null {
  for (const [column, value] of Object.entries(values) as [Column, string][]) {
    const problem = textProblem(value, false);
    if (problem) return `the ${column} ("${group.columns[column] ?? column}") value ${problem}`;
  }
  return null;
}

/** Rows and problems of one file, in batches (a batch per chunk of input, not per row: cheaper to stream). */
export async function* readImportBatches(options: ReadOptions): AsyncGenerator<(Row | RowProblem)[]> {
  const source = createReadStream(options.path, { highWaterMark: 256 * 1024 });
  const decoder = new Decoder(options.group.encoding, options.name, options.onBytes);
  const text = source.pipe(decoder);
  source.on('error', (e) => decoder.destroy(e));
  try {
    if (options.group.format === 'jsonl') yield* readJsonLines(text, options);
    else yield* readCsv(text, options);
  } finally {
    source.destroy();
    decoder.destroy();
  }
}

/** Rows and problems of one file, one at a time. */
export async function* readImportFile(options: ReadOptions): AsyncGenerator<Row | RowProblem> {
  for await (const batch of readImportBatches(options)) yield* batch;
}

/** Reads an object-mode stream in batches of what is buffered, instead of one await per object. */
async function* objectBatches<T>(stream: Readable, max = 2000): AsyncGenerator<T[]> {
  const state: { done: boolean; failure: Error | null; wake: (() => void) | null } = { done: false, failure: null, wake: null };
  const notify = () => {
    const wake = state.wake;
    state.wake = null;
    wake?.();
  };
  stream.on('readable', notify);
  stream.on('end', () => {
    state.done = true;
    notify();
  });
  stream.on('error', (e: Error) => {
    state.failure = e;
    notify();
  });
  for (;;) {
    if (state.failure) throw state.failure;
    const batch: T[] = [];
    let item: T | null;
    while (batch.length < max && (item = stream.read() as T | null) !== null) batch.push(item);
    if (batch.length) {
      yield batch;
      continue;
    }
    if (state.done) return;
    await new Promise<void>((resolveWait) => {
      state.wake = resolveWait;
    });
  }
}

interface LinedRecord {
  record: string[];
  line: number;
}

/**
 * csv-parse tagging each record with the line it ends on. Its `info: true` builds an info
 * object per record and doubles the parsing cost; the parser's running line count, read as
 * each record is pushed, is the same number for free.
 */
class LineTaggingParser extends CsvParser {
  constructor(options: CsvOptions) {
    super(options);
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) return super.push(null, encoding);
    return super.push({ record: chunk as string[], line: this.info.lines } satisfies LinedRecord, encoding);
  }
}

async function* readCsv(text: Transform, options: ReadOptions): AsyncGenerator<(Row | RowProblem)[]> {
  const { name, group } = options;
  const skipped: RowProblem[] = [];
  // Ragged rows are reported by csv-parse itself (a skip with the line), so good rows cost nothing extra.
  const parser = new LineTaggingParser({
    delimiter: group.delimiter,
    relax_column_count: false,
    skip_empty_lines: true,
    skip_records_with_error: true,
  });
  let fatal: FileProblem | null = null;
  parser.on('skip', (err: CsvError & { lines?: number }) => {
    // An unclosed quote swallows the rest of the file: the file cannot be read, not just a row.
    if (err.code === 'CSV_QUOTE_NOT_CLOSED') fatal ??= new FileProblem(name, err.lines ?? 0, 'a quote opened here is never closed');
    else if (err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
      // csv-parse says "Invalid Record Length: expect 4, got 2 on line 3"; the first record (the header) set the expectation.
      const counts = /expect (\d+), got (\d+)/.exec(err.message);
      const message = counts ? `the row has ${counts[2]} fields, the header has ${counts[1]}` : 'the row has a different number of fields than the header';
      skipped.push({ kind: 'problem', file: name, line: err.lines ?? 0, message });
    } else skipped.push({ kind: 'problem', file: name, line: err.lines ?? 0, message: err.message.replace(/\s*at line \d+/, '') });
  });
  text.on('error', (e) => parser.destroy(e));
  text.pipe(parser);

  let header: string[] | null = null;
  let positions: [Column, number][] = [];
  try {
    for await (const records of objectBatches<LinedRecord>(parser)) {
      if (fatal) throw fatal;
      const out: (Row | RowProblem)[] = skipped.splice(0, skipped.length);
      for (const { record, line } of records) {
        if (!header) {
          header = record.map((h) => h.trim());
          const seen = new Set<string>();
          for (const h of header) {
            if (seen.has(h)) throw new FileProblem(name, line, `duplicate header "${h}"`);
            seen.add(h);
          }
          const missing: string[] = [];
          positions = [];
          for (const column of COLUMNS) {
            const mapped = group.columns[column];
            if (mapped === undefined) continue;
            const at = header.indexOf(mapped);
            if (at < 0) missing.push(`"${mapped}" (${column})`);
            else positions.push([column, at]);
          }
          if (missing.length) throw new FileProblem(name, line, `missing required header ${missing.join(', ')}`);
          continue;
        }
        if (record.length !== header.length) {
          out.push({ kind: 'problem', file: name, line, message: `the row has ${record.length} fields, the header has ${header.length}` });
          continue;
        }
        const values: RowValues = {};
        for (const [column, at] of positions) {
          const v = clean(record[at]);
          if (v !== undefined) values[column] = v;
        }
        if (!values.accountName) {
          out.push({ kind: 'problem', file: name, line, message: `the account name ("${group.columns.accountName}") is empty` });
          continue;
        }
        const bad = badValue(values, group);
        out.push(bad ? { kind: 'problem', file: name, line, message: bad } : { kind: 'row', line, values });
      }
      if (out.length) yield out;
    }
  } catch (e) {
    if (e instanceof FileProblem) throw e;
    const err = e as CsvError & { lines?: number };
    if (err.code === 'CSV_QUOTE_NOT_CLOSED') throw new FileProblem(name, err.lines ?? 0, 'a quote opened here is never closed');
    if (err.code) throw new FileProblem(name, err.lines ?? 0, err.message);
    throw e;
  }
  if (fatal) throw fatal;
  if (skipped.length) yield skipped.splice(0, skipped.length);
  if (!header) throw new FileProblem(name, 1, 'the file is empty (no header row)');
}

async function* readJsonLines(text: Transform, options: ReadOptions): AsyncGenerator<(Row | RowProblem)[]> {
  const { name, group } = options;
  const lines = createInterface({ input: text, crlfDelay: Infinity });
  let line = 0;
  let out: (Row | RowProblem)[] = [];
  for await (const raw of lines) {
    line += 1;
    if (out.length >= 1000) {
      yield out;
      out = [];
    }
    if (raw.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      out.push({ kind: 'problem', file: name, line, message: 'the line is not valid JSON' });
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      out.push({ kind: 'problem', file: name, line, message: 'the line is not a JSON object' });
      continue;
    }
    const obj = parsed as Record<string, unknown>;
    const values: RowValues = {};
    for (const column of COLUMNS) {
      const key = group.columns[column];
      if (key === undefined || !Object.prototype.hasOwnProperty.call(obj, key)) continue;
      const v = clean(obj[key]);
      if (v !== undefined) values[column] = v;
    }
    if (!values.accountName) {
      out.push({ kind: 'problem', file: name, line, message: `the account name ("${group.columns.accountName}") is missing or empty` });
      continue;
    }
    const bad = badValue(values, group);
    out.push(bad ? { kind: 'problem', file: name, line, message: bad } : { kind: 'row', line, values });
  }
  if (out.length) yield out;
}
