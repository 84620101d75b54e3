/**
 * Writing an import's diff: the application's accounts and grants change by account name,
 * in bulk (prepared statements on SQLite), and permissions new to the catalog are created.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AccessContext } from '../../domain/access.ts';
import type { AccountChange, GrantCodes, GrantRef } from '../../domain/import-diff.ts';
import type { Database } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import { systemActor } from '../kernel/index.ts';
import { checkObservedSod, linkedAccountGrants, refuseOrReport, sodNamedPermissions } from '../sod/index.ts';
import { bulkInsert } from './bulk.ts';
import { CHUNK, loadCatalog, withGrants, type Catalog, type ExistingAccount } from './current-accounts.ts';

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

export async function createPermissions(tx: WriteTx, applicationId: string, names: string[], catalog: Catalog): Promise<void> {
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
): Promise<{ applied: { id: string; name: string; version: number }[]; sodDetected: number }> {
  const cat = known.catalog ?? (await loadCatalog(tx, applicationId));
  const now = tx.now;
  const applied: { id: string; name: string; version: number }[] = [];
  // Grants newly observed for an identity, of permissions a separation-of-duties policy names (few: kept).
  const sodNamed = await sodNamedPermissions(tx);
  const observed = new Map<string, { permissionId: string; context: AccessContext }[]>();
  const observe = (identityId: string | null, list: Iterable<number>) => {
    if (!identityId || !sodNamed.size) return;
    for (const code of list) {
      const ref: GrantRef = codes.decode(code);
      const permissionId = cat.byName.get(ref.permission);
      if (!permissionId || !sodNamed.has(permissionId)) continue;
      (observed.get(identityId) ?? observed.set(identityId, []).get(identityId)!).push({ permissionId, context: ref.context === null ? { type: 'all', id: null } : { type: 'object', id: ref.context } });
    }
  };
  const relinked: { accountId: string; identityId: string }[] = [];
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
        observe(change.identityAfter, change.grantsAdded);
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
          .where('id', '=', account.id)
          .execute();
      }
      for (const code of change.grantsRemoved) {
        const grantId = account.grants.get(code);
        if (grantId) deleteGrantIds.push(grantId);
      }
      const added = change.grantsAdded.filter((code) => !account.grants.has(code));
      await addGrants(account.id, added);
      // An account newly linked to the identity brings the grants it kept, too. An account
      // whose grants were not read (the fingerprint showed them unchanged) is read below.
      if (change.identityAfter !== account.identityId && change.identityAfter) {
        if (account.grants.size) observe(change.identityAfter, [...account.grants.keys()].filter((code) => !change.grantsRemoved.includes(code)));
        else if (!change.grantsAdded.length && sodNamed.size) relinked.push({ accountId: account.id, identityId: change.identityAfter });
      }
      observe(change.identityAfter, added);
      tx.change('account', account.id, 'update');
      applied.push({ id: account.id, name: change.accountName, version });
    }
    await deleteByIds(tx, 'grants', deleteGrantIds);
    for (let j = 0; j < deleteAccountIds.length; j += CHUNK) {
      await tx.db.deleteFrom('import_fingerprints').where('account_id', 'in', deleteAccountIds.slice(j, j + CHUNK)).execute();
    }
    await deleteByIds(tx, 'accounts', deleteAccountIds);
  }
  await grantRows.end();
  await accountRows.end();
  for (const [identityId, grants] of await linkedAccountGrants(tx, relinked)) (observed.get(identityId) ?? observed.set(identityId, []).get(identityId)!).push(...grants);
  const conflicts = observed.size ? await checkObservedSod(tx, { now: () => new Date(tx.now) }, observed) : [];
  const reported = await refuseOrReport(tx, systemActor(tx.tenantId), conflicts, { mode: 'report', path: 'import', subject: { type: 'import', id: importId } });
  return { applied, sodDetected: reported.length };
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
  for (let j = 0; j < ids.length; j += CHUNK) await tx.db.deleteFrom(table).where('id', 'in', ids.slice(j, j + CHUNK)).execute();
}


/** The import log's line when observed grants break separation-of-duties policies. */
export function sodDetectedMessage(count: number): string {
  return `${count} separation-of-duties conflict(s) in the observed grants (with the identities' assigned access or each other): recorded as audit events sod.detected; an import reports what the application holds and is not refused`;
}
