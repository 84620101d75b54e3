/**
 * Running one import, as the background worker does: claim it (Pending → Running), read its
 * files into a snapshot (progress and cancel checks as rows stream), match accounts to
 * identities, then decide and apply in one transaction. Any failure ends it as Failed with
 * the reason in its log; a cancel ends it as Canceled. Every step that changes the import's
 * status is an audited write naming the credential that queued the import.
 */
import { open, rm } from 'node:fs/promises';
import { sql } from 'kysely';
import { join } from 'node:path';
import { storedConnector, type Connector } from '../../domain/connector.ts';
import { GrantCodes, type AccountMatch } from '../../domain/import-diff.ts';
import { buildIdentityIndex, matchAccount, normalizeKey } from '../../domain/matching.ts';
import type { Database } from '../../store/schema.ts';
import type { WriteMeta } from '../../store/store.ts';
import type { ServiceDeps } from '../deps.ts';
import { decideAndApply, type Prepared } from './apply.ts';
import { accountsState } from './current-accounts.ts';
import { loadStoredChanges, updateUnmatchedFromChanges } from './stored-changes.ts';
import { applyChanges, sodDetectedMessage } from './write-changes.ts';
import { checkCanceled, trackRunning, untrackRunning } from './cancel.ts';
import { checkedFilePath, PathEscapeError, resolveApplicationFolder } from './import-dir.ts';
import { findApplication, folderNameOf } from './connectors.ts';
import { importSettings, updateImport, uploadFolder } from './imports.ts';
import { buildSnapshot, ImportCanceled, ImportFailure, type SnapshotFile } from './snapshot.ts';
import { appendLog, toImportView, type ImportFile, type LogEntry } from './views.ts';
import { requireRight, type Actor, writeAs } from '../kernel/index.ts';
import { AppError } from '../../domain/errors.ts';

type ImportRow = Database['imports'];

/** Imports are processed on behalf of whoever queued them: the audit trail names that credential. */
export function importMeta(row: ImportRow): WriteMeta {
  return { actorType: 'system', actorId: row.created_by_id, actorName: `${row.created_by} (import #${row.number})`, origin: 'import-worker' };
}

async function readRow(deps: ServiceDeps, tenantId: string, id: string): Promise<ImportRow | undefined> {
  const { db } = deps.store.read(tenantId);
  return db.selectFrom('imports').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Operational progress (rows, bytes, heartbeat, phase): not a change of state, so not audited. */
async function recordProgress(deps: ServiceDeps, tenantId: string, id: string, fields: Partial<Pick<ImportRow, 'rows_read' | 'rows_total' | 'bytes_read' | 'phase' | 'heartbeat_at'>>): Promise<void> {
  const { db } = deps.store.read(tenantId);
  await db
    .updateTable('imports')
    .set({ ...fields, heartbeat_at: deps.now().toISOString() })
    .where('id', '=', id)
    .where('status', 'in', ['Running', 'Canceling'])
    .execute();
}

/** Counts line breaks to estimate the rows of a file (known before reading it). */
async function countLines(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    let lines = 0;
    let last = 0x0a;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (!bytesRead) break;
      for (let i = 0; i < bytesRead; i += 1) if (buffer[i] === 0x0a) lines += 1;
      last = buffer[bytesRead - 1]!;
    }
    return last === 0x0a ? lines : lines + 1;
  } finally {
    await handle.close();
  }
}

async function finish(deps: ServiceDeps, row: ImportRow, status: 'Failed' | 'Canceled', message: string, level: LogEntry['level']): Promise<void> {
  await deps.store.write(row.tenant_id, importMeta(row), async (tx) => {
    const current = await tx.db.selectFrom('imports').selectAll().where('id', '=', row.id).executeTakeFirst();
    if (!current || (current.status !== 'Running' && current.status !== 'Canceling' && current.status !== 'Pending')) return;
    await updateImport(tx, current, {
      status,
      phase: null,
      build_end: tx.now,
      error: status === 'Failed' ? message : null,
      log: appendLog(current.log, [{ time: tx.now, level, message }]),
    });
    tx.audit({ action: status === 'Failed' ? 'import.fail' : 'import.canceled', targetType: 'import', targetId: row.id, before: { status: current.status }, after: { status, reason: message } });
  });
}

