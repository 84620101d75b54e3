/**
 * How the client commands print answers: a table for people on a terminal, JSON on a pipe, or
 * what --output asks (json, ndjson, csv, yaml, table); --fields picks (dotted) fields, --quiet
 * prints only ids. Lists are written page by page as they arrive (`--all` streams every page),
 * with the stream's back-pressure respected. Colours only on a terminal and never with NO_COLOR.
 */
import { CliFailure, EXIT } from './exit-codes.ts';

export const FORMATS = ['table', 'json', 'ndjson', 'csv', 'yaml'] as const;
export type Format = (typeof FORMATS)[number];

export interface OutputOptions {
  output?: string;
  fields?: string;
  quiet?: boolean;
}

type Row = Record<string, unknown>;

export interface Sink {
  write(text: string): Promise<void>;
  isTTY: boolean;
}

/** stdout as a sink that waits for 'drain' when its buffer is full. */
export function streamSink(stream: NodeJS.WriteStream = process.stdout): Sink {
  return {
    isTTY: stream.isTTY === true,
    write: (text) =>
      new Promise<void>((resolve, reject) => {
        if (stream.write(text)) resolve();
        else {
          const onError = (e: Error) => reject(e);
          stream.once('error', onError);
          stream.once('drain', () => {
            stream.off('error', onError);
            resolve();
          });
        }
      }),
  };
}

export function colorsEnabled(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

export function formatOf(options: OutputOptions, isTTY: boolean): Format {
  if (options.output === undefined) return isTTY ? 'table' : 'json';
  if (!(FORMATS as readonly string[]).includes(options.output)) throw new CliFailure(`--output ${options.output}: use one of ${FORMATS.join(', ')}`, EXIT.usage);
  return options.output as Format;
}

export function parseFields(fields: string | undefined): string[] | undefined {
  if (fields === undefined) return undefined;
  const list = fields.split(',').map((f) => f.trim()).filter(Boolean);
  if (!list.length) throw new CliFailure('--fields: name at least one field, e.g. --fields id,username', EXIT.usage);
  return list;
}

/** A (dotted) field of a row; a row already picked by --fields has the dotted name as its key. */
const valueAt = (row: unknown, path: string): unknown =>
  row !== null && typeof row === 'object' && path in row
    ? (row as Row)[path]
    : path.split('.').reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Row)[key] : undefined), row);

/** The row with only the named (dotted) fields, in that order. */
export const pick = (row: Row, fields: string[]): Row => Object.fromEntries(fields.map((f) => [f, valueAt(row, f) ?? null]));

const cellText = (value: unknown): string => (value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));

/** What --quiet prints of a row: its id (or client id, key, name), else its first plain value. */
const idOf = (row: Row): string => cellText(row.id ?? row.clientId ?? row.key ?? row.name ?? Object.values(row).find((v) => v !== null && typeof v !== 'object'));

/** Columns of a table when --fields is not given: the command's own, else the first scalar fields. */
function defaultColumns(rows: Row[], preferred: readonly string[] | undefined): string[] {
  const first = rows[0] ?? {};
  if (preferred?.length) {
    const present = preferred.filter((c) => rows.some((r) => valueAt(r, c) !== undefined));
    if (present.length) return present;
  }
  return Object.keys(first)
    .filter((k) => first[k] === null || typeof first[k] !== 'object')
    .slice(0, 7);
}

export interface ListWriter {
  page(rows: Row[]): Promise<void>;
  end(): Promise<void>;
}

export class Printer {
  readonly format: Format;
  private readonly fields: string[] | undefined;
  private readonly color: boolean;

  constructor(
    private readonly sink: Sink,
    private readonly options: OutputOptions,
    private readonly columns?: readonly string[],
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.format = formatOf(options, sink.isTTY);
    this.fields = parseFields(options.fields);
    this.color = colorsEnabled(sink.isTTY, env);
  }

  private shape(row: Row): Row {
    return this.fields ? pick(row, this.fields) : row;
  }

