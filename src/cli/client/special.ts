/**
 * Client commands that are more than one call: `check` (exit 0 allowed, 1 denied), `imports
 * upload` (multipart, optionally followed to its end), `imports watch` (polls an import, with a
 * progress bar on stderr on a terminal) and the bulk downloads (`exports effective-permissions`,
 * `audit export`: streamed to stdout or --out, bytes and rows on stderr on a terminal).
 */
import { createWriteStream, existsSync, openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CommandContext } from '../io.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import type { ApiClient } from './http.ts';
import type { OperationSpec } from './operation-spec.ts';
import { Printer, streamSink } from './output.ts';
import type { Options } from './flags.ts';

export interface SpecialRun {
  client: ApiClient;
  spec: OperationSpec;
  /** The operation's path with the command's arguments filled in. */
  path: string;
  args: string[];
  options: Options;
  query: Record<string, string | string[]>;
  body: Record<string, unknown> | undefined;
  context: CommandContext;
  columns?: string[];
}

/** Whether progress is drawn: stderr is a terminal, and the caller did not ask for quiet. */
const showProgress = (options: Options) => process.stderr.isTTY === true && !options.quiet;

async function check(run: SpecialRun): Promise<number> {
  const result = await run.client.json<{ allowed: boolean; reason?: string }>({ method: run.spec.method, path: run.spec.path, query: run.query, body: run.body });
  if (!run.options.quiet) await new Printer(streamSink(), run.options, ['allowed', 'reason', 'revision']).one(result);
  return result.allowed ? EXIT.ok : EXIT.negative;
}

interface ImportRun {
  id: string;
  number?: number;
  status: string;
  phase: string | null;
  progress?: { rowsRead: number; rowsTotal: number | null; bytesRead: number; bytesTotal: number | null };
  files?: unknown[];
  error?: unknown;
  heldReason?: string | null;
}

const FINAL = new Set(['Finished', 'Failed', 'Canceled', 'Held']);
const GOOD = new Set(['Finished']);

