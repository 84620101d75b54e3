/**
 * Streamed export formats: NDJSON (one JSON object a line), CSV (RFC 4180, formula-safe;
 * written by csv-stringify)
 * and JSON (one array, or an object with a streamed array member). Rows are rendered as
 * they arrive and sent in chunks, so an export of any size starts at once and runs in
 * constant memory.
 *
 * ```ts
 * const chunks = renderExport(rows, 'csv', { columns: [{ name: 'id', value: (r) => r.id }], toJson: (r) => r });
 * reply.type(EXPORT_CONTENT_TYPES.csv).send(Readable.from(chunks));
 * ```
 */

import { stringify, type Options as StringifyOptions } from 'csv-stringify/sync';

export const EXPORT_FORMATS = ['ndjson', 'csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

export type CellValue = string | number | boolean | null | undefined;

export interface Column<T> {
  name: string;
  value: (row: T) => CellValue;
}

/**
 * Characters a spreadsheet may read as the start of a formula (OWASP "CSV Injection"):
 * `=`, `+`, `-`, `@`, `|` (DDE), TAB and CR, with their fullwidth and small forms, which
 * some spreadsheets fold to ASCII.
 */
const FORMULA_START = '=+\\-@|\\t\\r\\uFF1D\\uFF0B\\uFF0D\\uFF20\\uFF5C\\uFE66\\uFE62\\uFE63\\uFE6B\\u2212';
/** What a spreadsheet skips before a formula: white space, control and invisible format characters. */
const SKIPPED = '\\s\\p{Cc}\\p{Cf}';
/** Field separators of the common spreadsheet locales. */
const SEPARATORS = ',;\\t|';

const FORMULA = new RegExp(`(^|[${SEPARATORS}])[${SKIPPED}]*[${FORMULA_START}]`, 'u');

/**
 * csv-stringify: CRLF records; besides `,`, quotes and line breaks, cells holding another
 * locale's separator are quoted too, so that a reader that splits on `;` or TAB still sees
 * one cell; booleans and numbers as written.
 */
const CSV_OPTIONS: StringifyOptions = {
  record_delimiter: '\r\n',
  quoted_match: /[;\t|\r\n]/,
  cast: { boolean: (value) => String(value), number: (value) => String(value) },
};

/** A text that a spreadsheet could read as a formula gets a leading apostrophe (numbers are kept). */
function defuse(value: CellValue): CellValue {
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return value;
  return FORMULA.test(value) ? `'${value}` : value;
}

/** CSV records (each with its CRLF) of rows of cells. */
export function csvRecords(rows: readonly (readonly CellValue[])[]): string {
  return rows.length ? stringify(rows.map((cells) => cells.map(defuse)), CSV_OPTIONS) : '';
}

/**
 * One CSV cell. A text that a spreadsheet could read as a formula — one that starts with a
 * formula character after white space or invisible characters, or that has one after a
 * field separator of any locale (`,` `;` TAB `|`) — gets a leading apostrophe. Cells with a
 * quote, separator or line break are quoted, quotes doubled. Numbers are written as they
 * are (`-5` stays a number): they come from the server's own numeric fields, never from text.
 */
export function csvCell(value: CellValue): string {
  return csvRecords([[value]]).slice(0, -2);
}

export function csvLine(cells: readonly CellValue[]): string {
  return csvRecords([cells]);
}

/** Picks the format from `format` (wins) or the Accept header; `null` when neither names a known one. */
export function negotiateExportFormat(format: string | undefined, accept: string | undefined, allowed: readonly ExportFormat[] = EXPORT_FORMATS): ExportFormat | null {
  if (format) return (allowed as readonly string[]).includes(format) ? (format as ExportFormat) : null;
  if (!accept || /(^|,)\s*\*\/\*/.test(accept)) return allowed[0] ?? null;
  for (const part of accept.split(',')) {
    const type = part.split(';')[0]!.trim().toLowerCase();
    const picked: ExportFormat | null =
      type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl'
        ? 'ndjson'
        : type === 'text/csv'
          ? 'csv'
          : type === 'application/json'
            ? 'json'
            : null;
    if (picked && allowed.includes(picked)) return picked;
  }
  return null;
}

export interface RenderOptions<T> {
  /** CSV columns (required for CSV). */
  columns?: readonly Column<T>[];
  /** The JSON form of a row (NDJSON line, JSON array element). */
  toJson: (row: T) => unknown;
  /**
   * JSON only: wrap the array as member `arrayKey` of an object, with `head` members before
   * it and the members `tail()` returns (read after the last row) after it.
   */
  envelope?: { arrayKey: string; head?: Record<string, unknown>; tail?: () => Promise<Record<string, unknown>> };
  /** NDJSON only: lines appended after the rows. */
  ndjsonTail?: () => AsyncIterable<unknown>;
}

const CHUNK = 64 * 1024;

/**
 * After each chunk: let the event loop run (socket writes, other requests) before rendering
 * more. Without it, rows that are ready in memory render in one long run of microtasks, the
 * first bytes wait in the socket until it ends, and other requests wait with them.
 */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Renders rows in `format`, yielding chunks of about 64 KiB. */
export function renderExport<T>(rows: AsyncIterable<T>, format: ExportFormat, options: RenderOptions<T>): AsyncGenerator<string> {
  return renderExportBatches(oneByOne(rows), format, options);
}

async function* oneByOne<T>(rows: AsyncIterable<T>): AsyncGenerator<readonly T[]> {
  for await (const row of rows) yield [row];
}

/**
 * {@link renderExport} for rows that arrive in batches (e.g. one identity's rows at a time):
 * the same output, one asynchronous step per batch instead of per row.
 */
export async function* renderExportBatches<T>(batches: AsyncIterable<readonly T[]>, format: ExportFormat, options: RenderOptions<T>): AsyncGenerator<string> {
  let buffer = '';
  if (format === 'csv') {
    const columns = options.columns ?? [];
    buffer += csvLine(columns.map((c) => c.name));
    for await (const batch of batches) {
      buffer += csvRecords(batch.map((row) => columns.map((c) => c.value(row))));
      if (buffer.length >= CHUNK) {
        yield buffer;
        buffer = '';
        await breathe();
      }
    }
  } else if (format === 'ndjson') {
    for await (const batch of batches) {
      for (const row of batch) buffer += `${JSON.stringify(options.toJson(row))}\n`;
      if (buffer.length >= CHUNK) {
        yield buffer;
        buffer = '';
        await breathe();
      }
    }
    if (options.ndjsonTail) for await (const line of options.ndjsonTail()) buffer += `${JSON.stringify(line)}\n`;
  } else {
    const envelope = options.envelope;
    if (envelope) {
      const head = Object.entries(envelope.head ?? {}).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)},`).join('');
      buffer += `{${head}${JSON.stringify(envelope.arrayKey)}:[`;
    } else {
      buffer += '[';
    }
    let first = true;
    for await (const batch of batches) {
      for (const row of batch) {
        buffer += `${first ? '' : ','}\n${JSON.stringify(options.toJson(row))}`;
        first = false;
      }
      if (buffer.length >= CHUNK) {
        yield buffer;
        buffer = '';
        await breathe();
      }
    }
    buffer += first ? ']' : '\n]';
    if (envelope) {
      const tail = envelope.tail ? await envelope.tail() : {};
      buffer += `${Object.entries(tail).map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v)}`).join('')}}`;
    }
    buffer += '\n';
  }
  if (buffer) yield buffer;
}
