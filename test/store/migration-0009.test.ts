/**
 * Migration 0009 on a database written before it: the credentials' authorities filled from
 * `created_by` where they can be known, the right `manage-credentials-of-others` added to
 * the built-in application and its Admin role in an audited write that the change feed
 * carries to a running node, and the audit chain still verifying.
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessEngine } from '../../src/engine/engine.ts';
import { RIGHTS } from '../../src/domain/rights.ts';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { createApiKey } from '../../src/services/credentials/api-keys.ts';
import { verifyAuditTrail } from '../../src/services/audit/trail.ts';
import { createServices, type Services } from '../../src/services/index.ts';
import { createClient } from '../../src/services/credentials/oauth-clients.ts';
import { grantoryRights } from '../../src/services/access/rights.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { createApplication, createIdentityWithRights } from '../support/security-fixtures.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

const MIGRATION = '0009-credential-authority';
const RIGHT = 'manage-credentials-of-others';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const db = () => t.store.read(t.tenantId).db;

/** Services over the same database with an access index of their own (another node). */
function node(): { services: Services; engine: AccessEngine } {
  const engine = new AccessEngine(t.store, { clock: () => Date.now() });
  return { services: createServices({ ...t.services.deps, access: engine }), engine };
}

/** Makes the database look as it did before 0009: no authority columns, no new right. */
async function beforeMigration(): Promise<void> {
  const { id } = await db().selectFrom('permissions').select('id').where('tenant_id', '=', t.tenantId).where('name', '=', RIGHT).executeTakeFirstOrThrow();
  await db().deleteFrom('role_permissions').where('tenant_id', '=', t.tenantId).where('permission_id', '=', id).execute();
  await db().deleteFrom('permissions').where('tenant_id', '=', t.tenantId).where('id', '=', id).execute();
  await db().schema.dropIndex('audit_events_authority').execute();
  for (const table of ['api_keys', 'oauth_clients', 'audit_events']) await db().schema.alterTable(table).dropColumn('authority_id').execute();
}

/**
 * Runs migration 0009 as `grantory migrate` would (called directly: later migrations may have
 * run on the test's database, and the migrator runs migrations in order only).
 */
async function runMigration(): Promise<void> {
  await MIGRATIONS[MIGRATION]!.up(db() as unknown as Kysely<unknown>);
}

