/**
 * Import use cases: configure an application's connector, stage an import from the import
 * directory, receive an uploaded one, cancel, approve or reject a held one, and read
 * imports and their diffs. Processing happens in the background worker (src/jobs); these
 * functions create and change import records, each in one audited write.
 *
 * ```ts
 * const { value } = await stageImport(deps, actor, { applicationId }, 'API'); // status Pending
 * await cancelImport(deps, actor, value.id);                                  // status Canceling
 * ```
 */
import { writeAs, requireRight, type Actor, openPager, type Page } from '../kernel/index.ts';
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { connectorDocument, storedConnector, validatedConnectorDocument, type Connector, type ConnectorInput } from '../../domain/connector.ts';
import { AppError, notFound } from '../../domain/errors.ts';
import type { Database } from '../../store/schema.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import type { ImportSettings, ServiceDeps } from '../deps.ts';
import { signalCancel } from './cancel.ts';
import { findFiles, importRoot, PathEscapeError, resolveApplicationFolder, type ApplicationFolder } from './import-dir.ts';
import {
  appendLog,
  FINAL_STATUSES,
  toChangeView,
  toImportView,
  type ImportChangeView,
  type ImportFile,
  type ImportStatus,
  type ImportType,
  type ImportView,
} from './views.ts';

export const DEFAULT_IMPORT_SETTINGS: ImportSettings = { importDir: './data/imports', uploadLimit: 1024 * 1024 * 1024 };

export const importSettings = (deps: ServiceDeps): ImportSettings => deps.imports ?? DEFAULT_IMPORT_SETTINGS;

/** Where uploaded files wait for their import: a hidden folder of the import directory (shared by nodes). */
export async function uploadFolder(settings: ImportSettings, importId: string): Promise<string> {
  return join(await importRoot(settings.importDir), '.uploads', importId);
}

type ApplicationRow = Database['applications'];

export async function findApplication(scope: TenantDb, id: string): Promise<ApplicationRow | undefined> {
  return scope.db.selectFrom('applications').selectAll().where('tenant_id', '=', scope.tenantId).where('id', '=', id).executeTakeFirst();
}

async function requireApplication(scope: TenantDb, id: string, field = 'applicationId'): Promise<ApplicationRow> {
  const app = await findApplication(scope, id);
  if (!app) throw new AppError('not_found', `application ${id} does not exist`, { errors: [{ field, message: 'no such application' }] });
  return app;
}

/** The application's connector, or a 400 naming the field when it cannot be imported into. */
function importableConnector(app: ApplicationRow, field = 'applicationId'): Connector {
  if (app.archived === 1) {
    throw new AppError('validation_failed', `application ${app.name} is archived; imports are refused`, {
      errors: [{ field, message: 'the application is archived' }],
    });
  }
  const connector = storedConnector(app.connector);
  if (!connector) {
    throw new AppError('validation_failed', `application ${app.name} has no connector configuration`, {
      errors: [{ field, message: 'the application has no connector configuration' }],
    });
  }
  return connector;
}

export const folderNameOf = (app: { id: string }, connector: Connector): string => connector.directory ?? app.id;

// ---------------------------------------------------------------- connector

export async function getConnector(deps: ServiceDeps, actor: Actor, applicationId: string): Promise<ConnectorInput | null> {
  requireRight(actor, 'manage-imports', 'manage-applications');
  const app = await requireApplication(deps.store.read(actor.caller.tenantId), applicationId, 'id');
  const connector = storedConnector(app.connector);
  return connector ? connectorDocument(connector) : null;
}

export async function setConnector(
  deps: ServiceDeps,
  actor: Actor,
  applicationId: string,
  input: unknown,
): Promise<{ value: ConnectorInput; revision: number }> {
  requireRight(actor, 'manage-imports', 'manage-applications');
  const doc = validatedConnectorDocument(input);
  return writeAs(deps, actor, async (tx) => {
    const app = await requireApplication(tx, applicationId, 'id');
    if (app.builtin === 1) throw new AppError('validation_failed', 'the built-in application has no connector', { errors: [{ field: 'id', message: 'is built in' }] });
    const text = JSON.stringify(doc);
    await tx.db
      .updateTable('applications')
      .set({ connector: text, updated_at: tx.now, version: app.version + 1 })
      .where('tenant_id', '=', tx.tenantId)
      .where('id', '=', app.id)
      .execute();
    tx.audit({
      action: 'application.connector.update',
      targetType: 'application',
      targetId: app.id,
      before: app.connector ? (JSON.parse(app.connector) as unknown) : null,
      after: doc,
    });
    tx.change('application', app.id, 'update');
    return doc;
  });
}

