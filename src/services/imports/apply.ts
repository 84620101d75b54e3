/**
 * The one transaction of an import: read the application's current accounts and grants,
 * compute the per-account diff against the observed snapshot, then — by the connector's
 * thresholds — hold it for a person, or store it (dry run), or store and apply it. The
 * application's accounts and grants change as one snapshot: every statement runs inside the
 * caller's `store.write`, so readers see the old state or the new one, and a crash leaves
 * the old one. Reads are chunked by account so memory stays bounded by the changes.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Connector } from '../../domain/connector.ts';
import {
  countChange,
  diffAccount,
  emptyMetrics,
  GrantCodes,
  identityOfMatch,
  thresholdBreach,
  type AccountChange,
  type AccountMatch,
  type CurrentAccount,
  type GrantRef,
  type ImportMetrics,
} from '../../domain/import-diff.ts';
import type { Database } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import { bulkInsert } from './bulk.ts';
import type { Snapshot } from './snapshot.ts';
import type { LogEntry } from './views.ts';

const CHUNK = 1000;

let lastMs = 0;
let sequence = 0;
let pool = Buffer.alloc(0);
let poolAt = 0;
/**
 * A time-ordered UUID (version 7 layout): rows inserted by one import land next to each
 * other in the primary-key index instead of at a million random places.
 */
export function timeOrderedId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else {
    sequence += 1;
    if (sequence > 0xfff) {
      lastMs += 1;
      sequence = 0;
    }
  }
  if (poolAt + 16 > pool.length) {
    pool = randomBytes(16 * 4096);
    poolAt = 0;
  }
  // Random bytes come from a pool: one system call per 4096 ids instead of one per id.
  const bytes = Buffer.from(pool.subarray(poolAt, poolAt + 16));
  poolAt += 16;
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

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

interface Catalog {
  byName: Map<string, string>;
  nameById: Map<string, string>;
}

async function loadCatalog(tx: WriteTx, applicationId: string): Promise<Catalog> {
  const rows = await tx.db.selectFrom('permissions').select(['id', 'name']).where('tenant_id', '=', tx.tenantId).where('application_id', '=', applicationId).execute();
  return { byName: new Map(rows.map((r) => [r.name, r.id])), nameById: new Map(rows.map((r) => [r.id, r.name])) };
}

const grantContext = (g: { context_type: string; context_id: string | null }): string | null => (g.context_type === 'object' ? g.context_id : null);

interface CurrentRow {
  id: string;
  name: string;
  identity_id: string | null;
  status: string;
  version: number;
  fingerprint_version: number | null;
  grants_hash: string | null;
  grant_count: number | null;
}

/** Current accounts of the application with their fingerprints, in chunks of names. */
async function* currentAccountRows(tx: WriteTx, applicationId: string): AsyncGenerator<CurrentRow[]> {
  let after: string | null = null;
  for (;;) {
    let q = tx.db
      .selectFrom('accounts')
      .leftJoin('import_fingerprints as f', (j) => j.onRef('f.tenant_id', '=', 'accounts.tenant_id').onRef('f.account_id', '=', 'accounts.id'))
      .select([
        'accounts.id',
        'accounts.name',
        'accounts.identity_id',
        'accounts.status',
        'accounts.version',
        'f.account_version as fingerprint_version',
        'f.grants_hash',
        'f.grant_count',
      ])
      .where('accounts.tenant_id', '=', tx.tenantId)
      .where('accounts.application_id', '=', applicationId);
    if (after !== null) q = q.where('accounts.name', '>', after);
    const rows: CurrentRow[] = await q.orderBy('accounts.name').limit(5 * CHUNK).execute();
    if (!rows.length) return;
    after = rows[rows.length - 1]!.name;
    yield rows;
    if (rows.length < 5 * CHUNK) return;
  }
}

