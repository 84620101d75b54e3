/**
 * Migration 0023 on a database written before it: the right `manage-reviews` added to the
 * built-in application and its Admin role in one audited write that the change feed carries
 * to a running node and that the access history records; the tenants' history-horizon columns
 * added; a second run adds no second right; the audit chain still verifies.
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessEngine } from '../../src/engine/engine.ts';
import { RIGHTS } from '../../src/domain/rights.ts';
import { verifyAuditTrail } from '../../src/services/audit/trail.ts';
import { createServices, type Services } from '../../src/services/index.ts';
import { grantoryRights } from '../../src/services/access/rights.ts';
import { createHistoryV1Tables, seedFactsV1, type HistoryV1Tables } from '../../src/store/migrations/history-v1.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

const MIGRATION = '0023-review-rights-history-horizon';
const RIGHT = 'manage-reviews';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const db = () => t.store.read(t.tenantId).db;

function node(): { services: Services; engine: AccessEngine } {
  const engine = new AccessEngine(t.store, { clock: () => Date.now() });
  return { services: createServices({ ...t.services.deps, access: engine }), engine };
}

/** The history's tables as they were then (0019, before 0027 made them compact). */
const v1 = () => db() as unknown as Kysely<HistoryV1Tables>;

/**
 * Makes the database look as it did before 0023: no such permission, no history horizon, and
 * the access history in the tables of 0019, recorded from the current revision.
 */
async function beforeMigration(): Promise<void> {
  for (const column of ['history_from_rev', 'history_from_time']) await db().schema.alterTable('tenants').dropColumn(column).execute();
  const { id } = await db().selectFrom('permissions').select('id').where('tenant_id', '=', t.tenantId).where('name', '=', RIGHT).executeTakeFirstOrThrow();
  await db().deleteFrom('role_permissions').where('tenant_id', '=', t.tenantId).where('permission_id', '=', id).execute();
  await db().deleteFrom('permissions').where('tenant_id', '=', t.tenantId).where('id', '=', id).execute();
  await createHistoryV1Tables(db() as unknown as Kysely<unknown>);
  const { revision } = await db().selectFrom('tenants').select('revision').where('id', '=', t.tenantId).executeTakeFirstOrThrow();
  await seedFactsV1(db() as unknown as Kysely<unknown>, t.tenantId, Number(revision), new Date().toISOString());
}

const runMigration = () => MIGRATIONS[MIGRATION]!.up(db() as unknown as Kysely<unknown>);

describe('migration 0023', () => {
  it('adds manage-reviews to the Admin role in one audited write, recorded in the access history; running it again changes nothing', async () => {
    const adminId = (await db().selectFrom('identities').select('id').where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow()).id;
    await beforeMigration();
    const old = node();
    const adminRights = async (n: ReturnType<typeof node>) => [...(await grantoryRights(n.services.deps, t.tenantId, adminId, new Date().toISOString()))].sort();
    expect(await adminRights(old)).toEqual(RIGHTS.filter((r) => r !== RIGHT).sort());
    const head = await db().selectFrom('tenants').select(['revision', 'audit_seq']).where('id', '=', t.tenantId).executeTakeFirstOrThrow();
    const revision = Number(head.revision) + 1;

    await runMigration();

    const permission = await db().selectFrom('permissions').select(['id', 'description']).where('tenant_id', '=', t.tenantId).where('name', '=', RIGHT).executeTakeFirstOrThrow();
    const admin = await db().selectFrom('roles').select('id').where('tenant_id', '=', t.tenantId).where('name', '=', 'Admin').executeTakeFirstOrThrow();
    const events = await db().selectFrom('audit_events').selectAll().where('tenant_id', '=', t.tenantId).where('seq', '>', head.audit_seq).orderBy('seq').execute();
    expect(events.map((e) => [e.action, e.actor_name, Number(e.revision)])).toEqual([
      ['permission.create', `migration ${MIGRATION}`, revision],
      ['role.update', `migration ${MIGRATION}`, revision],
    ]);
    const feed = await db().selectFrom('changes').select(['entity', 'entity_id']).where('tenant_id', '=', t.tenantId).where('revision', '=', revision).orderBy('entity').execute();
    expect(feed).toEqual([
      { entity: 'permission', entity_id: permission.id },
      { entity: 'role', entity_id: admin.id },
    ]);
    // The history records both facts' new versions at that revision (the Admin role's previous version closed).
    const versions = await v1().selectFrom('access_facts').select(['entity', 'entity_id', 'to_rev']).where('tenant_id', '=', t.tenantId).where('from_rev', '=', revision).orderBy('entity').execute();
    expect(versions.map((v) => [v.entity, v.entity_id, v.to_rev])).toEqual([
      ['permission', permission.id, null],
      ['role', admin.id, null],
    ]);
    const closed = await v1().selectFrom('access_facts').select('from_rev').where('tenant_id', '=', t.tenantId).where('entity', '=', 'role').where('entity_id', '=', admin.id).where('to_rev', '=', revision).execute();
    expect(closed).toHaveLength(1);
    const [verified] = await verifyAuditTrail(t.store);
    expect(verified).toMatchObject({ problem: null });

    expect(await adminRights(old)).toEqual([...RIGHTS].sort());
    const fresh = node();
    expect(await adminRights(fresh)).toEqual([...RIGHTS].sort());

    // The horizon columns exist again, empty (nothing pruned).
    expect(await db().selectFrom('tenants').select(['history_from_rev', 'history_from_time']).where('id', '=', t.tenantId).executeTakeFirstOrThrow()).toEqual({ history_from_rev: null, history_from_time: null });
    await db().schema.alterTable('tenants').dropColumn('history_from_rev').execute();
    await db().schema.alterTable('tenants').dropColumn('history_from_time').execute();
    await runMigration();
    const after = await db().selectFrom('tenants').select(['revision', 'audit_seq']).where('id', '=', t.tenantId).executeTakeFirstOrThrow();
    expect([Number(after.revision), Number(after.audit_seq)]).toEqual([revision, Number(head.audit_seq) + 2]);
    old.engine.stop();
    fresh.engine.stop();
    await db().schema.dropTable('access_fact_refs').execute();
    await db().schema.dropTable('access_facts').execute();
  });
});
