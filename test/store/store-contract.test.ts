/**
 * The store contract, run on every backend of this run (SQLite always; PostgreSQL too on a
 * PostgreSQL run): migrations, tenants, the write protocol (revision, audit chain, change
 * feed, rollback), per-tenant counters, tenant isolation and unique-violation detection.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS_HASH, hashAuditEvent } from '../../src/domain/audit-chain.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { isUniqueViolation, type Store, type WriteMeta, type WriteTx } from '../../src/store/store.ts';
import { fromAuditRow } from '../../src/store/write-protocol.ts';
import { verifyAuditTrail } from '../../src/services/audit/trail.ts';
import { CONTRACT_BACKENDS, openTestStore, type TestStore } from '../support/harness.ts';

const META: WriteMeta = { actorType: 'system', actorId: null, actorName: 'store contract test' };
const NOW = '2026-11-25T10:00:00.000Z';
const ALL_MIGRATIONS = Object.keys(MIGRATIONS).sort();

/** Inserts a role named `name` and records it (audit event and change-feed entry). */
async function insertRole(tx: WriteTx, name: string): Promise<string> {
  const id = randomUUID();
  await tx.db
    .insertInto('roles')
    .values({
      id,
      tenant_id: tx.tenantId,
      number: await tx.nextNumber('roles'),
      name,
      description: null,
      system: 0,
      created_at: tx.now,
      updated_at: tx.now,
      version: 1,
    })
    .execute();
  tx.audit({ action: 'role.create', targetType: 'role', targetId: id, after: { name } });
  tx.change('role', id, 'create');
  return id;
}

async function roleNames(store: Store, tenantId: string): Promise<string[]> {
  const { db } = store.read(tenantId);
  const rows = await db.selectFrom('roles').select('name').where('tenant_id', '=', tenantId).orderBy('name').execute();
  return rows.map((r) => r.name);
}

async function auditRows(store: Store, tenantId: string) {
  const { db } = store.read(tenantId);
  return db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).orderBy('seq').execute();
}

async function revisionOf(store: Store, name: string): Promise<number> {
  const tenant = await store.findTenantByName(name);
  if (!tenant) throw new Error(`no tenant ${name}`);
  return Number(tenant.revision);
}

