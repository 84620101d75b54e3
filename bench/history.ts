/**
 * Point-in-time access after a long history. Usage:
 *
 *   node --import tsx bench/history.ts [sqlite|postgres] [--changes 1000000] [--per-write 100] [--identities 10000]
 *
 * Builds a directory and catalog (units in a tree, identities, one application of 500
 * permissions, 50 roles of 10 permissions each), then a history of `--changes` fact changes
 * written through the write protocol, `--per-write` per revision (each a write with its audit
 * event, change-feed entries and recorded fact versions): assignments created (to identities
 * and units, some with validity windows), paused, resumed and deleted, identities moved and
 * paused, roles edited, units moved. Then times, at random past instants:
 * `accessAt` (what `GET /access/at?identity=` runs) and `holdersAt` (`?permission=`, first
 * page of 100), p50/p99 of 200 and 50 calls. Reports the history's storage (the
 * `access_history_keys`, `_versions` and `_refs` tables, with indexes) per million changes and
 * per change by table, and the write cost. On PostgreSQL the tables are analyzed after the
 * history is written (as autovacuum would have done on a running server) and the bench's
 * schema is dropped at the end.
 * Prints a JSON summary with the load average (bench/results/).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createServerSecrets, generateSecretKey } from '../src/domain/server-secrets.ts';
import { AccessEngine } from '../src/engine/engine.ts';
import { accessAt, holdersAt } from '../src/services/access/index.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import { createServices } from '../src/services/index.ts';
import { systemActor } from '../src/services/kernel/index.ts';
import { openStore } from '../src/store/open.ts';
import type { Store, WriteTx } from '../src/store/store.ts';
import { rng } from './dataset.ts';

const backend = process.argv[2] === 'postgres' ? 'postgres' : 'sqlite';
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CHANGES = arg('--changes', 1_000_000);
const PER_WRITE = arg('--per-write', 100);
const IDENTITIES = arg('--identities', 10_000);
const UNITS = 200;
const PERMS = 500;
const ROLES = 50;

const HISTORY_TABLES = ['access_history_keys', 'access_history_versions', 'access_history_refs'] as const;

interface Bench {
  store: Store;
  /** Bytes of each history table, indexes included. */
  sizes: () => Promise<Record<string, number>>;
  /** What a running database has done by itself after a burst of writes (PostgreSQL: autovacuum's analyze). */
  settle: () => Promise<void>;
  dispose: () => Promise<void>;
}

