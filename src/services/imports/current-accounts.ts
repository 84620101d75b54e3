/**
 * What an import compares against: the application's current accounts (with the fingerprint
 * of the grants the last import left them), their grants, and the catalog's permission names.
 * Reads run in the import's write transaction and are chunked by account.
 */
import { createHash } from 'node:crypto';
import type { CurrentAccount, GrantCodes } from '../../domain/import-diff.ts';
import type { WriteTx } from '../../store/store.ts';

export const CHUNK = 1000;

export interface Catalog {
  byName: Map<string, string>;
  nameById: Map<string, string>;
}

export async function loadCatalog(tx: WriteTx, applicationId: string): Promise<Catalog> {
  const rows = await tx.db.selectFrom('permissions').select(['id', 'name']).where('application_id', '=', applicationId).execute();
  return { byName: new Map(rows.map((r) => [r.name, r.id])), nameById: new Map(rows.map((r) => [r.id, r.name])) };
}

const grantContext = (g: { context_type: string; context_id: string | null }): string | null => (g.context_type === 'object' ? g.context_id : null);

export interface CurrentRow {
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
export async function* currentAccountRows(tx: WriteTx, applicationId: string): AsyncGenerator<CurrentRow[]> {
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
      .where('accounts.application_id', '=', applicationId);
    if (after !== null) q = q.where('accounts.name', '>', after);
    const rows: CurrentRow[] = await q.orderBy('accounts.name').limit(5 * CHUNK).execute();
    if (!rows.length) return;
    after = rows[rows.length - 1]!.name;
    yield rows;
    if (rows.length < 5 * CHUNK) return;
  }
}

export async function withGrants(
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
export interface ExistingAccount extends CurrentAccount {
  version: number;
}

/**
 * The fingerprint of a set of grants: SHA-256 over the sorted (permission id, context)
 * pairs. Ids, not names: a renamed permission changes the fingerprint. Null when a
 * permission is not in the catalog yet (such an account is compared in full).
 */
export class GrantFingerprints {
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
    .where('application_id', '=', applicationId)
    .executeTakeFirstOrThrow();
  return `${Number(row.n)}:${Number(row.versions ?? 0)}:${row.updated ?? ''}`;
}