async function withGrants(
  tx: WriteTx,
  rows: { id: string; name: string; identity_id: string | null; status: string; version: number }[],
  catalog: Catalog,
  codes: GrantCodes,
): Promise<ExistingAccount[]> {
  const accounts = new Map<string, ExistingAccount>(
    rows.map((r) => [r.id, { id: r.id, name: r.name, identityId: r.identity_id, status: r.status, version: Number(r.version), grants: new Map() }]),
  );
  if (rows.length) {
    const grants = await tx.db
      .selectFrom('grants')
      .select(['id', 'account_id', 'permission_id', 'context_type', 'context_id'])
      .where('tenant_id', '=', tx.tenantId)
      .where(
        'account_id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    for (const g of grants) {
      const name = catalog.nameById.get(g.permission_id);
      if (name === undefined) continue;
      accounts.get(g.account_id)?.grants.set(codes.intern(name, grantContext(g)), g.id);
    }
  }
  return [...accounts.values()];
}

/** An account as it is now, with its version (grant map empty when its grants were not read). */
interface ExistingAccount extends CurrentAccount {
  version: number;
}

/**
 * The fingerprint of a set of grants: SHA-256 over the sorted (permission id, context)
 * pairs. Ids, not names: a renamed permission changes the fingerprint. Null when a
 * permission is not in the catalog yet (such an account is compared in full).
 */
class GrantFingerprints {
  private readonly keys: (string | undefined)[] = [];

  constructor(
    private readonly codes: GrantCodes,
    private readonly catalog: Catalog,
  ) {}

  hash(grants: Iterable<number>): string | null {
    const keys: string[] = [];
    for (const code of grants) {
      let key = this.keys[code];
      if (key === undefined) {
        const ref = this.codes.decode(code);
        const permissionId = this.catalog.byName.get(ref.permission);
        if (permissionId === undefined) return null;
        key = `${permissionId}\u0001${ref.context ?? ''}`;
        this.keys[code] = key;
      }
      keys.push(key);
    }
    keys.sort();
    return createHash('sha256').update(keys.join('\n')).digest('base64');
  }
}

/**
 * A token for the state of the application's accounts: any write to one of them (an
 * import, the accounts API, a resolution) adds, removes or bumps the version of a row, so
 * the token changes. A held import keeps the token it was computed against.
 */
export async function accountsState(tx: WriteTx, applicationId: string): Promise<string> {
  const row = await tx.db
    .selectFrom('accounts')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('version').as('versions'), eb.fn.max('updated_at').as('updated')])
    .where('tenant_id', '=', tx.tenantId)
    .where('application_id', '=', applicationId)
    .executeTakeFirstOrThrow();
  return `${Number(row.n)}:${Number(row.versions ?? 0)}:${row.updated ?? ''}`;
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
  const applied = await applyChanges(tx, applicationId, importRow.id, changes, codes, { catalog, existing: changed, checkpoint });
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
    .where('tenant_id', '=', tx.tenantId)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('accounts').select('accounts.id').whereRef('accounts.id', '=', 'import_fingerprints.account_id'))))
    .execute();
  await replaceUnmatched(tx, applicationId, importRow.id, matches);
  return { kind: 'applied', metrics, heldReason: null, log, changedAccounts: changes.length, baseState: null };
}

/** Per-code JSON of grant references, built once per import. */
function refsJson(codes: GrantCodes): (list: number[]) => string {
  const parts: string[] = [];
  return (list) => {
    let out = '[';
    for (let i = 0; i < list.length; i += 1) {
      const code = list[i]!;
      parts[code] ??= JSON.stringify(codes.decode(code));
      out += (i ? ',' : '') + parts[code];
    }
    return `${out}]`;
  };
}