describe('migration 0009', () => {
  it('fills the authorities that created_by tells, adds the right to the Admin role (audited, on the change feed), and the chain verifies', async () => {
    const adminId = (await db().selectFrom('identities').select('id').where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow()).id;
    const bootstrapKey = (await db().selectFrom('api_keys').select('id').where('name', '=', 'bootstrap').executeTakeFirstOrThrow()).id;
    const u = await createIdentityWithRights(t.store, t.tenantId, 'm9:u', ['manage-clients']);
    const v = await createIdentityWithRights(t.store, t.tenantId, 'm9:v', ['read-audit']);
    const applicationId = await createApplication(t.store, t.tenantId, 'm9-app');
    const system = systemActor(t.tenantId);
    const key = async (identityId: string) => (await createApiKey(t.services.deps, system, { name: 'k', identityId })).key.id;
    const client = async (input: { identityId?: string | null; applicationId?: string }) => (await createClient(t.services.deps, system, { name: 'c', ...input })).client.id;

    // Who made what, as created_by recorded it before 0009.
    const made = {
      a: await key(u), // by the bootstrap key (acting as the administrator)
      b: await key(v), // by key a
      c: await client({ identityId: v }), // by key a
      d: await key(u), // by client c
      bySystem: await key(v),
      byDeleted: await key(v),
      byIdentity: await key(v), // by u signed in through the external issuer
      ku: await key(u),
      appClient: await client({ applicationId }), // by key ku
    };
    const createdBy: Record<string, string> = {
      a: bootstrapKey, b: made.a, c: made.a, d: made.c, bySystem: 'system', byDeleted: 'a-deleted-key', byIdentity: u, ku: 'system', appClient: made.ku,
    };
    for (const [name, creator] of Object.entries(createdBy)) {
      const table = name === 'c' || name === 'appClient' ? 'oauth_clients' : 'api_keys';
      await db().updateTable(table).set({ created_by: creator }).where('id', '=', made[name as keyof typeof made]).execute();
    }
    const permissionCounter = await db().selectFrom('counters').select('value').where('tenant_id', '=', t.tenantId).where('name', '=', 'permissions').executeTakeFirstOrThrow();
    await beforeMigration();

    const old = node();
    const adminRights = async (n: ReturnType<typeof node>) => [...(await grantoryRights(n.services.deps, t.tenantId, adminId, new Date().toISOString()))].sort();
    expect(await adminRights(old)).toEqual(RIGHTS.filter((r) => r !== RIGHT).sort());
    const head = await db().selectFrom('tenants').select(['revision', 'audit_seq']).where('id', '=', t.tenantId).executeTakeFirstOrThrow();

    await runMigration();

    const authorityOf = async (table: 'api_keys' | 'oauth_clients', id: string) =>
      (await db().selectFrom(table).select('authority_id').where('id', '=', id).executeTakeFirstOrThrow()).authority_id;
    expect({
      a: await authorityOf('api_keys', made.a),
      b: await authorityOf('api_keys', made.b),
      c: await authorityOf('oauth_clients', made.c),
      d: await authorityOf('api_keys', made.d),
      bySystem: await authorityOf('api_keys', made.bySystem),
      byDeleted: await authorityOf('api_keys', made.byDeleted),
      byIdentity: await authorityOf('api_keys', made.byIdentity),
      ku: await authorityOf('api_keys', made.ku),
      appClient: await authorityOf('oauth_clients', made.appClient),
      bootstrap: await authorityOf('api_keys', bootstrapKey),
    }).toEqual({ a: adminId, b: adminId, c: adminId, d: adminId, bySystem: null, byDeleted: null, byIdentity: u, ku: null, appClient: u, bootstrap: null });

    // The right: a permission of the built-in application, with the next number, in the Admin role.
    const permission = await db()
      .selectFrom('permissions')
      .innerJoin('applications', 'applications.id', 'permissions.application_id')
      .select(['permissions.id', 'permissions.number', 'applications.builtin'])
      .where('permissions.tenant_id', '=', t.tenantId)
      .where('permissions.name', '=', RIGHT)
      .executeTakeFirstOrThrow();
    expect(permission).toMatchObject({ builtin: 1, number: Number(permissionCounter.value) + 1 });
    const inAdmin = await db()
      .selectFrom('role_permissions')
      .innerJoin('roles', 'roles.id', 'role_permissions.role_id')
      .select('roles.name')
      .where('role_permissions.permission_id', '=', permission.id)
      .execute();
    expect(inAdmin).toEqual([{ name: 'Admin' }]);

    // One audited write: a new revision, two chained events, on the change feed.
    const events = await db().selectFrom('audit_events').selectAll().where('tenant_id', '=', t.tenantId).where('seq', '>', head.audit_seq).orderBy('seq').execute();
    expect(events.map((e) => [e.action, e.actor_type, e.actor_name, Number(e.revision)])).toEqual([
      ['permission.create', 'system', `migration ${MIGRATION}`, Number(head.revision) + 1],
      ['role.update', 'system', `migration ${MIGRATION}`, Number(head.revision) + 1],
    ]);
    const [verified] = await verifyAuditTrail(t.store);
    expect(verified).toMatchObject({ problem: null });

    // A node that was running follows the change feed; a node starting now reads it all.
    expect(await adminRights(old)).toEqual([...RIGHTS].sort());
    const fresh = node();
    expect(await adminRights(fresh)).toEqual([...RIGHTS].sort());
    expect([...(await fresh.services.authenticate(`Bearer ${t.adminKey}`)).rights].sort()).toEqual([...RIGHTS].sort());
    old.engine.stop();
    fresh.engine.stop();
  });
});
