/**
 * The one transaction of an import: read the application's current accounts and grants,
 * compute the per-account diff against the observed snapshot, then — by the connector's
 * thresholds — hold it for a person, or store it (dry run), or store and apply it. The
 * application's accounts and grants change as one snapshot: every statement runs inside the
 * caller's `store.write`, so readers see the old state or the new one, and a crash leaves
 * the old one. Reads are chunked by account so memory stays bounded by the changes.
 */
import type { Connector } from '../../domain/connector.ts';
import {
  countChange,
  diffAccount,
  emptyMetrics,
  identityOfMatch,
  thresholdBreach,
  type AccountChange,
  type AccountMatch,
  type ImportMetrics,
} from '../../domain/import-diff.ts';
import type { Database } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import { bulkInsert } from './bulk.ts';
import { accountsState, CHUNK, currentAccountRows, GrantFingerprints, loadCatalog, withGrants, type CurrentRow, type ExistingAccount } from './current-accounts.ts';
import type { Snapshot } from './snapshot.ts';
import { replaceUnmatched, storeChanges } from './stored-changes.ts';
import type { LogEntry } from './views.ts';
import { applyChanges, createPermissions, sodDetectedMessage } from './write-changes.ts';

export interface Prepared {
  applicationId: string;
  connector: Connector;
  snapshot: Snapshot;
  /** Match of each observed account, by account name. */
  matches: Map<string, AccountMatch>;
}

export interface Outcome {
  kind: 'held' | 'dry-run' | 'applied';
  metrics: ImportMetrics;
  heldReason: string | null;
  log: LogEntry[];
  changedAccounts: number;
  /** Held: the {@link accountsState} the diff was computed against. */
  baseState: string | null;
}


export interface ApplyOptions {
  dryRun: boolean;
  /**
   * A cancel point, awaited between chunks of the diff and of the apply: it throws
   * {@link ImportCanceled} on a cancel, which rolls the whole transaction back (the old
   * snapshot stays).
   */
  checkpoint?: ((where: string) => Promise<void>) | undefined;
}

/**
 * SQLite page cache for the import's transaction (negative: KiB): the grants table and its
 * indexes grow by hundreds of megabytes, and a cache of the default 2 MB spills and re-reads
 * index pages over and over. Given back when the transaction's work is done.
 */
const SQLITE_IMPORT_CACHE_KIB = 64 * 1024;

/** Computes the diff, decides, and (unless held or a dry run) applies it. */
export async function decideAndApply(tx: WriteTx, importRow: Database['imports'], prepared: Prepared, options: ApplyOptions): Promise<Outcome> {
  const previous = tx.sqlite?.pragma('cache_size', -SQLITE_IMPORT_CACHE_KIB);
  try {
    return await diffAndApply(tx, importRow, prepared, options);
  } finally {
    if (tx.sqlite && typeof previous === 'number') tx.sqlite.pragma('cache_size', previous);
  }
}