async function storeChanges(tx: WriteTx, importId: string, changes: AccountChange[], codes: GrantCodes): Promise<void> {
  await tx.db.deleteFrom('import_changes').where('tenant_id', '=', tx.tenantId).where('import_id', '=', importId).execute();
  const refs = refsJson(codes);
  const rows = bulkInsert(tx, 'import_changes', [
    'tenant_id',
    'import_id',
    'seq',
    'account_name',
    'op',
    'match_state',
    'match_rule',
    'identity_before',
    'identity_after',
    'status_before',
    'status_after',
    'grants_added',
    'grants_removed',
  ]);
  let seq = 0;
  for (const c of changes) {
    seq += 1;
    await rows.push([
      tx.tenantId,
      importId,
      seq,
      c.accountName,
      c.op,
      c.match?.state ?? 'removed',
      c.match?.state === 'matched' ? c.match.rule : null,
      c.identityBefore,
      c.identityAfter,
      c.statusBefore,
      c.statusAfter,
      refs(c.grantsAdded),
      refs(c.grantsRemoved),
    ]);
  }
  await rows.end();
}

async function createPermissions(tx: WriteTx, applicationId: string, names: string[], catalog: Catalog): Promise<void> {
  for (const name of names) {
    if (catalog.byName.has(name)) continue;
    const id = randomUUID();
    const row: Database['permissions'] = {
      id,
      tenant_id: tx.tenantId,
      number: await tx.nextNumber('permissions'),
      application_id: applicationId,
      name,
      category: null,
      description: 'Added by an import',
      risk: 'low',
      requestable: 1,
      delegable: 0,
      created_at: tx.now,
      updated_at: tx.now,
      version: 1,
    };
    await tx.db.insertInto('permissions').values(row).execute();
    tx.audit({ action: 'permission.create', targetType: 'permission', targetId: id, after: { applicationId, name, source: 'import' } });
    tx.change('permission', id, 'create');
    catalog.byName.set(name, id);
    catalog.nameById.set(id, name);
  }
}

const ACCOUNT_COLUMNS = ['id', 'tenant_id', 'application_id', 'name', 'identity_id', 'status', 'observed_at', 'import_id', 'created_at', 'updated_at', 'version'];
const GRANT_COLUMNS = ['id', 'tenant_id', 'account_id', 'permission_id', 'context_type', 'context_id', 'observed_at', 'import_id'];

/**
 * Applies changes by account name. Without `existing` (an approved held import's stored
 * diff), accounts and grants are looked up again by name and (permission, context), so a
 * stored diff applies the same way. Returns the accounts added or updated, with the
 * version they now have; removed accounts lose their fingerprint.
 */