/** Files of the import, with their checked paths. */
async function resolveFiles(deps: ServiceDeps, row: ImportRow, app: { id: string }, connector: Connector): Promise<SnapshotFile[]> {
  const files = JSON.parse(row.files) as ImportFile[];
  const settings = importSettings(deps);
  if (row.source === 'upload') {
    const folder = await uploadFolder(settings, row.id);
    return files.map((f) => ({ fileGroupId: f.fileGroupId, name: f.name, path: join(folder, f.fileGroupId), size: f.size }));
  }
  const folder = await resolveApplicationFolder(settings.importDir, folderNameOf(app, connector));
  const out: SnapshotFile[] = [];
  for (const f of files) out.push({ fileGroupId: f.fileGroupId, name: f.name, path: await checkedFilePath(folder, f.name), size: f.size });
  return out;
}

async function matchAll(deps: ServiceDeps, tenantId: string, applicationId: string, connector: Connector, names: Iterable<[string, { keys: Partial<Record<string, string>> }]>): Promise<Map<string, AccountMatch>> {
  const { db } = deps.store.read(tenantId);
  // Only the keys the connector matches on are read and indexed (memory: 100k identities).
  const uses = new Set(connector.matching);
  const identities = await db
    .selectFrom('identities')
    .select([
      'id',
      uses.has('employeeNumber') ? 'employee_number' : sql<string | null>`null`.as('employee_number'),
      uses.has('email') ? 'email' : sql<string | null>`null`.as('email'),
      uses.has('username') ? 'username' : sql<string | null>`null`.as('username'),
      uses.has('subject') ? 'subject' : sql<string | null>`null`.as('subject'),
    ])
    .execute();
  const index = buildIdentityIndex(
    (function* () {
      for (const i of identities) yield { id: i.id, employeeNumber: i.employee_number, email: i.email, username: i.username, subject: i.subject };
    })(),
  );
  identities.length = 0; // not needed while the accounts are matched: let it be collected
  const resolutions = new Map(
    (
      await db
        .selectFrom('account_resolutions')
        .select(['account_name', 'resolution', 'identity_id'])
        .where('application_id', '=', applicationId)
        .execute()
    ).map((r) => [r.account_name, r]),
  );
  const matches = new Map<string, AccountMatch>();
  for (const [name, account] of names) {
    const resolution = resolutions.get(name);
    if (resolution) {
      if (resolution.resolution === 'linked' && resolution.identity_id) matches.set(name, { state: 'linked', identityId: resolution.identity_id });
      else matches.set(name, { state: resolution.resolution === 'service' ? 'service' : 'ignored' });
      continue;
    }
    matches.set(name, matchAccount(index, connector.matching, account.keys));
  }
  return matches;
}

/**
 * Processes a claimed (Running) import to its end. Never throws for import problems: they
 * end the import as Failed. Returns the final status.
 */