  /** One object (get, create, update...). */
  async one(value: unknown): Promise<void> {
    if (value === undefined) return;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      await this.sink.write(`${JSON.stringify(value, null, 2)}\n`);
      return;
    }
    const row = value as Row;
    if (this.options.quiet) return this.sink.write(`${idOf(row)}\n`);
    const shaped = this.shape(row);
    switch (this.format) {
      case 'json':
        return this.sink.write(`${JSON.stringify(shaped, null, 2)}\n`);
      case 'ndjson':
        return this.sink.write(`${JSON.stringify(shaped)}\n`);
      case 'yaml': {
        const { stringify } = await import('yaml');
        return this.sink.write(stringify(shaped));
      }
      case 'csv':
        return this.csvPage([shaped], true, Object.keys(shaped));
      case 'table':
        return this.sink.write(await this.keyValueTable(shaped));
    }
  }

  /** A list written page by page. */
  list(): ListWriter {
    let count = 0;
    let columns: string[] | undefined;
    const buffered: Row[] = [];
    return {
      page: async (rows) => {
        if (this.options.quiet) {
          if (rows.length) await this.sink.write(`${rows.map(idOf).join('\n')}\n`);
          count += rows.length;
          return;
        }
        const shaped = this.fields ? rows.map((r) => pick(r, this.fields as string[])) : rows;
        switch (this.format) {
          case 'json':
            if (shaped.length) await this.sink.write(`${count === 0 ? '[\n' : ',\n'}${shaped.map((r) => `  ${JSON.stringify(r)}`).join(',\n')}`);
            break;
          case 'ndjson':
            if (shaped.length) await this.sink.write(`${shaped.map((r) => JSON.stringify(r)).join('\n')}\n`);
            break;
          case 'yaml':
            if (shaped.length) await this.sink.write((await import('yaml')).stringify(shaped));
            break;
          case 'csv':
            columns ??= this.fields ?? Object.keys(shaped[0] ?? {});
            await this.csvPage(shaped, count === 0, columns);
            break;
          case 'table':
            buffered.push(...rows);
            break;
        }
        count += rows.length;
      },
      end: async () => {
        if (this.options.quiet) return;
        if (this.format === 'json') await this.sink.write(count === 0 ? '[]\n' : '\n]\n');
        if (this.format === 'yaml' && count === 0) await this.sink.write('[]\n');
        if (this.format === 'table') await this.sink.write(await this.table(buffered));
      },
    };
  }

  private async csvPage(rows: Row[], header: boolean, columns: string[]): Promise<void> {
    if (!rows.length && !header) return;
    const { stringify } = await import('csv-stringify/sync');
    const records = rows.map((r) => columns.map((c) => cellText(valueAt(r, c))));
    await this.sink.write(stringify(header ? [columns, ...records] : records));
  }

  private async paint(): Promise<(text: string) => string> {
    if (!this.color) return (text) => text;
    const { createColors } = (await import('picocolors')).default;
    const colors = createColors(true);
    return (text) => colors.bold(colors.cyan(text));
  }

  private async table(rows: Row[]): Promise<string> {
    if (!rows.length) return '(none)\n';
    const columns = this.fields ?? defaultColumns(rows, this.columns);
    const [{ default: Table }, paint] = await Promise.all([import('cli-table3'), this.paint()]);
    const table = new Table({ head: columns.map(paint), style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 0 }, chars: PLAIN_CHARS, wordWrap: false });
    for (const row of rows) table.push(columns.map((c) => truncate(cellText(valueAt(row, c)))));
    return trimLines(table.toString());
  }

  private async keyValueTable(row: Row): Promise<string> {
    const [{ default: Table }, paint] = await Promise.all([import('cli-table3'), this.paint()]);
    const table = new Table({ style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 0 }, chars: PLAIN_CHARS });
    for (const [key, value] of Object.entries(row)) table.push([paint(key), truncate(cellText(value), 100)]);
    return trimLines(table.toString());
  }
}

const trimLines = (text: string) => `${text.split('\n').map((line) => line.trimEnd()).join('\n')}\n`;

const truncate = (text: string, max = 60) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** No borders, columns two spaces apart (as kubectl and gh print them): easy to read and to grep. */
const PLAIN_CHARS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};
