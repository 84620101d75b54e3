import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import { grantNewRight } from './builtin-right.ts';
import { recordFactsV1 } from './history-v1.ts';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * 1. The right `manage-reviews` (docs/access-reviews.md): who creates, starts, closes and
 * schedules access-review campaigns and reads every review item. Until now campaigns were
 * run by the holders of `approve-requests`. The right becomes a permission of every tenant's
 * built-in `grantory` application and part of its system role `Admin`, in one audited write
 * per tenant that also records the changed facts' history (docs/history.md), as a service
 * write would. Holders of `approve-requests` who ran campaigns need the new right granted.
 * 2. The horizon of a tenant's access history (docs/history.md, retention): the first
 *    revision and instant still answered exactly once older versions have been pruned
 *    (`history_from_rev`, `history_from_time`; null: nothing pruned).
 */
export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('tenants').addColumn('history_from_rev', 'bigint').execute();
  await db.schema.alterTable('tenants').addColumn('history_from_time', 'text').execute();
  const tenants = await (db as unknown as Kysely<Database>).selectFrom('tenants').select('id').orderBy('id').execute();
  for (const { id } of tenants) {
    await grantNewRight(db, id, {
      right: 'manage-reviews',
      description: 'Create, start, close and schedule access-review campaigns and read every review item',
      actorName: 'migration 0023-review-rights-history-horizon',
      afterWrite: recordFactsV1,
    });
  }
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
