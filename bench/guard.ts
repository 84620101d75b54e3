/**
 * What the rights guard costs a write. Usage:
 *
 *   node --import tsx bench/guard.ts S|M|L [sqlite|postgres]
 *
 * Loads a seeded dataset (bench/dataset.ts), then times two writes — an identity update and
 * an assignment create — made by a `manage-users` caller (guarded) and by the system actor
 * (not guarded), first with the Grantory rights held only by the administrator, then with
 * a right given to a root unit (every member below it inherits it). Prints p50/p99 in ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServerSecrets, generateSecretKey } from '../src/domain/server-secrets.ts';
import type { Right } from '../src/domain/rights.ts';
import { systemActor, type Actor } from '../src/services/kernel/index.ts';
import { createAssignment } from '../src/services/access/index.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import { updateIdentity } from '../src/services/directory/index.ts';
import { createServices } from '../src/services/index.ts';
import { type Store } from '../src/store/store.ts';
import { openStore } from '../src/store/open.ts';
import { generate, idOf, load, SIZES } from './dataset.ts';

const size = (process.argv[2] ?? 'S') as keyof typeof SIZES;
const backend = process.argv[3] ?? 'sqlite';
const ROUNDS = 200;

async function open(): Promise<{ store: Store; dispose: () => Promise<void> }> {
  if (backend === 'postgres') {
    const store = await openStore({ databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', pgSchema: `bench_${randomBytes(4).toString('hex')}`, dataDir: '' });
    return { store, dispose: () => store.close() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'grantory-guard-bench-'));
  const store = await openStore({ dataDir: dir, sqliteSynchronous: 'NORMAL' });
  return { store, dispose: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
}

function stats(samples: number[]): { p50: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 100) / 100;
  return { p50: at(0.5), p99: at(0.99) };
}

async function main(): Promise<void> {
  const { store, dispose } = await open();
  try {
    await store.migrate();
    const secrets = createServerSecrets(generateSecretKey());
    const { tenantId } = await bootstrap(store, { adminKey: `bench-${randomBytes(16).toString('hex')}`, secrets });
    const d = generate(SIZES[size]);
    const started = Date.now();
    await load(store, tenantId, d);
    console.error(`loaded ${size} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const services = createServices({ store, now: () => new Date(), secrets });
    const system = systemActor(tenantId);
    const manager: Actor = { ...system, caller: { ...system.caller, kind: 'api_key', id: 'bench', name: 'bench', identityId: idOf.identity(0), rights: new Set<Right>(['manage-users']) } };
    const s = SIZES[size];
    let n = 0;
    const time = async (write: () => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < ROUNDS; i += 1) {
        const t0 = performance.now();
        await write();
        samples.push(performance.now() - t0);
      }
      return stats(samples);
    };
    const update = (actor: Actor) => () => updateIdentity(services.deps, actor, idOf.identity((n += 7919) % s.identities), { attributes: { title: `t${n}` } });
    const assign = (actor: Actor) => () =>
      createAssignment(services.deps, actor, { assignee: { type: 'identity', id: idOf.identity((n += 7919) % s.identities) }, resource: { type: 'permission', id: idOf.perm(n % s.permissions) } });
    const round = async () => ({
      identityUpdate: { guarded: await time(update(manager)), system: await time(update(system)) },
      assignmentCreate: { guarded: await time(assign(manager)), system: await time(assign(system)) },
    });
    const adminOnly = await round();
    // A right held through the root unit: every identity below inherits it.
    const readAudit = await store
      .read(tenantId)
      .db.selectFrom('permissions')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('name', '=', 'read-audit')
      .executeTakeFirstOrThrow();
    await createAssignment(services.deps, system, { assignee: { type: 'orgUnit', id: idOf.unit(0) }, resource: { type: 'permission', id: readAudit.id } });
    const rootUnitRight = await round();
    console.log(JSON.stringify({ size, backend, rounds: ROUNDS, unit: 'ms', adminOnly, rootUnitRight }, null, 2));
  } finally {
    await dispose();
  }
}

await main();