async function open(): Promise<Bench> {
  if (backend === 'postgres') {
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    const store = await openStore({ databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', pgSchema: schema, dataDir: '' });
    const db = store.read('').db;
    const sizes = async () => {
      const out: Record<string, number> = {};
      for (const t of HISTORY_TABLES) out[t] = Number((await sql<{ n: string }>`select pg_total_relation_size(${`${schema}.${t}`})::text as n`.execute(db)).rows[0]!.n);
      return out;
    };
    const settle = async () => void (await sql`analyze`.execute(db));
    const dispose = async () => {
      await sql`drop schema ${sql.id(schema)} cascade`.execute(db);
      await store.close();
    };
    return { store, sizes, settle, dispose };
  }
  const dir = mkdtempSync(join(tmpdir(), 'grantory-history-bench-'));
  const store = await openStore({ dataDir: dir, sqliteSynchronous: 'NORMAL' });
  const sizes = async () => {
    const r = await sql<{ name: string; n: number }>`select name, sum(pgsize) as n from dbstat where name like 'access_history%' group by name`.execute(store.read('').db);
    const out: Record<string, number> = Object.fromEntries(HISTORY_TABLES.map((t) => [t, 0]));
    // Indexes are counted with their table (access_history_keys_id with access_history_keys).
    for (const row of r.rows) out[HISTORY_TABLES.find((t) => row.name.startsWith(t))!]! += Number(row.n);
    return out;
  };
  return { store, sizes, settle: async () => {}, dispose: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
}

const total = (sizes: Record<string, number>) => Object.values(sizes).reduce((a, b) => a + b, 0);

function stats(samples: number[]): { p50: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  const pick = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 100) / 100;
  return { p50: pick(0.5), p99: pick(0.99) };
}
const load1 = () => loadavg().map((x) => Math.round(x * 100) / 100);
const META = { actorType: 'system', actorId: null, actorName: 'history bench' } as const;

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadAtStart = load1();
  const { store, sizes, settle, dispose } = await open();
  try {
    await store.migrate();
    const secrets = createServerSecrets(generateSecretKey());
    const { tenantId } = await bootstrap(store, { adminKey: `bench-${randomBytes(16).toString('hex')}`, secrets });
    const r = rng(11);
    const int = (n: number) => Math.floor(r() * n);
    const write = (fn: (tx: WriteTx) => Promise<void>) =>
      store.write(tenantId, META, async (tx) => {
        tx.audit({ action: 'bench.history', targetType: 'bench', targetId: null });
        await fn(tx);
      });

    // Directory and catalog.
    const units: string[] = [];
    const identities: string[] = [];
    const perms: string[] = [];
    const roles: string[] = [];
    const appId = randomUUID();
    let t0 = performance.now();
    await write(async (tx) => {
      const now = tx.now;
      for (let u = 0; u < UNITS; u += 1) {
        const id = randomUUID();
        const parent = u === 0 ? null : units[Math.floor((u - 1) / 4)]!;
        await tx.db.insertInto('org_units').values({ id, tenant_id: tenantId, number: u + 1, name: `unit ${u}`, parent_id: parent, external_id: null, path: '/', created_at: now, updated_at: now, version: 1 }).execute();
        units.push(id);
        tx.change('org_unit', id, 'create');
      }
      await tx.db.insertInto('applications').values({ id: appId, tenant_id: tenantId, number: 1000, name: 'Ledger', kind: 'managed', description: null, owner_ids: '[]', priority: 'normal', archived: 0, builtin: 0, connector: null, created_at: now, updated_at: now, version: 1 }).execute();
      tx.change('application', appId, 'create');
      for (let p = 0; p < PERMS; p += 1) {
        const id = randomUUID();
        await tx.db.insertInto('permissions').values({ id, tenant_id: tenantId, number: 1000 + p, application_id: appId, name: `P${p}`, category: null, description: null, risk: 'low', requestable: 1, delegable: 1, created_at: now, updated_at: now, version: 1 }).execute();
        perms.push(id);
        tx.change('permission', id, 'create');
      }
      for (let k = 0; k < ROLES; k += 1) {
        const id = randomUUID();
        await tx.db.insertInto('roles').values({ id, tenant_id: tenantId, number: 1000 + k, name: `role ${k}`, description: null, system: 0, created_at: now, updated_at: now, version: 1 }).execute();
        await tx.db.insertInto('role_permissions').values(Array.from({ length: 10 }, (_, j) => ({ tenant_id: tenantId, role_id: id, permission_id: perms[(k * 10 + j) % PERMS]! }))).execute();
        roles.push(id);
        tx.change('role', id, 'create');
      }
    });
    for (let i = 0; i < IDENTITIES; i += 1000) {
      await write(async (tx) => {
        for (let j = i; j < Math.min(i + 1000, IDENTITIES); j += 1) {
          const id = randomUUID();
          await tx.db
            .insertInto('identities')
            .values({
              id,
              tenant_id: tenantId,
              number: 1000 + j,
              subject: `bench:${j}`,
              username: `u${j}`,
              username_skeleton: `u${j}`,
              email: null,
              first_name: null,
              last_name: null,
              display_name: null,
              employee_number: null,
              type: 'employee',
              status: 'active',
              manager_id: null,
              org_unit_id: units[int(UNITS)]!,
              attributes: '{}',
              created_at: tx.now,
              updated_at: tx.now,
              version: 1,
            })
            .execute();
          identities.push(id);
          tx.change('identity', id, 'create');
        }
      });
    }
    const setupSeconds = (performance.now() - t0) / 1000;
    console.error(`directory and catalog in ${setupSeconds.toFixed(1)} s`);

    // The history.
    const live: string[] = [];
    const instants: string[] = [];
    const sizesBefore = await sizes();
    t0 = performance.now();
    let done = 0;
    while (done < CHANGES) {
      await write(async (tx) => {
        const now = tx.now;
        for (let k = 0; k < PER_WRITE && done < CHANGES; k += 1, done += 1) {
          const dice = r();
          if (dice < 0.45 || live.length < 100) {
            const id = randomUUID();
            const toUnit = r() < 0.05;
            const role = r() < 0.5;
            const validTo = r() < 0.2 ? new Date(Date.now() + int(3_600_000)).toISOString() : null;
            await tx.db
              .insertInto('assignments')
              .values({
                id,
                tenant_id: tenantId,
                assignee_type: toUnit ? 'orgUnit' : 'identity',
                assignee_id: toUnit ? units[int(UNITS)]! : identities[int(IDENTITIES)]!,
                resource_type: role ? 'role' : 'permission',
                resource_id: role ? roles[int(ROLES)]! : perms[int(PERMS)]!,
                context_type: 'all',
                context_id: null,
                source: 'direct',
                state: 'active',
                valid_from: null,
                valid_to: validTo,
                delegated_from_id: null,
                delegator_id: null,
                rule_id: null,
                reason: null,
                created_by: null,
                created_at: now,
                updated_at: now,
                version: 1,
              })
              .execute();
            live.push(id);
            tx.change('assignment', id, 'create');
          } else if (dice < 0.7) {
            const id = live[int(live.length)]!;
            await tx.db.updateTable('assignments').set({ state: r() < 0.5 ? 'paused' : 'active' }).where('id', '=', id).execute();
            tx.change('assignment', id, 'update');
          } else if (dice < 0.88) {
            const at = int(live.length);
            const id = live[at]!;
            live[at] = live[live.length - 1]!;
            live.pop();
            await tx.db.deleteFrom('assignments').where('id', '=', id).execute();
            tx.change('assignment', id, 'delete');
          } else if (dice < 0.97) {
            const id = identities[int(IDENTITIES)]!;
            await tx.db.updateTable('identities').set(r() < 0.7 ? { org_unit_id: units[int(UNITS)]! } : { status: r() < 0.5 ? 'on_leave' : 'active' }).where('id', '=', id).execute();
            tx.change('identity', id, 'update');
          } else if (dice < 0.995) {
            const id = roles[int(ROLES)]!;
            await tx.db.deleteFrom('role_permissions').where('role_id', '=', id).execute();
            const chosen = [...new Set(Array.from({ length: 10 }, () => perms[int(PERMS)]!))];
            await tx.db.insertInto('role_permissions').values(chosen.map((permission_id) => ({ tenant_id: tenantId, role_id: id, permission_id }))).execute();
            tx.change('role', id, 'update');
          } else {
            // A unit of the lowest level moves under another unit of the level above it.
            const u = 41 + int(UNITS - 41);
            await tx.db.updateTable('org_units').set({ parent_id: units[1 + int(40)]! }).where('id', '=', units[u]!).execute();
            tx.change('org_unit', units[u]!, 'update');
          }
        }
        instants.push(now);
      });
      if (instants.length % 500 === 0) console.error(`${done} changes, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const historySeconds = (performance.now() - t0) / 1000;
    const sizesAfter = await sizes();
    const historyBytes = total(sizesAfter) - total(sizesBefore);
    const bytesPerChangeByTable = Object.fromEntries(HISTORY_TABLES.map((t) => [t, Math.round((sizesAfter[t]! - sizesBefore[t]!) / CHANGES)]));
    await settle();
    console.error(`history of ${CHANGES} changes in ${historySeconds.toFixed(1)} s, ${(historyBytes / 1e6).toFixed(0)} MB`);

    const access = new AccessEngine(store, { pollIntervalMs: 0 });
    await access.start();
    const services = createServices({ store, now: () => new Date(), secrets, access });
    const system = systemActor(tenantId);
    await new Promise((res) => setTimeout(res, 5));

    const identityMs: number[] = [];
    let held = 0;
    for (let k = 0; k < 200; k += 1) {
      const at = instants[int(instants.length)]!;
      const t1 = performance.now();
      const res = await accessAt(services.deps, system, { at, identity: identities[int(IDENTITIES)]! });
      identityMs.push(performance.now() - t1);
      held += res.items.length;
    }
    const holdersMs: number[] = [];
    let holderCount = 0;
    for (let k = 0; k < 50; k += 1) {
      const at = instants[int(instants.length)]!;
      const t1 = performance.now();
      const res = await holdersAt(services.deps, system, { at, permission: perms[int(PERMS)]!, limit: 100 });
      holdersMs.push(performance.now() - t1);
      holderCount += res.items.length;
    }
    access.stop();
    const summary = {
      backend,
      startedAt,
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
      loadAverage: { start: loadAtStart, end: load1() },
      identities: IDENTITIES,
      changes: CHANGES,
      perWrite: PER_WRITE,
      revisions: instants.length,
      historySeconds: Math.round(historySeconds * 10) / 10,
      historyBytes,
      bytesPerMillionChanges: Math.round((historyBytes / CHANGES) * 1e6),
      bytesPerChangeByTable,
      accessAtIdentityMs: stats(identityMs),
      meanPermissionsHeld: Math.round((held / 200) * 10) / 10,
      accessAtPermissionFirstPageMs: stats(holdersMs),
      meanHoldersOnFirstPage: Math.round((holderCount / 50) * 10) / 10,
    };
    console.log(JSON.stringify(summary, null, 2));
    mkdirSync(join('bench', 'results'), { recursive: true });
    writeFileSync(join('bench', 'results', `history-${CHANGES}-${backend}.json`), `${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await dispose();
  }
}

await main();