// ---------------------------------------------------------------- creating imports

/** A new import row: Pending, not started, with `given` (what differs between a stage, an upload and a schedule). */
export function newImportRow(
  tx: WriteTx,
  number: number,
  given: Pick<Database['imports'], 'id' | 'application_id' | 'type' | 'source' | 'dry_run' | 'created_by' | 'created_by_id' | 'scheduled_for' | 'files' | 'log' | 'bytes_total'> &
    Partial<Pick<Database['imports'], 'status' | 'build_end' | 'error'>>,
): Database['imports'] {
  return {
    tenant_id: tx.tenantId,
    number,
    status: 'Pending',
    phase: null,
    build_start: null,
    build_end: null,
    heartbeat_at: null,
    metrics: null,
    rows_read: 0,
    rows_total: null,
    bytes_read: 0,
    error: null,
    held_reason: null,
    base_state: null,
    decided_by: null,
    decided_at: null,
    created_at: tx.now,
    updated_at: tx.now,
    version: 1,
    ...given,
  };
}

async function insertImport(
  tx: WriteTx,
  actor: Actor,
  fields: { id?: string; applicationId: string; type: ImportType; source: 'stage' | 'upload'; dryRun: boolean; files: ImportFile[]; scheduledFor?: string | null },
): Promise<Database['imports']> {
  const row = newImportRow(tx, await tx.nextNumber('imports'), {
    id: fields.id ?? randomUUID(),
    application_id: fields.applicationId,
    type: fields.type,
    source: fields.source,
    dry_run: fields.dryRun ? 1 : 0,
    created_by: actor.caller.name,
    created_by_id: actor.caller.kind === 'system' ? null : actor.caller.id,
    scheduled_for: fields.scheduledFor ?? null,
    files: JSON.stringify(fields.files),
    log: JSON.stringify([{ time: tx.now, level: 'info', message: `queued by ${actor.caller.name}${fields.dryRun ? ' (dry run)' : ''}` }]),
    bytes_total: fields.files.reduce((n, f) => n + f.size, 0),
  });
  await tx.db.insertInto('imports').values(row).execute();
  const view = toImportView(row);
  tx.audit({
    action: fields.source === 'upload' ? 'import.upload' : 'import.stage',
    targetType: 'import',
    targetId: row.id,
    after: { number: view.number, applicationId: view.applicationId, type: view.type, dryRun: view.dryRun, files: view.files },
  });
  tx.change('import', row.id, 'create');
  return row;
}

/** Records a refused path in the audit trail (its own write: the refusal itself fails the request). */
export async function auditPathRefusal(deps: ServiceDeps, actor: Actor, applicationId: string, error: PathEscapeError): Promise<void> {
  await writeAs(deps, actor, async (tx) => {
    tx.audit({ action: 'import.path_refused', targetType: 'application', targetId: applicationId, after: { path: error.attempted, reason: error.message } });
  });
}

/** Lists the application's staged files per file group; refuses escapes (audited) and missing required files. */
export async function stagedFiles(
  deps: ServiceDeps,
  actor: Actor,
  app: ApplicationRow,
  connector: Connector,
): Promise<{ folder: ApplicationFolder; files: ImportFile[] }> {
  const settings = importSettings(deps);
  try {
    const folder = await resolveApplicationFolder(settings.importDir, folderNameOf(app, connector));
    const files: ImportFile[] = [];
    const missing: { field: string; message: string }[] = [];
    for (const group of connector.fileGroups) {
      const found = await findFiles(folder, group.pattern);
      if (!found.length && group.required) missing.push({ field: `fileGroups.${group.id}`, message: `no file in ${folder.name}/ matches "${group.pattern}" (${group.name})` });
      for (const f of found) files.push({ id: randomUUID(), fileGroupId: group.id, fileGroup: group.name, name: f.name, size: f.size });
    }
    if (missing.length) {
      throw new AppError('unprocessable', `required files are missing: ${missing.map((m) => m.message).join('; ')}`, { errors: missing });
    }
    return { folder, files };
  } catch (e) {
    if (e instanceof PathEscapeError) {
      await auditPathRefusal(deps, actor, app.id, e);
      throw new AppError('validation_failed', `${e.message}; paths must stay inside the import directory`, {
        errors: [{ field: 'connector.directory', message: e.message }],
      });
    }
    throw e;
  }
}

