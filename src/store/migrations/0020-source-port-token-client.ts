import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * - `audit_events.source_port`: the caller's TCP source port on each audit event (the
 *   Celonis audit item's `port`, OCSF `src_endpoint.port`). Events written before stay null,
 *   and a null port is left out of the chain hash (src/domain/audit-chain.ts), so they keep
 *   verifying.
 * - `sessions.client_id`: the OAuth client (its row id) a password-grant token was issued
 *   to, so the token acts for that client's application (CoreOne `/myapplication`). No
 *   foreign key: a token whose client was deleted is refused when presented.
 */
export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('audit_events').addColumn('source_port', 'integer').execute();
  await db.schema.alterTable('sessions').addColumn('client_id', 'text').execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('client_id').execute();
  await db.schema.alterTable('audit_events').dropColumn('source_port').execute();
}