export async function applyChanges(
  tx: WriteTx,
  applicationId: string,
  importId: string,
  changes: AccountChange[],
  codes: GrantCodes,
  known: { catalog?: Catalog; existing?: Map<string, ExistingAccount>; checkpoint?: ((where: string) => Promise<void>) | undefined } = {},
): Promise<{ id: string; name: string; version: number }[]> {
  const cat = known.catalog ?? (await loadCatalog(tx, applicationId));
  const now = tx.now;
  const applied: { id: string; name: string; version: number }[] = [];
  const accountRows = bulkInsert(tx, 'accounts', ACCOUNT_COLUMNS);
  // A grant is written only after its account: flushing grants flushes accounts first.
  const grantRows = bulkInsert(tx, 'grants', GRANT_COLUMNS, { after: accountRows });
  const addGrants = async (accountId: string, list: number[]) => {
    for (const code of list) {
      const ref: GrantRef = codes.decode(code);
      const permissionId = cat.byName.get(ref.permission);
      if (!permissionId) continue;
      await grantRows.push([timeOrderedId(), tx.tenantId, accountId, permissionId, ref.context === null ? 'all' : 'object', ref.context, now, importId]);
    }
  };
  for (let i = 0; i < changes.length; i += CHUNK) {
    await known.checkpoint?.('while applying');
    const chunk = changes.slice(i, i + CHUNK);
    let existing = known.existing;
    if (!existing) {
      const rows = await tx.db
        .selectFrom('accounts')
        .select(['id', 'name', 'identity_id', 'status', 'version'])
        .where('tenant_id', '=', tx.tenantId)
        .where('application_id', '=', applicationId)
        .where(
          'name',
          'in',
          chunk.map((c) => c.accountName),
        )
        .execute();
      existing = new Map((await withGrants(tx, rows, cat, codes)).map((a) => [a.name, a]));
    }
    const deleteGrantIds: string[] = [];
    const deleteAccountIds: string[] = [];
    for (const change of chunk) {
      const account = existing.get(change.accountName);
      if (change.op === 'remove') {
        if (!account) continue;
        deleteGrantIds.push(...account.grants.values());
        deleteAccountIds.push(account.id);
        tx.change('account', account.id, 'delete');
        continue;
      }
      if (!account) {
        const id = timeOrderedId();
        await accountRows.push([id, tx.tenantId, applicationId, change.accountName, change.identityAfter, change.statusAfter ?? 'active', now, importId, now, now, 1]);
        await addGrants(id, change.grantsAdded);
        tx.change('account', id, 'create');
        applied.push({ id, name: change.accountName, version: 1 });
        continue;
      }
      const version = account.version + 1;
      const status = change.statusAfter ?? account.status;
      if (tx.sqlite) {
        tx.sqlite.run('update accounts set identity_id = ?, status = ?, observed_at = ?, import_id = ?, updated_at = ?, version = ? where tenant_id = ? and id = ?', [change.identityAfter, status, now, importId, now, version, tx.tenantId, account.id]);
      } else {
        await tx.db
          .updateTable('accounts')
          .set({ identity_id: change.identityAfter, status, observed_at: now, import_id: importId, updated_at: now, version })
          .where('tenant_id', '=', tx.tenantId)
          .where('id', '=', account.id)
          .execute();
      }
      for (const code of change.grantsRemoved) {
        const grantId = account.grants.get(code);
        if (grantId) deleteGrantIds.push(grantId);
      }
      await addGrants(
        account.id,
        change.grantsAdded.filter((code) => !account.grants.has(code)),
      );
      tx.change('account', account.id, 'update');
      applied.push({ id: account.id, name: change.accountName, version });
    }
    await deleteByIds(tx, 'grants', deleteGrantIds);
    for (let j = 0; j < deleteAccountIds.length; j += CHUNK) {
      await tx.db.deleteFrom('import_fingerprints').where('tenant_id', '=', tx.tenantId).where('account_id', 'in', deleteAccountIds.slice(j, j + CHUNK)).execute();
    }
    await deleteByIds(tx, 'accounts', deleteAccountIds);
  }
  await grantRows.end();
  await accountRows.end();
  return applied;
}

/**
 * Deletes rows by primary key. On SQLite one prepared statement a row: without statistics
 * its planner takes `tenant_id = ? and id in (...)` with more than a few ids for a scan of
 * the tenant's rows (through the tenant-led index), a full pass over a million grants.
 */
async function deleteByIds(tx: WriteTx, table: 'grants' | 'accounts', ids: string[]): Promise<void> {
  if (tx.sqlite) {
    for (const id of ids) tx.sqlite.run(`delete from ${table} where id = ? and tenant_id = ?`, [id, tx.tenantId]);
    return;
  }
  for (let j = 0; j < ids.length; j += CHUNK) await tx.db.deleteFrom(table).where('tenant_id', '=', tx.tenantId).where('id', 'in', ids.slice(j, j + CHUNK)).execute();
}