/** Polls the import until it ends; a bar on stderr on a terminal. Exit 0 Finished, 1 otherwise. */
async function watchImport(run: SpecialRun, id: string): Promise<number> {
  const interval = Number(run.options.interval ?? 1);
  if (!Number.isFinite(interval) || interval <= 0) throw new CliFailure('--interval: give seconds, e.g. 0.5', EXIT.usage);
  const path = `/api/v1/imports/${encodeURIComponent(id)}`;
  let bar: import('cli-progress').SingleBar | undefined;
  if (showProgress(run.options)) {
    const { default: progress } = await import('cli-progress');
    bar = new progress.SingleBar(
      { format: 'import {number} {status} {phase} [{bar}] {value}/{total} rows, {files} files', hideCursor: true, clearOnComplete: false, stream: process.stderr },
      progress.Presets.shades_classic,
    );
    bar.start(0, 0, { number: '', status: 'Pending', phase: '', files: 0 });
  }
  let current: ImportRun;
  try {
    for (;;) {
      current = await run.client.json<ImportRun>({ method: 'GET', path });
      if (bar) {
        const total = current.progress?.rowsTotal ?? current.progress?.rowsRead ?? 0;
        bar.setTotal(Math.max(total, current.progress?.rowsRead ?? 0));
        bar.update(current.progress?.rowsRead ?? 0, { number: current.number !== undefined ? `#${current.number}` : current.id, status: current.status, phase: current.phase ?? '', files: current.files?.length ?? 0 });
      }
      if (FINAL.has(current.status)) break;
      await new Promise((resolve) => setTimeout(resolve, interval * 1000));
    }
  } finally {
    bar?.stop();
  }
  await new Printer(streamSink(), run.options, run.columns).one(current);
  if (GOOD.has(current.status)) return EXIT.ok;
  const why = current.status === 'Held' ? `held for approval${current.heldReason ? `: ${current.heldReason}` : ''} (grantory imports approve ${current.id})` : (typeof current.error === 'string' ? current.error : current.error ? JSON.stringify(current.error) : current.status.toLowerCase());
  run.context.io.err(`grantory: import ${current.number !== undefined ? `#${current.number}` : current.id} ${current.status}: ${why}`);
  return EXIT.negative;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `--file GROUP=PATH`: the group by id, or by name through the application's connector. */
async function fileParts(run: SpecialRun, applicationId: string): Promise<[string, string][]> {
  const files = (run.options.file as string[] | undefined) ?? [];
  if (!files.length) throw new CliFailure('name at least one --file FILE-GROUP=PATH', EXIT.usage);
  const pairs = files.map((entry) => {
    const at = entry.indexOf('=');
    if (at < 1) throw new CliFailure(`--file ${entry}: give FILE-GROUP=PATH (the group's id or name)`, EXIT.usage);
    const path = entry.slice(at + 1);
    if (!existsSync(path)) throw new CliFailure(`--file ${entry}: ${path} does not exist`, EXIT.usage);
    return [entry.slice(0, at), path] as [string, string];
  });
  if (pairs.every(([group]) => GUID.test(group))) return pairs;
  const { connector } = await run.client.json<{ connector: { fileGroups?: { id?: string; name: string }[] } | null }>({ method: 'GET', path: `/api/v1/applications/${encodeURIComponent(applicationId)}/connector` });
  const groups = connector?.fileGroups ?? [];
  return pairs.map(([group, path]) => {
    if (GUID.test(group)) return [group, path];
    const found = groups.find((g) => g.name === group);
    if (!found?.id) throw new CliFailure(`--file ${group}=${path}: the application's connector has no file group "${group}"`, EXIT.usage, [groups.length ? `file groups: ${groups.map((g) => g.name).join(', ')}` : 'the application has no file connector (grantory api PUT applications/ID/connector)']);
    return [found.id, path];
  });
}

/** 512 B, 3.4 KiB, 12.0 MiB, 1.2 GiB. */
function byteSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A bar of the bytes sent on stderr (the files' sizes are the total; the multipart framing is a few hundred bytes more). */
async function uploadBar(size: number): Promise<{ sent: (bytes: number) => void; stop: () => void }> {
  const { default: progress } = await import('cli-progress');
  const bar = new progress.SingleBar(
    { format: 'upload [{bar}] {percentage}% {done} of {size}', hideCursor: true, clearOnComplete: false, stream: process.stderr },
    progress.Presets.shades_classic,
  );
  const total = Math.max(size, 1);
  bar.start(total, 0, { done: byteSize(0), size: byteSize(size) });
  return {
    sent: (bytes) => bar.update(Math.min(bytes, total), { done: byteSize(Math.min(bytes, size)) }),
    stop: () => bar.stop(),
  };
}

async function upload(run: SpecialRun): Promise<number> {
  const applicationId = run.query.applicationId;
  if (typeof applicationId !== 'string') throw new CliFailure('missing --application-id', EXIT.usage);
  const form = new FormData();
  form.append('applicationId', applicationId);
  let size = 0;
  for (const [group, path] of await fileParts(run, applicationId)) {
    const blob = await openAsBlob(path);
    size += blob.size;
    form.append(group, blob, basename(path));
  }
  const bar = showProgress(run.options) ? await uploadBar(size) : undefined;
  let created: ImportRun;
  try {
    created = await run.client.json<ImportRun>({ method: 'POST', path: run.spec.path, query: run.query, rawBody: form, onSent: bar?.sent });
  } finally {
    bar?.stop();
  }
  if (run.options.watch) return watchImport(run, created.id);
  await new Printer(streamSink(), run.options, run.columns).one(created);
  return EXIT.ok;
}

const ACCEPT: Record<string, string> = { ndjson: 'application/x-ndjson', csv: 'text/csv', json: 'application/json', pdf: 'application/pdf' };

/** Streams the answer to stdout or --out; bytes and rows (lines) on stderr on a terminal. */
async function download(run: SpecialRun): Promise<number> {
  const format = typeof run.query.format === 'string' ? run.query.format : undefined;
  const accept = (format && ACCEPT[format]) ?? run.spec.response.mediaTypes[0] ?? '*/*';
  const response = await run.client.request({ method: run.spec.method, path: run.path, query: run.query, accept });
  if (!response.body) return EXIT.ok;
  const out = typeof run.options.out === 'string' && run.options.out !== '-' ? createWriteStream(run.options.out) : process.stdout;
  const source = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  let bytes = 0;
  let rows = 0;
  let lastDrawn = 0;
  const draw = showProgress(run.options)
    ? (done: boolean) => {
        const now = Date.now();
        if (!done && now - lastDrawn < 100) return;
        lastDrawn = now;
        process.stderr.write(`\r${rows.toLocaleString('en')} rows, ${byteSize(bytes)}${done ? '\n' : ''}`);
      }
    : undefined;
  source.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
    draw?.(false);
  });
  await pipeline(source, out, { end: out !== process.stdout });
  draw?.(true);
  return EXIT.ok;
}

export async function runSpecial(kind: 'check' | 'upload' | 'watch' | 'download', run: SpecialRun): Promise<number> {
  switch (kind) {
    case 'check':
      return check(run);
    case 'upload':
      return upload(run);
    case 'watch':
      return watchImport(run, run.args[0] ?? '');
    case 'download':
      return download(run);
  }
}