export interface StageInput {
  applicationId: string;
  dryRun?: boolean | undefined;
}

export async function stageImport(deps: ServiceDeps, actor: Actor, input: StageInput, type: ImportType): Promise<{ value: ImportView; revision: number }> {
  requireRight(actor, 'manage-imports');
  const scope = deps.store.read(actor.caller.tenantId);
  const app = await requireApplication(scope, input.applicationId);
  const connector = importableConnector(app);
  const { files } = await stagedFiles(deps, actor, app, connector);
  const result = await writeAs(deps, actor, async (tx) => {
    const row = await insertImport(tx, actor, { applicationId: app.id, type, source: 'stage', dryRun: input.dryRun === true, files });
    return toImportView(row);
  });
  importSettings(deps).notify?.();
  return result;
}

/** One part of a multipart upload, as the HTTP layer hands it over. */
export type UploadPart =
  | { kind: 'field'; name: string; value: string }
  | { kind: 'file'; name: string; filename: string; stream: NodeJS.ReadableStream & { truncated?: boolean } };

export interface UploadOptions {
  /** The upload's type: API from the HTTP API, Manual from the console or CLI. */
  type: ImportType;
  /** An application id given outside the parts (e.g. a query parameter). */
  applicationId?: string | undefined;
  dryRun?: boolean | undefined;
}

/**
 * Receives an upload: every file part is streamed to disk (never held in memory) under a
 * fresh folder, then checked against the application's file groups: each part must be
 * named by a file group id, non-empty, and every required group present.
 */
