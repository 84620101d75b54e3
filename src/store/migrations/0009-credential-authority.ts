import type { Kysely } from 'kysely';
import { grantNewRight, type RightTables } from './builtin-right.ts';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/** The columns this migration reads and writes, as they are at 0009. */
interface Tables extends RightTables {
  identities: { id: string; tenant_id: string };
  api_keys: { id: string; tenant_id: string; identity_id: string; created_by: string | null; authority_id: string | null };
  oauth_clients: { id: string; tenant_id: string; identity_id: string | null; created_by: string | null; authority_id: string | null };
}
type TypedDb = Kysely<Tables>;

const RIGHT = 'manage-credentials-of-others';
const DESCRIPTION = "Create API keys and OAuth clients that act as another identity (besides manage-clients); their rights stay capped by the creator's own";
const ACTOR_NAME = 'migration 0009-credential-authority';

/**
 * Credentials that act as someone else (issue 12).
 *
 * 1. `api_keys.authority_id` and `oauth_clients.authority_id`: the identity on whose
 *    authority a credential was made; its current rights cap the credential's. No foreign
 *    key: an authority that is deleted leaves its credentials with no right, rather than
 *    blocking the deletion or lifting the cap.
 * 2. `audit_events.authority_id`: who answers for an act when a credential acts for another
 *    identity (hashed only when set, so the existing chain verifies unchanged), indexed for
 *    the audit filter.
 * 3. The new right `manage-credentials-of-others` becomes a permission of every tenant's
 *    built-in `grantory` application and part of its system role `Admin`, in one audited
 *    write per tenant (revision, change feed, hash-chained events), as a service would.
 * 4. Existing credentials get the authority that can be known from `created_by`: the
 *    creating credential's own authority, else that credential's identity (recursively, so a
 *    chain of keys is answered for by its first identity); an identity id (a caller signed in
 *    through the external issuer) is that identity. Left null — not capped, as before —
 *    when it cannot be known: made by the system (`system`, or no creator: the bootstrap
 *    key), or by a credential that has since been deleted.
 */
export async function up(db: Db): Promise<void> {
  for (const table of ['api_keys', 'oauth_clients', 'audit_events']) {
    await db.schema.alterTable(table).addColumn('authority_id', 'text').execute();
  }
  await db.schema.createIndex('audit_events_authority').on('audit_events').columns(['tenant_id', 'authority_id', 'seq']).execute();

  const typed = db as unknown as TypedDb;
  const tenants = await typed.selectFrom('tenants').select('id').orderBy('id').execute();
  for (const { id } of tenants) await grantNewRight(db, id, { right: RIGHT, description: DESCRIPTION, actorName: ACTOR_NAME });
  await fillAuthorities(typed);
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}

interface Credential {
  table: 'api_keys' | 'oauth_clients';
  id: string;
  tenantId: string;
  identityId: string | null;
  createdBy: string | null;
}

/** Sets the authority of existing credentials where `created_by` tells it (see {@link up}). */
async function fillAuthorities(db: TypedDb): Promise<void> {
  const keys = await db.selectFrom('api_keys').select(['id', 'tenant_id', 'identity_id', 'created_by']).execute();
  const clients = await db.selectFrom('oauth_clients').select(['id', 'tenant_id', 'identity_id', 'created_by']).execute();
  const credentials: Credential[] = [
    ...keys.map((r) => ({ table: 'api_keys' as const, id: r.id, tenantId: r.tenant_id, identityId: r.identity_id, createdBy: r.created_by })),
    ...clients.map((r) => ({ table: 'oauth_clients' as const, id: r.id, tenantId: r.tenant_id, identityId: r.identity_id, createdBy: r.created_by })),
  ];
  const at = (tenantId: string, id: string) => `${tenantId}\u0000${id}`;
  const byId = new Map(credentials.map((c) => [at(c.tenantId, c.id), c]));

  // Creators that are no credential may be identities (callers of the external issuer).
  const identityCreators = new Set<string>();
  const candidates = credentials.filter((c) => c.createdBy !== null && c.createdBy !== 'system' && !byId.has(at(c.tenantId, c.createdBy)));
  for (let i = 0; i < candidates.length; i += 500) {
    const chunk = candidates.slice(i, i + 500);
    const found = await db
      .selectFrom('identities')
      .select(['tenant_id', 'id'])
      .where('id', 'in', chunk.map((c) => c.createdBy!))
      .execute();
    for (const r of found) identityCreators.add(at(r.tenant_id, r.id));
  }

  const memo = new Map<Credential, string | null>();
  const authorityOf = (c: Credential, path: Set<Credential>): string | null => {
    if (memo.has(c)) return memo.get(c)!;
    let authority: string | null = null;
    const creatorId = c.createdBy;
    if (creatorId !== null && creatorId !== 'system') {
      const creator = byId.get(at(c.tenantId, creatorId));
      if (creator && !path.has(creator)) authority = authorityOf(creator, new Set([...path, c])) ?? creator.identityId;
      else if (identityCreators.has(at(c.tenantId, creatorId))) authority = creatorId;
    }
    memo.set(c, authority);
    return authority;
  };
  for (const c of credentials) {
    const authority = authorityOf(c, new Set());
    if (authority !== null) await db.updateTable(c.table).set({ authority_id: authority }).where('tenant_id', '=', c.tenantId).where('id', '=', c.id).execute();
  }
}
