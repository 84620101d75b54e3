import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * An SoD exception revoked before it expires (`POST /sod-exceptions/{id}/revoke`): when, by
 * whom and why. The row stays (it is the record of what was allowed until then); a revoked
 * exception no longer mitigates. Rows written before are not revoked (null).
 */
export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('sod_exceptions').addColumn('revoked_at', 'text').execute();
  await db.schema.alterTable('sod_exceptions').addColumn('revoked_by', 'text').execute();
  await db.schema.alterTable('sod_exceptions').addColumn('revoked_by_name', 'text').execute();
  await db.schema.alterTable('sod_exceptions').addColumn('revoker_identity_id', 'text').execute();
  await db.schema.alterTable('sod_exceptions').addColumn('revoke_reason', 'text').execute();
}

export async function down(db: Db): Promise<void> {
  for (const column of ['revoke_reason', 'revoker_identity_id', 'revoked_by_name', 'revoked_by', 'revoked_at']) {
    await db.schema.alterTable('sod_exceptions').dropColumn(column).execute();
  }
}