/** The application's orphan and ambiguous accounts become those of this import. */
async function replaceUnmatched(tx: WriteTx, applicationId: string, importId: string, matches: Map<string, AccountMatch>): Promise<void> {
  const before = new Map(
    (
      await tx.db
        .selectFrom('unmatched_accounts')
        .select(['account_name', 'state', 'candidates', 'first_seen_at'])
        .where('tenant_id', '=', tx.tenantId)
        .where('application_id', '=', applicationId)
        .execute()
    ).map((r) => [r.account_name, r]),
  );
  const rows: Database['unmatched_accounts'][] = [];
  for (const [name, m] of matches) {
    if (m.state !== 'orphan' && m.state !== 'ambiguous') continue;
    const candidates = JSON.stringify(m.state === 'ambiguous' ? m.candidates : []);
    const old = before.get(name);
    before.delete(name);
    if (old && old.state === m.state && old.candidates === candidates) continue;
    if (old) await tx.db.deleteFrom('unmatched_accounts').where('tenant_id', '=', tx.tenantId).where('application_id', '=', applicationId).where('account_name', '=', name).execute();
    rows.push({ tenant_id: tx.tenantId, application_id: applicationId, account_name: name, state: m.state, candidates, import_id: importId, first_seen_at: old?.first_seen_at ?? tx.now, updated_at: tx.now });
  }
  const gone = [...before.keys()];
  for (let j = 0; j < gone.length; j += CHUNK) {
    await tx.db
      .deleteFrom('unmatched_accounts')
      .where('tenant_id', '=', tx.tenantId)
      .where('application_id', '=', applicationId)
      .where('account_name', 'in', gone.slice(j, j + CHUNK))
      .execute();
  }
  for (let j = 0; j < rows.length; j += 500) await tx.db.insertInto('unmatched_accounts').values(rows.slice(j, j + 500)).execute();
}

/** Reads a stored diff back (to apply an approved held import). */
export async function loadStoredChanges(tx: WriteTx, importId: string, codes: GrantCodes): Promise<AccountChange[]> {
  const rows = await tx.db.selectFrom('import_changes').selectAll().where('tenant_id', '=', tx.tenantId).where('import_id', '=', importId).orderBy('seq').execute();
  const decode = (text: string) => (JSON.parse(text) as GrantRef[]).map((r) => codes.intern(r.permission, r.context));
  return rows.map((r) => {
    const match: AccountMatch | null =
      r.op === 'remove'
        ? null
        : r.match_state === 'matched' || r.match_state === 'linked'
          ? r.match_state === 'matched'
            ? { state: 'matched', identityId: r.identity_after ?? '', rule: (r.match_rule ?? 'employeeNumber') as 'employeeNumber' }
            : { state: 'linked', identityId: r.identity_after ?? '' }
          : r.match_state === 'ambiguous'
            ? { state: 'ambiguous', candidates: [] }
            : { state: r.match_state as 'orphan' | 'service' | 'ignored' };
    return {
      accountName: r.account_name,
      op: r.op as AccountChange['op'],
      match,
      identityBefore: r.identity_before,
      identityAfter: r.identity_after,
      statusBefore: r.status_before,
      statusAfter: r.status_after,
      grantsAdded: decode(r.grants_added),
      grantsRemoved: decode(r.grants_removed),
    };
  });
}

/** After an approved held import: orphan/ambiguous rows follow the applied changes. */
export async function updateUnmatchedFromChanges(tx: WriteTx, applicationId: string, importId: string, changes: AccountChange[]): Promise<void> {
  for (const c of changes) {
    await tx.db.deleteFrom('unmatched_accounts').where('tenant_id', '=', tx.tenantId).where('application_id', '=', applicationId).where('account_name', '=', c.accountName).execute();
    if (c.match && (c.match.state === 'orphan' || c.match.state === 'ambiguous')) {
      await tx.db
        .insertInto('unmatched_accounts')
        .values({
          tenant_id: tx.tenantId,
          application_id: applicationId,
          account_name: c.accountName,
          state: c.match.state,
          candidates: JSON.stringify(c.match.state === 'ambiguous' ? c.match.candidates : []),
          import_id: importId,
          first_seen_at: tx.now,
          updated_at: tx.now,
        })
        .execute();
    }
  }
}

export { identityOfMatch };
