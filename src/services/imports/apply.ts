/**
 * The one transaction of an import: read the application's current accounts and grants,
 * compute the per-account diff against the observed snapshot, then — by the connector's
 * thresholds — hold it for a person, or store it (dry run), or store and apply it. The
 * application's accounts and grants change as one snapshot: every statement runs inside the
 * caller's `store.write`, so readers see the old state or the new one, and a crash leaves
 * the old one. Reads are chunked by account so memory stays bounded by the changes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
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

/** Current accounts of the application with their grants, in chunks of names. */
async function* currentAccounts(tx: WriteTx, applicationId: string, catalog: Catalog, codes: GrantCodes): AsyncGenerator<CurrentAccount[]> {
  let after: string | null = null;
  for (;;) {
    let q = tx.db
      .selectFrom('accounts')
      .select(['id', 'name', 'identity_id', 'status'])
      .where('tenant_id', '=', tx.tenantId)
      .where('application_id', '=', applicationId);
    if (after !== null) q = q.where('name', '>', after);
    const rows = await q.orderBy('name').limit(CHUNK).execute();
    if (!rows.length) return;
    after = rows[rows.length - 1]!.name;
    yield await withGrants(tx, rows, catalog, codes);
    if (rows.length < CHUNK) return;
  }
}

async function withGrants(
  tx: WriteTx,
  rows: { id: string; name: string; identity_id: string | null; status: string }[],
  catalog: Catalog,
  codes: GrantCodes,
): Promise<CurrentAccount[]> {
  const accounts = new Map<string, CurrentAccount>(
    rows.map((r) => [r.id, { id: r.id, name: r.name, identityId: r.identity_id, status: r.status, grants: new Map() }]),
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

/** Computes the diff, decides, and (unless held or a dry run) applies it. */
export async function decideAndApply(
  tx: WriteTx,
  importRow: Database['imports'],
  prepared: Prepared,
  options: { dryRun: boolean },
): Promise<Outcome> {
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
  if (dropped.size) for (const account of snapshot.accounts.values()) for (const code of dropped) account.grants.delete(code);

  // The diff, one chunk of current accounts at a time.
  const changes: AccountChange[] = [];
  const seen = new Set<string>();
  const current = { accounts: 0, grants: 0 };
  for await (const chunk of currentAccounts(tx, applicationId, catalog, codes)) {
    for (const account of chunk) {
      current.accounts += 1;
      current.grants += account.grants.size;
      seen.add(account.name);
      const observed = snapshot.accounts.get(account.name);
      const change = diffAccount(account, observed, observed ? (matches.get(account.name) ?? { state: 'orphan' }) : null);
      if (change) changes.push(change);
    }
  }
  for (const [name, observed] of snapshot.accounts) {
    if (seen.has(name)) continue;
    const change = diffAccount(undefined, observed, matches.get(name) ?? { state: 'orphan' });
    if (change) changes.push(change);
  }
  changes.sort((a, b) => (a.accountName < b.accountName ? -1 : a.accountName > b.accountName ? 1 : 0));
  for (const c of changes) countChange(metrics, c);

  const breach = thresholdBreach(connector.thresholds, { accounts: metrics.accountsRemoved, grants: metrics.grantsRemoved }, current);
  await storeChanges(tx, importRow.id, changes, codes);
  if (breach && options.dryRun) log.push({ time: tx.now, level: 'warn', message: `a real import would be held: ${breach}` });
  if (options.dryRun) return { kind: 'dry-run', metrics, heldReason: null, log, changedAccounts: changes.length };
  if (breach) {
    log.push({ time: tx.now, level: 'warn', message: `held for approval: ${breach}` });
    return { kind: 'held', metrics, heldReason: breach, log, changedAccounts: changes.length };
  }

  if (unknown.size && connector.unknownPermissions === 'create') await createPermissions(tx, applicationId, [...unknown].sort(), catalog);
  await applyChanges(tx, applicationId, importRow.id, changes, codes, catalog);
  await replaceUnmatched(tx, applicationId, importRow.id, matches);
  return { kind: 'applied', metrics, heldReason: null, log, changedAccounts: changes.length };
}

async function storeChanges(tx: WriteTx, importId: string, changes: AccountChange[], codes: GrantCodes): Promise<void> {
  await tx.db.deleteFrom('import_changes').where('tenant_id', '=', tx.tenantId).where('import_id', '=', importId).execute();
  const refs = (list: number[]): string => JSON.stringify(list.map((c) => codes.decode(c)));
  for (let i = 0; i < changes.length; i += 500) {
    await tx.db
      .insertInto('import_changes')
      .values(
        changes.slice(i, i + 500).map((c, j) => ({
          tenant_id: tx.tenantId,
          import_id: importId,
          seq: i + j + 1,
          account_name: c.accountName,
          op: c.op,
          match_state: c.match?.state ?? 'removed',
          match_rule: c.match?.state === 'matched' ? c.match.rule : null,
          identity_before: c.identityBefore,
          identity_after: c.identityAfter,
          status_before: c.statusBefore,
          status_after: c.statusAfter,
          grants_added: refs(c.grantsAdded),
          grants_removed: refs(c.grantsRemoved),
        })),
      )
      .execute();
  }
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

/**
 * Applies changes by account name. Accounts and grants are looked up again by name and
 * (permission, context), so a stored diff (an approved held import) applies the same way.
 */
export async function applyChanges(
  tx: WriteTx,
  applicationId: string,
  importId: string,
  changes: AccountChange[],
  codes: GrantCodes,
  catalog?: Catalog,
): Promise<void> {
  const cat = catalog ?? (await loadCatalog(tx, applicationId));
  const now = tx.now;
  for (let i = 0; i < changes.length; i += CHUNK) {
    const chunk = changes.slice(i, i + CHUNK);
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
    const existing = new Map((await withGrants(tx, rows, cat, codes)).map((a) => [a.name, a]));
    const versions = new Map(rows.map((r) => [r.id, r.version]));
    const grantRows: Database['grants'][] = [];
    const deleteGrantIds: string[] = [];
    const deleteAccountIds: string[] = [];
    const newAccounts: Database['accounts'][] = [];
    const addGrants = (accountId: string, list: number[]) => {
      for (const code of list) {
        const ref: GrantRef = codes.decode(code);
        const permissionId = cat.byName.get(ref.permission);
        if (!permissionId) continue;
        grantRows.push({
          id: timeOrderedId(),
          tenant_id: tx.tenantId,
          account_id: accountId,
          permission_id: permissionId,
          context_type: ref.context === null ? 'all' : 'object',
          context_id: ref.context,
          observed_at: now,
          import_id: importId,
        });
      }
    };
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
        newAccounts.push({
          id,
          tenant_id: tx.tenantId,
          application_id: applicationId,
          name: change.accountName,
          identity_id: change.identityAfter,
          status: change.statusAfter ?? 'active',
          observed_at: now,
          import_id: importId,
          created_at: now,
          updated_at: now,
          version: 1,
        });
        addGrants(id, change.grantsAdded);
        tx.change('account', id, 'create');
        continue;
      }
      await tx.db
        .updateTable('accounts')
        .set({
          identity_id: change.identityAfter,
          status: change.statusAfter ?? account.status,
          observed_at: now,
          import_id: importId,
          updated_at: now,
          version: (versions.get(account.id) ?? 1) + 1,
        })
        .where('tenant_id', '=', tx.tenantId)
        .where('id', '=', account.id)
        .execute();
      for (const code of change.grantsRemoved) {
        const grantId = account.grants.get(code);
        if (grantId) deleteGrantIds.push(grantId);
      }
      addGrants(
        account.id,
        change.grantsAdded.filter((code) => !account.grants.has(code)),
      );
      tx.change('account', account.id, 'update');
    }
    for (let j = 0; j < deleteGrantIds.length; j += CHUNK) {
      await tx.db.deleteFrom('grants').where('tenant_id', '=', tx.tenantId).where('id', 'in', deleteGrantIds.slice(j, j + CHUNK)).execute();
    }
    for (let j = 0; j < deleteAccountIds.length; j += CHUNK) {
      await tx.db.deleteFrom('accounts').where('tenant_id', '=', tx.tenantId).where('id', 'in', deleteAccountIds.slice(j, j + CHUNK)).execute();
    }
    for (let j = 0; j < newAccounts.length; j += 500) await tx.db.insertInto('accounts').values(newAccounts.slice(j, j + 500)).execute();
    for (let j = 0; j < grantRows.length; j += 1000) await tx.db.insertInto('grants').values(grantRows.slice(j, j + 1000)).execute();
  }
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
