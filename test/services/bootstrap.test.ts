/**
 * First-start setup survives what a first start can meet: a crash between creating the
 * tenant and seeding it, and two nodes starting at once on one database.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAuditTrail } from '../../src/services/audit/trail.ts';
import { ADMIN_SUBJECT, bootstrap, DEFAULT_TENANT } from '../../src/services/bootstrap.ts';
import { createServices } from '../../src/services/index.ts';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';
import { ADMIN_KEY, CONTRACT_BACKENDS, openTestStore, TEST_SECRET_KEY, type TestStore } from '../support/harness.ts';

const secrets = createServerSecrets(TEST_SECRET_KEY);
const adminKeyHash = secrets.hashCredential(ADMIN_KEY);

describe.each(CONTRACT_BACKENDS)('bootstrap on %s', (backend) => {
  let ts: TestStore;
  beforeEach(async () => {
    ts = await openTestStore(backend);
    await ts.store.migrate();
  });
  afterEach(async () => ts.dispose());

  async function summary() {
    const [tenant, ...others] = await ts.store.listTenants();
    const { db } = ts.store.read(tenant!.id);
    const admins = await db.selectFrom('identities').select('id').where('tenant_id', '=', tenant!.id).where('subject', '=', ADMIN_SUBJECT).execute();
    const keys = await db.selectFrom('api_keys').select('key_hash').where('tenant_id', '=', tenant!.id).execute();
    const [verified] = await verifyAuditTrail(ts.store);
    return { tenant: tenant!.name, otherTenants: others.length, admins: admins.length, keys: keys.map((k) => k.key_hash), problem: verified!.problem };
  }

  it('is idempotent: a second run changes nothing', async () => {
    const first = await bootstrap(ts.store, { adminKey: ADMIN_KEY, secrets });
    const revision = (await ts.store.findTenantByName(DEFAULT_TENANT))!.revision;
    const second = await bootstrap(ts.store, { adminKey: ADMIN_KEY, secrets });
    expect(first).toMatchObject({ createdTenant: true, generatedKey: null });
    expect(second).toEqual({ tenantId: first.tenantId, createdTenant: false, generatedKey: null });
    expect((await ts.store.findTenantByName(DEFAULT_TENANT))!.revision).toBe(revision);
    expect(await summary()).toEqual({ tenant: DEFAULT_TENANT, otherTenants: 0, admins: 1, keys: [adminKeyHash], problem: null });
  });

  it('seeds a tenant left unseeded by a start that stopped after creating it', async () => {
    await ts.store.createTenant(DEFAULT_TENANT, new Date().toISOString());
    const result = await bootstrap(ts.store, { adminKey: ADMIN_KEY, secrets });
    expect(result.createdTenant).toBe(false);
    expect(await summary()).toEqual({ tenant: DEFAULT_TENANT, otherTenants: 0, admins: 1, keys: [adminKeyHash], problem: null });
    const caller = await createServices({ store: ts.store, now: () => new Date(), secrets }).authenticate(`Bearer ${ADMIN_KEY}`);
    expect(caller.rights.size).toBeGreaterThan(0);
  });

  it('lets two nodes start at once: one tenant, one administrator, one key', async () => {
    const results = await Promise.all([bootstrap(ts.store, { adminKey: ADMIN_KEY, secrets }), bootstrap(ts.store, { adminKey: ADMIN_KEY, secrets })]);
    expect(results[0].tenantId).toBe(results[1].tenantId);
    expect(results.filter((r) => r.createdTenant)).toHaveLength(1);
    expect(await summary()).toEqual({ tenant: DEFAULT_TENANT, otherTenants: 0, admins: 1, keys: [adminKeyHash], problem: null });
  });
});
