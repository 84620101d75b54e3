import type { Kysely } from 'kysely';
import { identifierSkeleton } from '../../domain/identifiers.ts';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;
interface IdentityUsername {
  tenant_id: string;
  id: string;
  username: string;
}

const BATCH = 1000;

/**
 * Look-alike usernames (issue 12): each identity stores the confusables skeleton of its
 * username (src/domain/identifiers.ts), indexed per tenant, so that a new username that
 * looks like an existing one is found with one index lookup and refused.
 *
 * The index is not unique: usernames that already look alike (created before this check)
 * are kept as they are — refusing them here would stop the upgrade — and the service
 * refuses every new look-alike. That check is race-free because a tenant's writes are
 * serialized (store.write bumps the tenant's revision first). Changing the skeleton later
 * needs a migration that recomputes this column.
 */
export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('identities').addColumn('username_skeleton', 'text').execute();
  await db.schema.createIndex('identities_username_skeleton').on('identities').columns(['tenant_id', 'username_skeleton']).execute();
  const typed = db as unknown as Kysely<{ identities: IdentityUsername & { username_skeleton: string | null } }>;
  let after: { tenant_id: string; id: string } | null = null;
  for (;;) {
    let query = typed.selectFrom('identities').select(['tenant_id', 'id', 'username']).where('username', 'is not', null);
    if (after) {
      const { tenant_id, id } = after;
      query = query.where((eb) => eb.or([eb('tenant_id', '>', tenant_id), eb.and([eb('tenant_id', '=', tenant_id), eb('id', '>', id)])]));
    }
    const rows = await query.orderBy('tenant_id').orderBy('id').limit(BATCH).execute();
    for (const row of rows) {
      await typed
        .updateTable('identities')
        .set({ username_skeleton: identifierSkeleton(row.username) })
        .where('tenant_id', '=', row.tenant_id)
        .where('id', '=', row.id)
        .execute();
    }
    if (rows.length < BATCH) break;
    after = rows[rows.length - 1]!;
  }
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