export async function processImport(deps: ServiceDeps, tenantId: string, importId: string): Promise<string> {
  let row = await readRow(deps, tenantId, importId);
  if (!row) return 'missing';
  const started = row;
  // Canceled here (a request to this process) or on another node (the stored status).
  const signal = trackRunning(tenantId, importId);
  const isCanceling = async () => signal.aborted || (await readRow(deps, tenantId, importId))?.status === 'Canceling';
  const hook = importSettings(deps).onCheckpoint;
  const checkpoint = async (where: string) => {
    await hook?.({ tenantId, importId, where, signal });
    await checkCanceled(signal, where);
  };
  try {
    const app = await findApplication(deps.store.read(tenantId), row.application_id);
    if (!app) throw new ImportFailure('the application no longer exists');
    const connector = storedConnector(app.connector);
    if (!connector) throw new ImportFailure('the application has no connector configuration');
    let files: SnapshotFile[];
    try {
      files = await resolveFiles(deps, row, app, connector);
    } catch (e) {
      if (e instanceof PathEscapeError) {
        await deps.store.write(tenantId, importMeta(row), async (tx) => {
          tx.audit({ action: 'import.path_refused', targetType: 'import', targetId: importId, after: { path: e.attempted, reason: e.message } });
        });
        throw new ImportFailure(`${e.message}; paths must stay inside the import directory`);
      }
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ImportFailure(`a file of the import is gone: ${(e as Error).message}`);
      throw e;
    }
    let rowsTotal = 0;
    for (const f of files) rowsTotal += Math.max(0, (await countLines(f.path)) - (connector.fileGroups.find((g) => g.id === f.fileGroupId)?.format === 'csv' ? 1 : 0));
    await recordProgress(deps, tenantId, importId, { phase: 'parse', rows_total: rowsTotal });

    const t0 = Date.now();
    const snapshot = await buildSnapshot(files, connector, {
      onProgress: (rowsRead, bytesRead) => recordProgress(deps, tenantId, importId, { rows_read: rowsRead, bytes_read: bytesRead }),
      shouldStop: async () => {
        await hook?.({ tenantId, importId, where: 'while reading the files', signal });
        return isCanceling();
      },
      signal,
    });
    await recordProgress(deps, tenantId, importId, { phase: 'match', rows_read: snapshot.rowsRead });
    const t1 = Date.now();
    const matches = await matchAll(deps, tenantId, app.id, connector, snapshot.accounts);
    const t2 = Date.now();
    if (await isCanceling()) throw new ImportCanceled('canceled before applying');
    await recordProgress(deps, tenantId, importId, { phase: 'apply' });

    const prepared: Prepared = { applicationId: app.id, connector, snapshot, matches };
    const result = await deps.store.write(tenantId, importMeta(row), async (tx) => {
      const current = await tx.db.selectFrom('imports').selectAll().where('id', '=', importId).executeTakeFirst();
      if (!current || current.status === 'Failed') throw new ImportFailure('the import was marked failed while it ran');
      if (current.status === 'Canceling') return { canceled: true as const };
      const t3 = Date.now();
      const outcome = await decideAndApply(tx, current, prepared, { dryRun: current.dry_run === 1, checkpoint });
      const timing = `read ${snapshot.rowsRead} rows in ${((t1 - t0) / 1000).toFixed(1)} s, matched ${snapshot.accounts.size} accounts in ${((t2 - t1) / 1000).toFixed(1)} s, diff and apply in ${((Date.now() - t3) / 1000).toFixed(1)} s`;
      const problems: LogEntry[] = snapshot.problems.map((p) => ({ time: tx.now, level: 'warn', message: `${p.file}, line ${p.line}: ${p.message}` }));
      const status = outcome.kind === 'held' ? 'Held' : 'Finished';
      const summary = `${outcome.kind === 'applied' ? 'applied' : outcome.kind === 'dry-run' ? 'dry run (nothing applied)' : 'held'}: ${outcome.metrics.accountsAdded} accounts added, ${outcome.metrics.accountsRemoved} removed, ${outcome.metrics.accountsUpdated} changed; ${outcome.metrics.grantsAdded} grants added, ${outcome.metrics.grantsRemoved} removed`;
      await updateImport(tx, current, {
        status,
        phase: null,
        build_end: outcome.kind === 'held' ? null : tx.now,
        rows_read: snapshot.rowsRead,
        metrics: JSON.stringify(outcome.metrics),
        held_reason: outcome.heldReason,
        base_state: outcome.baseState,
        log: appendLog(current.log, [...problems, ...outcome.log, { time: tx.now, level: 'info', message: summary }, { time: tx.now, level: 'info', message: timing }]),
      });
      tx.audit({
        action: outcome.kind === 'applied' ? 'import.apply' : outcome.kind === 'held' ? 'import.held' : 'import.dry_run',
        targetType: 'import',
        targetId: importId,
        before: { status: current.status },
        after: { status, applicationId: app.id, number: Number(current.number), metrics: outcome.metrics, heldReason: outcome.heldReason },
      });
      if (outcome.kind === 'applied') {
        tx.change('application', app.id, 'update');
        for (const listener of deps.afterImportApply ?? []) await listener(deps, tx, { applicationId: app.id, importId });
      }
      return { canceled: false as const };
    });
    // Let this node's access index catch up at once (others follow the change feed).
    await deps.access?.syncNow(tenantId).catch(() => undefined);
    if (result.value.canceled) {
      await finish(deps, started, 'Canceled', 'canceled before applying; nothing was applied', 'warn');
      return 'Canceled';
    }
    row = await readRow(deps, tenantId, importId);
    return row?.status ?? 'missing';
  } catch (e) {
    if (e instanceof ImportCanceled) {
      await finish(deps, started, 'Canceled', `${e.message}; nothing was applied`, 'warn');
      return 'Canceled';
    }
    const message = e instanceof ImportFailure ? e.message : `unexpected error: ${(e as Error).message}`;
    await finish(deps, started, 'Failed', message, 'error');
    return 'Failed';
  } finally {
    untrackRunning(tenantId, importId);
    if (started.source === 'upload') {
      const current = await readRow(deps, tenantId, importId);
      // Uploaded files are kept only while the import may still need them.
      if (current && (current.status === 'Finished' || current.status === 'Failed' || current.status === 'Canceled' || current.status === 'Held')) {
        await rm(await uploadFolder(importSettings(deps), importId), { recursive: true, force: true });
      }
    }
  }
}

