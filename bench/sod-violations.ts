/**
 * Separation of duties on a seeded dataset. Usage:
 *
 *   node --expose-gc --import tsx bench/sod-violations.ts S|M|L [sqlite|postgres] [--policies 50] [--first-page | --no-all-pages]
 *
 * Loads the dataset (bench/dataset.ts), builds the access index, creates the policies (each:
 * two sets of two roles and one permission, drawn with a seeded generator, every third one
 * `require_exception`), then times `listSodViolations` — what `GET /api/v1/sod-violations`
 * runs — for the first page (500) and for every page, cold (first call) and warm (p50 of 5),
 * and a direct assignment's write with the in-write SoD check (p50/p99 of 200, with the
 * policies and with none touching the assigned resource). Prints a JSON summary with the
 * load average at start and end (bench/results/).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAssignment } from '../src/services/access/index.ts';
import { createServices } from '../src/services/index.ts';
import { systemActor } from '../src/services/kernel/index.ts';
import { listSodViolations } from '../src/services/sod/index.ts';
import { loadAverage, loadBenchTenant, machine, openBenchStore, percentiles, seedSodPolicies } from './common.ts';
import { idOf, SIZES } from './dataset.ts';

const size = (process.argv[2] ?? 'S') as keyof typeof SIZES;
const backend = process.argv[3] === 'postgres' ? 'postgres' : 'sqlite';
const at = process.argv.indexOf('--policies');
const POLICIES = at > 0 ? Number(process.argv[at + 1]) : 50;

const stats = percentiles;
const load1 = loadAverage;

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadAtStart = load1();
  const { store, dispose, cache } = await openBenchStore(backend, 'sod', { dataset: size });
  try {
    const { tenantId, secrets, access, loadSeconds, indexSeconds } = await loadBenchTenant(store, size, cache);
    const s = SIZES[size];
    const services = createServices({ store, now: () => new Date(), secrets, access });
    const system = systemActor(tenantId);

    await seedSodPolicies(services.deps, system, s, POLICIES);
    await access.syncNow(tenantId);

    const firstPage = async () => listSodViolations(services.deps, system, { limit: 500 });
    const allPages = async () => {
      let cursor: string | undefined;
      let count = 0;
      do {
        const page = await listSodViolations(services.deps, system, { limit: 500, cursor });
        count += page.items.length;
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      return count;
    };
    const timed = async <T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> => {
      const start = performance.now();
      const value = await fn();
      return { ms: Math.round((performance.now() - start) * 10) / 10, value };
    };
    const cold = await timed(firstPage);
    const warm: number[] = [];
    for (let i = 0; i < 5; i += 1) warm.push((await timed(firstPage)).ms);
    // --first-page: skip paging through every violation and the write timings.
    if (process.argv.includes('--first-page')) {
      console.log(JSON.stringify({ size, coldMs: cold.ms, warmP50Ms: stats(warm).p50 }));
      return;
    }
    // --no-all-pages: skip paging through every violation (the write timings still run).
    const every = process.argv.includes('--no-all-pages') ? { ms: NaN, value: NaN } : await timed(allPages);

    // A direct assignment with the in-write check: resources the policies name, and others.
    const named = new Set<string>();
    const policyRows = await store.read(tenantId).db.selectFrom('sod_policies').select('conflicting').execute();
    for (const p of policyRows) for (const set of JSON.parse(p.conflicting) as { type: string; id: string }[][]) for (const x of set) named.add(x.id);
    const namedRoles = [...named].filter((id) => id.startsWith('r-'));
    let refused = 0;
    let n = 0;
    const assign = async (touching: boolean) => {
      const samples: number[] = [];
      for (let i = 0; i < 200; i += 1) {
        n += 7919;
        const resource = touching ? { type: 'role' as const, id: namedRoles[n % namedRoles.length]! } : { type: 'permission' as const, id: idOf.perm(n % s.permissions) };
        const start = performance.now();
        try {
          await createAssignment(services.deps, system, { assignee: { type: 'identity', id: idOf.identity(n % s.identities) }, resource });
        } catch {
          refused += 1;
        }
        samples.push(performance.now() - start);
      }
      return stats(samples);
    };
    const assignTouching = namedRoles.length ? await assign(true) : null;
    const assignOther = await assign(false);

    const summary = {
      bench: 'sod-violations',
      size,
      backend,
      policies: POLICIES,
      startedAt,
      machine: machine(),
      loadAverage: { start: loadAtStart, end: load1() },
      datasetLoadSeconds: Math.round(loadSeconds),
      indexBuildSeconds: Math.round(indexSeconds * 10) / 10,
      violationsFirstPage: { coldMs: cold.ms, warmP50Ms: stats(warm).p50, items: cold.value.items.length },
      violationsAllPages: { ms: every.ms, violations: every.value },
      createAssignmentWithSodCheck: { namingPolicyResources: assignTouching, otherResources: assignOther, refusedBySod: refused },
    };
    console.log(JSON.stringify(summary, null, 2));
    mkdirSync(join('bench', 'results'), { recursive: true });
    writeFileSync(join('bench', 'results', `sod-violations-${size}-${backend}${POLICIES === 50 ? '' : `-${POLICIES}-policies`}.json`), `${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await dispose();
  }
}

await main();
