/**
 * Import use cases: stage an import from the import directory, cancel or reject one (an
 * upload is received in `uploads.ts`, a held import approved in `run.ts`; the connector is
 * set in `connectors.ts`, imports are read in `import-reads.ts`). Processing happens in the
 * background worker (src/jobs); these functions create and change import records, each in
 * one audited write.
 *
 * ```ts
 * const { value } = await stageImport(deps, actor, { applicationId }, 'API'); // status Pending
 * await cancelImport(deps, actor, value.id);                                  // status Canceling
 * ```
 */
import { writeAs, requireRight, type Actor } from '../kernel/index.ts';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Connector } from '../../domain/connector.ts';
import { AppError } from '../../domain/errors.ts';
import type { Database } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import type { ImportSettings, ServiceDeps } from '../deps.ts';
import { signalCancel } from './cancel.ts';
import { folderNameOf, importableConnector, requireApplication, type ApplicationRow } from './connectors.ts';
import { findFiles, importRoot, PathEscapeError, resolveApplicationFolder, type ApplicationFolder } from './import-dir.ts';
import { appendLog, toImportView, type ImportFile, type ImportStatus, type ImportType, type ImportView } from './views.ts';

export const DEFAULT_IMPORT_SETTINGS: ImportSettings = { importDir: './data/imports', uploadLimit: 1024 * 1024 * 1024 };

export const importSettings = (deps: ServiceDeps): ImportSettings => deps.imports ?? DEFAULT_IMPORT_SETTINGS;

/** Where uploaded files wait for their import: a hidden folder of the import directory (shared by nodes). */
export async function uploadFolder(settings: ImportSettings, importId: string): Promise<string> {
  return join(await importRoot(settings.importDir), '.uploads', importId);
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

export async function insertImport(
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

// ---------------------------------------------------------------- decisions

async function lockImport(tx: WriteTx, id: string, field = 'id'): Promise<Database['imports']> {
  const row = await tx.db.selectFrom('imports').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new AppError('not_found', `import ${id} does not exist`, { errors: [{ field, message: 'no such import' }] });
  return row;
}

export async function updateImport(tx: WriteTx, row: Database['imports'], changes: Partial<Database['imports']>): Promise<Database['imports']> {
  const next = { ...row, ...changes, updated_at: tx.now, version: row.version + 1 };
  await tx.db
    .updateTable('imports')
    .set({ ...changes, updated_at: tx.now, version: row.version + 1 })
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