describe.each(CONTRACT_BACKENDS)('store contract on %s', (backend) => {
  describe('migrations', () => {
    let ts: TestStore;
    beforeEach(async () => {
      ts = await openTestStore(backend);
    });
    afterEach(async () => ts.dispose());

    it('lists every migration as pending on an empty database, applies them once, then none', async () => {
      expect(ALL_MIGRATIONS).toContain('0001-foundation');
      expect(await ts.store.pendingMigrations()).toEqual(ALL_MIGRATIONS);
      expect(await ts.store.migrate()).toEqual(ALL_MIGRATIONS);
      expect(await ts.store.pendingMigrations()).toEqual([]);
      expect(await ts.store.migrate()).toEqual([]);
      expect(await ts.store.listTenants()).toEqual([]);
    });
  });

  // One migrated store for these tests; each test gets two fresh tenants, which is what
  // isolates them (revision, audit chain, counters and change feed are all per tenant).
  describe('tenants and writes', () => {
    let ts: TestStore;
    let store: Store;
    let nameA: string;
    let nameB: string;
    let tenantA: string;
    let tenantB: string;
    let n = 0;
    beforeAll(async () => {
      ts = await openTestStore(backend);
      store = ts.store;
      await store.migrate();
    });
    afterAll(async () => ts.dispose());
    beforeEach(async () => {
      n += 1;
      nameA = `tenant-a-${n}`;
      nameB = `tenant-b-${n}`;
      tenantA = await store.createTenant(nameA, NOW);
      tenantB = await store.createTenant(nameB, NOW);
    });

    it('creates tenants at revision 0 and finds them by name', async () => {
      expect(tenantA).toMatch(/^[0-9a-f-]{36}$/);
      expect(tenantB).not.toBe(tenantA);
      expect(await store.findTenantByName(nameA)).toEqual({ id: tenantA, name: nameA, revision: 0 });
      expect(await store.findTenantByName('nobody')).toBeUndefined();
      const listed = await store.listTenants();
      expect(listed.filter((t) => t.name === nameA || t.name === nameB).sort((x, y) => x.name.localeCompare(y.name))).toEqual([
        { id: tenantA, name: nameA, revision: 0 },
        { id: tenantB, name: nameB, revision: 0 },
      ]);
    });

    it('refuses a second tenant of the same name as a unique violation', async () => {
      const error = await store.createTenant(nameA, NOW).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).not.toBeNull();
      expect(isUniqueViolation(error)).toBe(true);
    });

    it('bumps the revision by exactly one per write and returns it', async () => {
      const revisions: number[] = [];
      for (const name of ['r1', 'r2', 'r3']) {
        const { value, revision } = await store.write(tenantA, META, async (tx) => {
          expect(tx.revision).toBe(revisions.length + 1);
          expect(tx.tenantId).toBe(tenantA);
          return insertRole(tx, name);
        });
        expect(value).toMatch(/^[0-9a-f-]{36}$/);
        revisions.push(revision);
        expect(await revisionOf(store, nameA)).toBe(revision);
      }
      expect(revisions).toEqual([1, 2, 3]);
      expect(await revisionOf(store, nameB)).toBe(0);
    });

    it('appends audit events with seq 1..n, each linked to the previous hash', async () => {
      await store.write(tenantA, META, async (tx) => {
        await insertRole(tx, 'first');
        await insertRole(tx, 'second');
      });
      await store.write(tenantA, { ...META, actorType: 'api_key', actorId: 'k1', actorName: 'API key ci', requestId: 'req-1' }, async (tx) => {
        await insertRole(tx, 'third');
      });
      const rows = await auditRows(store, tenantA);
      expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3]);
      expect(rows.map((r) => Number(r.revision))).toEqual([1, 1, 2]);
      expect(rows.map((r) => r.action)).toEqual(['role.create', 'role.create', 'role.create']);
      expect(rows.map((r) => r.after)).toEqual(['{"name":"first"}', '{"name":"second"}', '{"name":"third"}']);
      expect(rows[2]).toMatchObject({ actor_type: 'api_key', actor_id: 'k1', actor_name: 'API key ci', request_id: 'req-1', before: null });
      expect(rows[0]!.prev_hash).toBe(GENESIS_HASH);
      expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);
      expect(rows[2]!.prev_hash).toBe(rows[1]!.hash);
      for (const row of rows) {
        const { hash, ...event } = fromAuditRow(row);
        expect(hashAuditEvent(event)).toBe(hash);
      }
      const { db } = store.read(tenantA);
      const head = await db.selectFrom('tenants').select(['audit_seq', 'audit_head_hash']).where('id', '=', tenantA).executeTakeFirstOrThrow();
      expect(Number(head.audit_seq)).toBe(3);
      expect(head.audit_head_hash).toBe(rows[2]!.hash);
    });

    it('records one change-feed entry per changed entity at the write revision', async () => {
      const { value: id } = await store.write(tenantA, META, async (tx) => {
        const roleId = await insertRole(tx, 'fed');
        // Recording the same entity twice in one write keeps one entry, with the last op.
        tx.change('role', roleId, 'update');
        return roleId;
      });
      const { db } = store.read(tenantA);
      const changes = await db.selectFrom('changes').selectAll().where('tenant_id', '=', tenantA).execute();
      expect(changes.map((c) => ({ ...c, revision: Number(c.revision) }))).toEqual([
        { tenant_id: tenantA, revision: 1, entity: 'role', entity_id: id, op: 'update' },
      ]);
    });

    it('reads the last commit from inside a write (committed), and the write sees its own changes', async () => {
      await store.write(tenantA, META, (tx) => insertRole(tx, 'before'));
      const seen = await store.write(tenantA, META, async (tx) => {
        await insertRole(tx, 'during');
        const committed = store.committed(tenantA);
        return { committed: await roleNames({ read: () => committed } as unknown as Store, tenantA), own: await roleNames({ read: () => tx } as unknown as Store, tenantA) };
      });
      expect(seen.value).toEqual({ committed: ['before'], own: ['before', 'during'] });
      // After the commit, the handle reads it; another tenant's rows are not in its scope.
      expect(await roleNames({ read: () => store.committed(tenantA) } as unknown as Store, tenantA)).toEqual(['before', 'during']);
      expect(store.committed(tenantB).tenantId).toBe(tenantB);
    });

    it('rolls back everything when the write throws: rows, revision, counters, audit', async () => {
      await store.write(tenantA, META, (tx) => insertRole(tx, 'kept'));
      const failure = new Error('the use case failed');
      await expect(
        store.write(tenantA, META, async (tx) => {
          await insertRole(tx, 'lost');
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await roleNames(store, tenantA)).toEqual(['kept']);
      expect(await revisionOf(store, nameA)).toBe(1);
      expect((await auditRows(store, tenantA)).map((r) => Number(r.seq))).toEqual([1]);
      const { db } = store.read(tenantA);
      expect((await db.selectFrom('changes').select('revision').where('tenant_id', '=', tenantA).execute()).map((c) => Number(c.revision))).toEqual([1]);
      // The failed write's number was rolled back too: the next one continues without a gap.
      const { value: number } = await store.write(tenantA, META, async (tx) => {
        tx.audit({ action: 'counter.test', targetType: 'counter', targetId: null });
        return tx.nextNumber('roles');
      });
      expect(number).toBe(2);
      const verified = (await verifyAuditTrail(store)).filter((v) => v.tenant === nameA || v.tenant === nameB);
      expect(verified.map((v) => [v.tenant, v.events, v.problem]).sort()).toEqual([
        [nameA, 2, null],
        [nameB, 0, null],
      ]);
    });

    it('refuses a write that records no audit event, and keeps nothing of it', async () => {
      await expect(
        store.write(tenantA, META, async (tx) => {
          await tx.db
            .insertInto('roles')
            .values({ id: randomUUID(), tenant_id: tenantA, number: 1, name: 'unaudited', description: null, system: 0, created_at: tx.now, updated_at: tx.now, version: 1 })
            .execute();
        }),
      ).rejects.toThrow('every write must record an audit event');
      expect(await roleNames(store, tenantA)).toEqual([]);
      expect(await revisionOf(store, nameA)).toBe(0);
      expect(await auditRows(store, tenantA)).toEqual([]);
    });

    it('refuses a write to a tenant that does not exist', async () => {
      await expect(store.write(randomUUID(), META, (tx) => insertRole(tx, 'orphan'))).rejects.toMatchObject({ code: 'not_found' });
    });

    it('hands out numbers per tenant and per name, without gaps', async () => {
      const { value: a } = await store.write(tenantA, META, async (tx) => {
        tx.audit({ action: 'counter.test', targetType: 'counter', targetId: null });
        return [await tx.nextNumber('roles'), await tx.nextNumber('roles'), await tx.nextNumber('identities'), await tx.nextNumber('roles')];
      });
      const { value: b } = await store.write(tenantB, META, async (tx) => {
        tx.audit({ action: 'counter.test', targetType: 'counter', targetId: null });
        return [await tx.nextNumber('roles'), await tx.nextNumber('identities')];
      });
      const { value: a2 } = await store.write(tenantA, META, async (tx) => {
        tx.audit({ action: 'counter.test', targetType: 'counter', targetId: null });
        return tx.nextNumber('roles');
      });
      expect(a).toEqual([1, 2, 1, 3]);
      expect(b).toEqual([1, 1]);
      expect(a2).toBe(4);
    });

    it("keeps tenants apart: a read scoped to one tenant never returns another's rows", async () => {
      await store.write(tenantA, META, async (tx) => {
        await insertRole(tx, 'shared-name');
        await insertRole(tx, 'only-a');
      });
      await store.write(tenantB, META, async (tx) => {
        // The same name in another tenant is not a conflict: uniqueness is per tenant.
        await insertRole(tx, 'shared-name');
      });
      expect(await roleNames(store, tenantA)).toEqual(['only-a', 'shared-name']);
      expect(await roleNames(store, tenantB)).toEqual(['shared-name']);
      const scopeB = store.read(tenantB);
      expect(scopeB.tenantId).toBe(tenantB);
      const bRoles = await scopeB.db.selectFrom('roles').select(['tenant_id', 'number']).where('tenant_id', '=', scopeB.tenantId).execute();
      expect(bRoles.map((r) => [r.tenant_id, Number(r.number)])).toEqual([[tenantB, 1]]);
      // Each tenant has its own revision, audit chain and change feed.
      expect(await revisionOf(store, nameA)).toBe(1);
      expect(await revisionOf(store, nameB)).toBe(1);
      expect((await auditRows(store, tenantA)).map((r) => [r.tenant_id, Number(r.seq)])).toEqual([[tenantA, 1], [tenantA, 2]]);
      expect((await auditRows(store, tenantB)).map((r) => [r.tenant_id, Number(r.seq), r.prev_hash])).toEqual([[tenantB, 1, GENESIS_HASH]]);
      const feedB = await scopeB.db.selectFrom('changes').select('tenant_id').where('tenant_id', '=', tenantB).execute();
      expect(feedB).toEqual([{ tenant_id: tenantB }]);
    });

    it('detects unique violations on this backend and nothing else', async () => {
      await store.write(tenantA, META, (tx) => insertRole(tx, 'unique-role'));
      const duplicate = await store.write(tenantA, META, (tx) => insertRole(tx, 'unique-role')).then(
        () => null,
        (e: unknown) => e,
      );
      expect(duplicate).not.toBeNull();
      expect(isUniqueViolation(duplicate)).toBe(true);
      const { db } = store.read(tenantA);
      const existing = await db.selectFrom('roles').select('id').where('tenant_id', '=', tenantA).executeTakeFirstOrThrow();
      const samePrimaryKey = await store
        .write(tenantA, META, async (tx) => {
          await tx.db
            .insertInto('roles')
            .values({ id: existing.id, tenant_id: tenantA, number: 99, name: 'other', description: null, system: 0, created_at: tx.now, updated_at: tx.now, version: 1 })
            .execute();
        })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(isUniqueViolation(samePrimaryKey)).toBe(true);
      const foreignKey = await store
        .write(tenantA, META, async (tx) => {
          await tx.db
            .insertInto('role_permissions')
            .values({ tenant_id: tenantA, role_id: existing.id, permission_id: 'no-such-permission' })
            .execute();
          tx.audit({ action: 'role.update', targetType: 'role', targetId: existing.id });
        })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(foreignKey).not.toBeNull();
      expect(isUniqueViolation(foreignKey)).toBe(false);
      expect(isUniqueViolation(new Error('boom'))).toBe(false);
      expect(isUniqueViolation(undefined)).toBe(false);
      expect(await revisionOf(store, nameA)).toBe(1);
    });

    it('serializes concurrent writes of one tenant: distinct consecutive revisions, an intact chain', async () => {
      const count = 20;
      const results = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          store.write(tenantA, META, async (tx) => {
            await insertRole(tx, `concurrent-${i}`);
            return tx.revision;
          }),
        ),
      );
      const revisions = results.map((r) => r.revision).sort((x, y) => x - y);
      expect(revisions).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      // Each write saw the revision it committed as.
      for (const r of results) expect(r.value).toBe(r.revision);
      expect(await revisionOf(store, nameA)).toBe(count);
      const rows = await auditRows(store, tenantA);
      expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      expect(rows.map((r) => Number(r.revision))).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      const { db } = store.read(tenantA);
      const numbers = await db.selectFrom('roles').select('number').where('tenant_id', '=', tenantA).orderBy('number').execute();
      expect(numbers.map((n) => Number(n.number))).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      const verification = await verifyAuditTrail(store);
      expect(verification.find((v) => v.tenant === nameA)).toMatchObject({ events: count, problem: null, headHash: rows[count - 1]!.hash });
    });
  });
});
