/**
 * Import benchmark: a generated CSV of `--accounts` accounts with `--grants` grants each
 * (default 100,000 × 10 = 1,000,000 rows) imported into an empty application, then a
 * re-import with 1% of the accounts changed. Reports wall time, rows/s, the process's
 * peak RSS and CPU time for each, and the machine's load average (other work on it shows
 * as wall time well above CPU time). Identities for 90% of the accounts exist (matched by employee number).
 *
 *   npx tsx bench/imports.ts                       # SQLite in a temporary directory
 *   npx tsx bench/imports.ts --backend postgres    # a throwaway database on GRANTORY_TEST_DATABASE_URL's server
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import pg from 'pg';
import { systemActor, writeMeta } from '../src/services/kernel/index.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import { createServerSecrets, generateSecretKey } from '../src/domain/server-secrets.ts';
import { createServices } from '../src/services/index.ts';
import { setConnector, stageImport } from '../src/services/imports/index.ts';
import { createImportWorker } from '../src/jobs/import-worker.ts';
import { type Store } from '../src/store/store.ts';
import { openStore } from '../src/store/open.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const backend = args.get('backend') ?? 'sqlite';
const ACCOUNTS = Number(args.get('accounts') ?? 100_000);
const GRANTS = Number(args.get('grants') ?? 10);
const PERMISSIONS = 500;

async function writeCsv(path: string, changedEvery: number | null): Promise<number> {
  const out = createWriteStream(path);
  let rows = 0;
  const write = async (line: string) => {
    if (!out.write(line)) await once(out, 'drain');
  };
  await write('login,emp,mail,status,entitlement\n');
  for (let a = 0; a < ACCOUNTS; a += 1) {
    const changed = changedEvery !== null && a % changedEvery === 0;
    if (changed && a % (changedEvery * 2) === 0) continue; // half of the changed accounts are gone
    for (let g = 0; g < GRANTS; g += 1) {
      const perm = changed && g === 0 ? `perm-new-${a % 7}` : `perm-${(a * 7 + g * 13) % PERMISSIONS}`;
      await write(`user${a},E${a},user${a}@example.org,${changed ? 'disabled' : 'active'},${perm}\n`);
      rows += 1;
    }
  }
  out.end();
  await once(out, 'finish');
  return rows;
}

async function seedIdentities(store: Store, tenantId: string): Promise<void> {
  await store.write(tenantId, writeMeta(systemActor(tenantId, 'bench')), async (tx) => {
    for (let start = 0; start < ACCOUNTS * 0.9; start += 1000) {
      const rows = [];
      for (let a = start; a < Math.min(start + 1000, ACCOUNTS * 0.9); a += 1) {
        rows.push({
          id: randomUUID(),
          tenant_id: tenantId,
          number: 1_000_000 + a,
          subject: `bench:${a}`,
          username: null,
          email: `user${a}@example.org`,
          first_name: null,
          last_name: null,
          display_name: null,
          employee_number: `E${a}`,
          type: 'employee',
          status: 'active',
          manager_id: null,
          org_unit_id: null,
          attributes: '{}',
          created_at: tx.now,
          updated_at: tx.now,
          version: 1,
        });
      }
      await tx.db.insertInto('identities').values(rows).execute();
    }
    tx.audit({ action: 'bench.seed', targetType: 'tenant', targetId: tenantId, after: { identities: Math.floor(ACCOUNTS * 0.9) } });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'grantory-bench-'));
  let databaseUrl: string | undefined;
  let dbName: string | null = null;
  const pgUrl = process.env.GRANTORY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (backend === 'postgres') {
    dbName = `grantory_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const u = new URL(pgUrl);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  const store = await openStore({ dataDir: join(dir, 'data'), databaseUrl });
  try {
    await store.migrate();
    const secrets = createServerSecrets(generateSecretKey());
    const { tenantId } = await bootstrap(store, { adminKey: 'bench-admin-key-0123456789abcdefghijklmnop', secrets });
    const importDir = join(dir, 'imports');
    mkdirSync(join(importDir, 'bench'), { recursive: true });
    const services = createServices({ store, now: () => new Date(), secrets, imports: { importDir, uploadLimit: 1 << 30 } });
    const deps = services.deps;
    const actor = systemActor(tenantId, 'bench');
    const appId = randomUUID();
    await store.write(tenantId, writeMeta(actor), async (tx) => {
      await tx.db
        .insertInto('applications')
        .values({ id: appId, tenant_id: tenantId, number: await tx.nextNumber('applications'), name: 'Bench', kind: 'connected', description: null, owner_ids: '[]', priority: 'High', archived: 0, builtin: 0, connector: null, created_at: tx.now, updated_at: tx.now, version: 1 })
        .execute();
      tx.audit({ action: 'application.create', targetType: 'application', targetId: appId });
    });
    await setConnector(deps, actor, appId, {
      type: 'file',
      directory: 'bench',
      fileGroups: [{ name: 'grants', pattern: 'grants.csv', columns: { accountName: 'login', employeeNumber: 'emp', email: 'mail', accountStatus: 'status', permission: 'entitlement' } }],
      matching: ['employeeNumber', 'email'],
      unknownPermissions: 'create',
    });
    await seedIdentities(store, tenantId);
    const worker = createImportWorker({ deps, leaseMs: 600_000, failRunningOnStart: false });

    const load = () => loadavg().map((l) => l.toFixed(2)).join(' / ');
    const loadAtStart = load();
    const results: string[] = [];
    for (const [label, changedEvery] of [['initial import', null], ['re-import, 1% changed', 100]] as const) {
      const rows = await writeCsv(join(importDir, 'bench', 'grants.csv'), changedEvery);
      const { value } = await stageImport(deps, actor, { applicationId: appId }, 'Manual');
      const started = process.hrtime.bigint();
      const cpu0 = process.cpuUsage();
      // Claim through the worker's path, then time the processing itself.
      await worker.tick();
      await worker.idle();
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const cpu = process.cpuUsage(cpu0);
      const cpuS = (cpu.user + cpu.system) / 1e6;
      const { db } = store.read(tenantId);
      const row = await db.selectFrom('imports').select(['status', 'metrics', 'error', 'log']).where('id', '=', value.id).executeTakeFirstOrThrow();
      console.error((JSON.parse(row.log) as { message: string }[]).map((l) => `  ${l.message}`).join('\n'));
      if (row.status !== 'Finished') throw new Error(`${label}: ${row.status} ${row.error}`);
      const m = JSON.parse(row.metrics!) as Record<string, number>;
      const rss = process.resourceUsage().maxRSS / 1024;
      results.push(
        `| ${backend} | ${label} | ${rows.toLocaleString('en')} | ${(ms / 1000).toFixed(1)} s | ${Math.round(rows / (ms / 1000)).toLocaleString('en')} | ${rss.toFixed(0)} MB | ${cpuS.toFixed(1)} s | +${m.accountsAdded}/-${m.accountsRemoved}/~${m.accountsUpdated} accounts, +${m.grantsAdded}/-${m.grantsRemoved} grants |`,
      );
      console.error(results[results.length - 1]);
    }
    await worker.stop();
    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z`);
    console.log(`load average (1 / 5 / 15 min): ${loadAtStart} at the start, ${load()} at the end`);
    console.log('| backend | run | rows | wall time | rows/s | peak RSS | CPU time | result |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of results) console.log(r);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    if (dbName) {
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      await admin.query(`drop database if exists ${dbName} with (force)`);
      await admin.end();
    }
  }
}

await main();