/** Approving a held import applies its stored diff, exactly as it was reviewed. */
export async function approveImport(deps: ServiceDeps, actor: Actor, id: string, note?: string) {
  requireRight(actor, 'manage-imports');
  const result = await writeAs(deps, actor, async (tx) => {
    const row = await tx.db.selectFrom('imports').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('not_found', `import ${id} does not exist`);
    if (row.status !== 'Held') throw new AppError('conflict', `import #${row.number} is ${row.status}, not Held`, { errors: [{ field: 'id', message: `the import is ${row.status}` }] });
    const app = await tx.db.selectFrom('applications').selectAll().where('id', '=', row.application_id).executeTakeFirst();
    const connector = app ? storedConnector(app.connector) : null;
    if (!app || !connector) throw new AppError('conflict', 'the application or its connector is gone; reject the import instead');
    // The reviewed diff is only right against the state it was computed from: if the
    // application's accounts changed since (another import applied, an account was written),
    // applying it would mix two snapshots. Refused; a new import computes a fresh diff.
    if (row.base_state === null || row.base_state !== (await accountsState(tx, app.id))) {
      throw new AppError(
        'conflict',
        `import #${row.number} was held against an earlier state of the application's accounts, which have changed since (another import applied or an account was written); its diff is stale. Reject it and run a new import.`,
        { errors: [{ field: 'id', message: 'the held diff is stale' }] },
      );
    }
    const codes = new GrantCodes();
    const changes = await loadStoredChanges(tx, id, codes);
    if (connector.unknownPermissions === 'create') {
      const names = new Set<string>();
      for (let c = 0; c < codes.size; c += 1) names.add(codes.decode(c).permission);
      const known = new Set((await tx.db.selectFrom('permissions').select('name').where('application_id', '=', app.id).execute()).map((p) => p.name));
      for (const name of [...names].filter((n) => !known.has(n)).sort()) {
        const { randomUUID } = await import('node:crypto');
        const pid = randomUUID();
        await tx.db
          .insertInto('permissions')
          .values({ id: pid, tenant_id: tx.tenantId, number: await tx.nextNumber('permissions'), application_id: app.id, name, category: null, description: 'Added by an import', risk: 'low', requestable: 1, delegable: 0, created_at: tx.now, updated_at: tx.now, version: 1 })
          .execute();
        tx.audit({ action: 'permission.create', targetType: 'permission', targetId: pid, after: { applicationId: app.id, name, source: 'import' } });
        tx.change('permission', pid, 'create');
      }
    }
    const { sodDetected } = await applyChanges(tx, app.id, id, changes, codes);
    await updateUnmatchedFromChanges(tx, app.id, id, changes);
    const next = await updateImport(tx, row, {
      status: 'Finished',
      build_end: tx.now,
      decided_by: actor.caller.name,
      decided_at: tx.now,
      log: appendLog(row.log, [
        { time: tx.now, level: 'info', message: `approved by ${actor.caller.name}${note ? `: ${note}` : ''}; the reviewed diff was applied` },
        ...(sodDetected ? [{ time: tx.now, level: 'warn' as const, message: sodDetectedMessage(sodDetected) }] : []),
      ]),
    });
    tx.audit({ action: 'import.approve', targetType: 'import', targetId: id, before: { status: 'Held', heldReason: row.held_reason }, after: { status: 'Finished', note: note ?? null } });
    tx.change('application', app.id, 'update');
    for (const listener of deps.afterImportApply ?? []) await listener(deps, tx, { applicationId: app.id, importId: id });
    return toImportView(next);
  });
  await deps.access?.syncNow(actor.caller.tenantId).catch(() => undefined);
  importSettings(deps).notify?.();
  return result;
}

export { normalizeKey };
