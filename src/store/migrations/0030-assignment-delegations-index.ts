import { sql, type Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * The delegations made from an assignment, found by `delegated_from_id` alone (issue 20).
 *
 * `assignments.delegated_from_id` references `assignments.id`, so deleting an assignment
 * makes the database look for the assignments delegated from it — `where delegated_from_id
 * = ?`, without the tenant. The index of 0003 was `(tenant_id, delegated_from_id)`, which that
 * look-up cannot search: SQLite (no statistics) and PostgreSQL's foreign-key check read every
 * assignment of every tenant, once per assignment deleted, so each delete cost more as the
 * assignments grew: the cost that grew in the access-history bench's writes (0.35 ms a change
 * at the start, 4.7 ms after 1M changes; BENCHMARKS.md, "History writes as the history grows").
 *
 * Led by `delegated_from_id`, the index answers that look-up and the tenant's own
 * (`tenant_id = ? and delegated_from_id = ?`: both columns are in it). Partial: only
 * delegated assignments have a source, and `delegated_from_id = ?` implies it is not null,
 * so both databases use it for the look-up. (Grants' account index was turned round for the
 * same reason in 0007; test/store/foreign-key-indexes.test.ts now checks every foreign key.)
 */
export async function up(db: Db): Promise<void> {
  await db.schema.dropIndex('assignments_delegated_from').execute();
  await db.schema
    .createIndex('assignments_delegations')
    .on('assignments')
    .columns(['delegated_from_id', 'tenant_id'])
    .where(sql.ref('delegated_from_id'), 'is not', null)
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