export async function uploadImport(
  deps: ServiceDeps,
  actor: Actor,
  parts: AsyncIterable<UploadPart>,
  options: UploadOptions,
): Promise<{ value: ImportView; revision: number }> {
  requireRight(actor, 'manage-imports');
  const settings = importSettings(deps);
  const importId = randomUUID();
  const staging = await uploadFolder(settings, `tmp-${importId}`);
  await mkdir(staging, { recursive: true });
  let committed = false;
  try {
    const fields = new Map<string, string>();
    const received: { part: string; filename: string; size: number; file: string }[] = [];
    const { createWriteStream } = await import('node:fs');
    const { pipeline } = await import('node:stream/promises');
    for await (const part of parts) {
      if (part.kind === 'field') {
        fields.set(part.name, part.value);
        continue;
      }
      if (received.some((r) => r.part === part.name)) {
        part.stream.resume();
        throw new AppError('validation_failed', `the part "${part.name}" was sent twice`, { errors: [{ field: part.name, message: 'was sent twice' }] });
      }
      const file = join(staging, `part-${received.length}`);
      let size = 0;
      part.stream.on('data', (chunk: Buffer) => void (size += chunk.length));
      await pipeline(part.stream, createWriteStream(file));
      if (part.stream.truncated) {
        throw new AppError('payload_too_large', `the file "${part.filename}" (${part.name}) exceeds the upload limit of ${settings.uploadLimit} bytes`, {
          errors: [{ field: part.name, message: `exceeds ${settings.uploadLimit} bytes` }],
        });
      }
      received.push({ part: part.name, filename: part.filename, size, file });
    }

    const applicationId = options.applicationId ?? fields.get('applicationId');
    if (!applicationId) throw new AppError('validation_failed', 'applicationId is required', { errors: [{ field: 'applicationId', message: 'is required' }] });
    const dryRunField = fields.get('dryRun');
    const dryRun = options.dryRun ?? (dryRunField === 'true' || dryRunField === '1');
    const scope = deps.store.read(actor.caller.tenantId);
    const app = await requireApplication(scope, applicationId);
    const connector = importableConnector(app);
    const errors: { field: string; message: string }[] = [];
    for (const r of received) {
      const group = connector.fileGroups.find((g) => g.id === r.part.toLowerCase());
      if (!group) errors.push({ field: r.part, message: 'is not the id of a file group of the application' });
      else if (r.size === 0) errors.push({ field: r.part, message: `the file for ${group.name} is empty` });
    }
    for (const group of connector.fileGroups) {
      if (group.required && !received.some((r) => r.part.toLowerCase() === group.id)) {
        errors.push({ field: group.id, message: `a file for the required file group ${group.name} is missing` });
      }
    }
    for (const name of fields.keys()) {
      if (name !== 'applicationId' && name !== 'dryRun') errors.push({ field: name, message: 'is not a known field' });
    }
    if (errors.length) throw new AppError('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });

    const files: ImportFile[] = [];
    for (const r of received) {
      const group = connector.fileGroups.find((g) => g.id === r.part.toLowerCase())!;
      await rename(r.file, join(staging, group.id));
      files.push({ id: randomUUID(), fileGroupId: group.id, fileGroup: group.name, name: safeFileName(r.filename) || group.name, size: r.size });
    }
    const final = await uploadFolder(settings, importId);
    await rename(staging, final);
    try {
      const result = await writeAs(deps, actor, async (tx) => {
        const row = await insertImport(tx, actor, { id: importId, applicationId: app.id, type: options.type, source: 'upload', dryRun, files });
        return toImportView(row);
      });
      committed = true;
      settings.notify?.();
      return result;
    } finally {
      if (!committed) await rm(final, { recursive: true, force: true });
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function safeFileName(name: string): string {
  return name.replace(/[/\\\0]/g, '_').slice(0, 200);
}

// ---------------------------------------------------------------- decisions

async function lockImport(tx: WriteTx, id: string, field = 'id'): Promise<Database['imports']> {
  const row = await tx.db.selectFrom('imports').selectAll().where('tenant_id', '=', tx.tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw new AppError('not_found', `import ${id} does not exist`, { errors: [{ field, message: 'no such import' }] });
  return row;
}

export async function updateImport(tx: WriteTx, row: Database['imports'], changes: Partial<Database['imports']>): Promise<Database['imports']> {
  const next = { ...row, ...changes, updated_at: tx.now, version: row.version + 1 };
  await tx.db
    .updateTable('imports')
    .set({ ...changes, updated_at: tx.now, version: row.version + 1 })
    .where('tenant_id', '=', tx.tenantId)
    .where('id', '=', row.id)
    .execute();
  tx.change('import', row.id, 'update');
  return next;
}

export async function cancelImport(deps: ServiceDeps, actor: Actor, id: string, field = 'id'): Promise<{ value: ImportView; revision: number }> {
  requireRight(actor, 'manage-imports');
  // Stop a run of this process now: its apply transaction may hold the database, and this
  // request's write would otherwise wait for it to commit.
  const signaled = signalCancel(actor.caller.tenantId, id);
  return writeAs(deps, actor, async (tx) => {
    const row = await lockImport(tx, id, field);
    const status = row.status as ImportStatus;
    // Asked again, or already ended by this request's signal: the same answer, recorded.
    if (status === 'Canceling' || (status === 'Canceled' && signaled)) {
      tx.audit({ action: 'import.cancel', targetType: 'import', targetId: row.id, before: { status }, after: { status } });
      return toImportView(row);
    }
    if (status !== 'Pending' && status !== 'Running' && status !== 'Held') {
      throw new AppError('conflict', `import #${row.number} is ${status}; only a Pending, Running or Held import can be canceled`, {
        errors: [{ field, message: `the import is ${status}` }],
      });
    }
    // A held import has nothing running: it is canceled at once. Otherwise the worker ends it.
    const to = status === 'Held' ? 'Canceled' : 'Canceling';
    const next = await updateImport(tx, row, {
      status: to,
      ...(to === 'Canceled' ? { build_end: tx.now, decided_by: actor.caller.name, decided_at: tx.now } : {}),
      log: appendLog(row.log, [{ time: tx.now, level: 'warn', message: `cancel requested by ${actor.caller.name}` }]),
    });
    tx.audit({ action: 'import.cancel', targetType: 'import', targetId: row.id, before: { status }, after: { status: to } });
    return toImportView(next);
  }).finally(() => importSettings(deps).notify?.());
}

/** Rejecting a held import cancels it; nothing of it is applied. */
export async function rejectImport(deps: ServiceDeps, actor: Actor, id: string, reason?: string): Promise<{ value: ImportView; revision: number }> {
  requireRight(actor, 'manage-imports');
  return writeAs(deps, actor, async (tx) => {
    const row = await lockImport(tx, id);
    if (row.status !== 'Held') throw new AppError('conflict', `import #${row.number} is ${row.status}, not Held`, { errors: [{ field: 'id', message: `the import is ${row.status}` }] });
    const next = await updateImport(tx, row, {
      status: 'Canceled',
      build_end: tx.now,
      decided_by: actor.caller.name,
      decided_at: tx.now,
      log: appendLog(row.log, [{ time: tx.now, level: 'warn', message: `rejected by ${actor.caller.name}${reason ? `: ${reason}` : ''}; nothing was applied` }]),
    });
    tx.audit({ action: 'import.reject', targetType: 'import', targetId: row.id, before: { status: 'Held' }, after: { status: 'Canceled', reason: reason ?? null } });
    return toImportView(next);
  }).finally(() => importSettings(deps).notify?.());
}

// ---------------------------------------------------------------- reads

export async function getImport(deps: ServiceDeps, actor: Actor, id: string): Promise<ImportView> {
  requireRight(actor, 'manage-imports');
  const { db, tenantId } = deps.store.read(actor.caller.tenantId);
  const row = await db.selectFrom('imports').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('import', id);
  return toImportView(row);
}

export interface ImportFilter {
  applicationId?: string | undefined;
  status?: string | undefined;
}

/** Newest first, cursor-paged. */
export async function listImports(
  deps: ServiceDeps,
  actor: Actor,
  filter: ImportFilter,
  page: { cursor?: string | undefined; limit?: number | undefined },
): Promise<Page<ImportView>> {
  requireRight(actor, 'manage-imports');
  const { db, tenantId } = deps.store.read(actor.caller.tenantId);
  const pager = await openPager<number>(deps.store, tenantId, 'imports', { ...filter }, page);
  let q = db.selectFrom('imports').selectAll().where('tenant_id', '=', tenantId);
  if (filter.applicationId) q = q.where('application_id', '=', filter.applicationId);
  if (filter.status) q = q.where('status', '=', filter.status);
  if (pager.after !== null) q = q.where('number', '<', pager.after);
  const rows = await q.orderBy('number', 'desc').limit(pager.limit + 1).execute();
  return pager.page(rows, (r) => Number(r.number), toImportView);
}

/** Offset paging for profiles whose documents page by number (Permission Assist). */
export async function listImportsByPage(
  deps: ServiceDeps,
  actor: Actor,
  filter: ImportFilter,
  offset: number,
  limit: number,
): Promise<{ items: ImportView[]; total: number }> {
  requireRight(actor, 'manage-imports');
  const { db, tenantId } = deps.store.read(actor.caller.tenantId);
  let q = db.selectFrom('imports').where('tenant_id', '=', tenantId);
  if (filter.applicationId) q = q.where('application_id', '=', filter.applicationId);
  if (filter.status) q = q.where('status', '=', filter.status);
  const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await q.selectAll().orderBy('number', 'desc').limit(limit).offset(offset).execute();
  return { items: rows.map(toImportView), total: Number(total.n) };
}

export async function listImportChanges(
  deps: ServiceDeps,
  actor: Actor,
  id: string,
  page: { cursor?: string | undefined; limit?: number | undefined },
  filter: { op?: string | undefined } = {},
): Promise<Page<ImportChangeView>> {
  requireRight(actor, 'manage-imports');
  const { db, tenantId } = deps.store.read(actor.caller.tenantId);
  const exists = await db.selectFrom('imports').select('id').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!exists) throw notFound('import', id);
  const pager = await openPager<number>(deps.store, tenantId, 'import-changes', { id, ...filter }, page);
  let q = db.selectFrom('import_changes').selectAll().where('tenant_id', '=', tenantId).where('import_id', '=', id);
  if (filter.op) q = q.where('op', '=', filter.op);
  if (pager.after !== null) q = q.where('seq', '>', pager.after);
  const rows = await q.orderBy('seq').limit(pager.limit + 1).execute();
  return pager.page(rows, (r) => Number(r.seq), toChangeView);
}

export const isFinal = (status: string): boolean => (FINAL_STATUSES as readonly string[]).includes(status);