async function diffAndApply(tx: WriteTx, importRow: Database['imports'], prepared: Prepared, options: ApplyOptions): Promise<Outcome> {
  const checkpoint = options.checkpoint ?? (async () => undefined);
  const { snapshot, matches, connector, applicationId } = prepared;
  const codes = snapshot.codes;
  const catalog = await loadCatalog(tx, applicationId);
  const metrics = emptyMetrics();
  metrics.rowsRead = snapshot.rowsRead;
  metrics.badRows = snapshot.badRows;
  metrics.accountsObserved = snapshot.accounts.size;
  for (const m of matches.values()) {
    if (m.state === 'matched' || m.state === 'linked') metrics.accountsMatched += 1;
    else if (m.state === 'orphan') metrics.accountsOrphaned += 1;
    else if (m.state === 'ambiguous') metrics.accountsAmbiguous += 1;
  }
  const log: LogEntry[] = [];

  // Unknown permissions: created in the catalog, or reported and left out.
  const unknown = new Set<string>();
  for (let code = 0; code < codes.size; code += 1) {
    const { permission } = codes.decode(code);
    if (!catalog.byName.has(permission)) unknown.add(permission);
  }
  const dropped = new Set<number>();
  if (unknown.size) {
    const names = [...unknown].sort();
    if (connector.unknownPermissions === 'create') {
      metrics.permissionsCreated = names.length;
      log.push({ time: tx.now, level: 'info', message: `${names.length} new permission(s)${options.dryRun ? ' would be' : ''} added to the catalog: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', ...' : ''}` });
    } else {
      metrics.permissionsUnknown = names.length;
      for (let code = 0; code < codes.size; code += 1) if (unknown.has(codes.decode(code).permission)) dropped.add(code);
      log.push({ time: tx.now, level: 'warn', message: `${names.length} permission(s) not in the catalog were reported and left out: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', ...' : ''}` });
    }
  }
  if (dropped.size) for (const account of snapshot.accounts.values()) account.grants = account.grants.filter((code) => !dropped.has(code));

  // The diff, one chunk of current accounts at a time. An account whose fingerprint is
  // still valid (same version) and equal to the observed grants' has the same grants: only
  // its identity and status are compared, its grants are not read.
  const fingerprints = new GrantFingerprints(codes, catalog);
  const changes: AccountChange[] = [];
  const changed = new Map<string, ExistingAccount>();
  const unfingerprinted: { id: string; name: string; version: number }[] = [];
  const seen = new Set<string>();
  const current = { accounts: 0, grants: 0 };
  for await (const chunk of currentAccountRows(tx, applicationId)) {
    await checkpoint('while comparing with the current accounts');
    const toRead: CurrentRow[] = [];
    for (const row of chunk) {
      current.accounts += 1;
      seen.add(row.name);
      const observed = snapshot.accounts.get(row.name);
      const valid = row.fingerprint_version !== null && Number(row.fingerprint_version) === Number(row.version);
      if (!observed || !valid || fingerprints.hash(observed.grants) !== row.grants_hash) {
        toRead.push(row);
        continue;
      }
      current.grants += Number(row.grant_count);
      const match = matches.get(row.name) ?? { state: 'orphan' };
      const identityAfter = identityOfMatch(match);
      if (identityAfter === row.identity_id && observed.status === row.status) continue;
      changes.push({ accountName: row.name, op: 'update', match, identityBefore: row.identity_id, identityAfter, statusBefore: row.status, statusAfter: observed.status, grantsAdded: [], grantsRemoved: [] });
      changed.set(row.name, { id: row.id, name: row.name, identityId: row.identity_id, status: row.status, version: Number(row.version), grants: new Map() });
    }
    for (let i = 0; i < toRead.length; i += CHUNK) {
      for (const account of await withGrants(tx, toRead.slice(i, i + CHUNK), catalog, codes)) {
        current.grants += account.grants.size;
        const observed = snapshot.accounts.get(account.name);
        const change = diffAccount(account, observed, observed ? (matches.get(account.name) ?? { state: 'orphan' }) : null);
        if (change) {
          changes.push(change);
          changed.set(account.name, account);
        } else unfingerprinted.push(account);
      }
    }
  }
  for (const [name, observed] of snapshot.accounts) {
    if (seen.has(name)) continue;
    const change = diffAccount(undefined, observed, matches.get(name) ?? { state: 'orphan' });
    if (change) changes.push(change);
  }
  seen.clear();
  changes.sort((a, b) => (a.accountName < b.accountName ? -1 : a.accountName > b.accountName ? 1 : 0));
  for (const c of changes) countChange(metrics, c);

  const breach = thresholdBreach(connector.thresholds, { accounts: metrics.accountsRemoved, grants: metrics.grantsRemoved }, current);
  await storeChanges(tx, importRow.id, changes, codes);
  if (breach && options.dryRun) log.push({ time: tx.now, level: 'warn', message: `a real import would be held: ${breach}` });
  if (options.dryRun) return { kind: 'dry-run', metrics, heldReason: null, log, changedAccounts: changes.length, baseState: null };
  if (breach) {
    log.push({ time: tx.now, level: 'warn', message: `held for approval: ${breach}` });
    return { kind: 'held', metrics, heldReason: breach, log, changedAccounts: changes.length, baseState: await accountsState(tx, applicationId) };
  }

  await checkpoint('before applying');
  if (unknown.size && connector.unknownPermissions === 'create') await createPermissions(tx, applicationId, [...unknown].sort(), catalog);
  const { applied, sodDetected } = await applyChanges(tx, applicationId, importRow.id, changes, codes, { catalog, existing: changed, checkpoint });
  if (sodDetected) log.push({ time: tx.now, level: 'warn', message: sodDetectedMessage(sodDetected) });
  await checkpoint('while applying');
  // Every observed account now holds exactly its observed grants: fingerprint the ones
  // written and the unchanged ones that had no valid fingerprint.
  const written = bulkInsert(tx, 'import_fingerprints', ['tenant_id', 'account_id', 'account_version', 'grants_hash', 'grant_count'], {
    onConflict: 'on conflict (tenant_id, account_id) do update set account_version = excluded.account_version, grants_hash = excluded.grants_hash, grant_count = excluded.grant_count',
  });
  for (const account of [...applied, ...unfingerprinted]) {
    const observed = snapshot.accounts.get(account.name);
    const hash = observed ? fingerprints.hash(observed.grants) : null;
    if (observed && hash !== null) await written.push([tx.tenantId, account.id, account.version, hash, observed.grants.length]);
  }
  await written.end();
  // Fingerprints of accounts deleted outside imports (the accounts API) go too.
  await tx.db
    .deleteFrom('import_fingerprints')
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('accounts').select('accounts.id').whereRef('accounts.id', '=', 'import_fingerprints.account_id'))))
    .execute();
  await replaceUnmatched(tx, applicationId, importRow.id, matches);
  return { kind: 'applied', metrics, heldReason: null, log, changedAccounts: changes.length, baseState: null };
}
