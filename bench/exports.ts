/**
 * Export and delivery benchmark.
 *
 * 1. Whole-tenant effective-permission export (`GET /api/v1/exports/effective-permissions`)
 *    of a generated dataset (bench/dataset.ts, S, M or L) over a real HTTP connection, as
 *    NDJSON and CSV: rows/s, time to first byte, and the server's RSS before and during the
 *    export (sampled every 20 ms; the access index is built before). The client is another
 *    process.
 * 2. Webhook delivery throughput: `--events` audit events delivered to a local receiver
 *    (a separate process answering 204) by the delivery job's pass, signed per Standard
 *    Webhooks: events/s.
 *
 * Reports wall and CPU time (process.cpuUsage) and the load average, so contention shows.
 *
 *   node --expose-gc --import tsx bench/exports.ts M
 *   node --expose-gc --import tsx bench/exports.ts L --events 20000
 */
import { fork, type ChildProcess } from 'node:child_process';
import { request, createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { generate, load, SIZES } from './dataset.ts';
import { buildApp } from '../src/api/app.ts';
import { createServerSecrets, generateSecretKey } from '../src/domain/server-secrets.ts';
import { AccessEngine } from '../src/engine/engine.ts';
import { systemActor, writeMeta } from '../src/services/kernel/index.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import { DEFAULT_DELIVERY_OPTIONS, deliverPending, createEventSink } from '../src/services/audit/index.ts';
import { createServices } from '../src/services/index.ts';
import { openStore } from '../src/store/open.ts';

// The helper process (a child of this file): the webhook receiver, answering every POST with
// 204, and the export client, so that neither shares the server's event loop or memory.
if (process.argv[2] === '--helper') {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.statusCode = 204;
      res.end();
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ receiverPort: (server.address() as { port: number }).port }));
  process.on('message', (m: { port: number; path: string; key: string }) => {
    void fetchExport(m.port, m.path, m.key).then((r) => process.send?.(r), (e: unknown) => process.send?.({ error: String(e) }));
  });
  process.on('disconnect', () => server.close());
}

/** GETs an export, counting lines; times the first body byte and the end. */
async function fetchExport(port: number, path: string, key: string): Promise<{ ttfbMs: number; wallMs: number; lines: number; bytes: number }> {
  const started = process.hrtime.bigint();
  let ttfbMs = -1;
  let lines = 0;
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${key}` } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`export answered ${res.statusCode}`));
      res.on('data', (chunk: Buffer) => {
        if (ttfbMs < 0) ttfbMs = Number(process.hrtime.bigint() - started) / 1e6;
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
      });
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  return { ttfbMs, wallMs: Number(process.hrtime.bigint() - started) / 1e6, lines, bytes };
}

const ADMIN_KEY = 'bench-admin-key-0123456789abcdefghijklmnop';
const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
const load1 = () => loadavg().map((l) => l.toFixed(1)).join(' / ');
const gc = () => (globalThis as { gc?: () => void }).gc?.();

interface ExportResult {
  format: string;
  space: string;
  rows: number;
  bytes: number;
  ttfbMs: number;
  wallS: number;
  cpuS: number;
  rssBefore: number;
  rssPeak: number;
  load: string;
}

/** One export over HTTP, fetched by the helper process; this process's RSS is sampled every 20 ms. */
async function timeExport(helper: ChildProcess, port: number, format: 'ndjson' | 'csv', space: string, filter = ''): Promise<ExportResult> {
  gc();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 20);
  const cpu0 = process.cpuUsage();
  helper.send({ port, path: `/api/v1/exports/effective-permissions?format=${format}&space=${space}${filter}`, key: ADMIN_KEY });
  const [r] = (await once(helper, 'message')) as [{ ttfbMs: number; wallMs: number; lines: number; bytes: number; error?: string }];
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  if (r.error) throw new Error(r.error);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  const wallS = r.wallMs / 1000;
  return { format, space, rows: format === 'csv' ? r.lines - 1 : r.lines, bytes: r.bytes, ttfbMs: r.ttfbMs, wallS, cpuS: (cpu.user + cpu.system) / 1e6, rssBefore, rssPeak, load: load1() };
}

async function main(): Promise<void> {
  const sizeName = (process.argv[2] ?? 'M') as keyof typeof SIZES;
  const size = SIZES[sizeName];
  if (!size) throw new Error('usage: bench/exports.ts S|M|L [--events N]');
  const eventsArg = process.argv.indexOf('--events');
  const EVENTS = eventsArg > 0 ? Number(process.argv[eventsArg + 1]) : 5000;

  const dir = mkdtempSync(join(tmpdir(), 'grantory-bench-exports-'));
  const store = await openStore({ dataDir: dir });
  let helper: ChildProcess | null = null;
  try {
    await store.migrate();
    const secrets = createServerSecrets(generateSecretKey());
    const { tenantId } = await bootstrap(store, { adminKey: ADMIN_KEY, secrets });
    console.error(`loading dataset ${sizeName} (load average ${load1()})…`);
    let t0 = Date.now();
    await load(store, tenantId, generate(size), (what) => console.error(`  ${what}`));
    console.error(`  loaded in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

    t0 = Date.now();
    const cpuBuild = process.cpuUsage();
    const access = new AccessEngine(store, { pollIntervalMs: 0 });
    await access.start();
    const build = process.cpuUsage(cpuBuild);
    console.error(`  index built in ${((Date.now() - t0) / 1000).toFixed(1)} s (${((build.user + build.system) / 1e6).toFixed(1)} s CPU)`);

    helper = fork(fileURLToPath(import.meta.url), ['--helper'], { execArgv: ['--import', 'tsx'] });
    const [{ receiverPort }] = (await once(helper, 'message')) as [{ receiverPort: number }];
    const services = createServices({ store, now: () => new Date(), secrets, access });
    const app = await buildApp({ services, store, logLevel: 'silent' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;

    // A warm-up export (first touch computes each identity's effective set), then the timed ones.
    const warm = await timeExport(helper, port, 'ndjson', 'assigned');
    warm.space = 'assigned, warm-up (first touch of every identity)';
    console.error(`  warm-up (first touch): ${warm.rows} rows in ${warm.wallS.toFixed(1)} s`);
    // The fixed cost of a request (authentication, routing): one identity's export.
    const one = await timeExport(helper, port, 'ndjson', 'assigned', '&identityId=i-00000000');
    one.space = 'assigned, one identity (fixed cost of a request)';
    const exports: ExportResult[] = [warm, one];
    for (const [format, space] of [['ndjson', 'assigned'], ['csv', 'assigned'], ['ndjson', 'provisioned']] as const) {
      exports.push(await timeExport(helper, port, format, space));
      console.error(`  ${format} ${space}: done`);
    }
    await app.close();
    access.stop();

    // Webhook delivery: EVENTS audit events, then one sink from the beginning of them.
    const actor = systemActor(tenantId, 'bench');
    const head = await store.read(tenantId).db.selectFrom('tenants').select('audit_seq').where('id', '=', tenantId).executeTakeFirstOrThrow();
    for (let i = 0; i < EVENTS; i += 500) {
      await store.write(tenantId, writeMeta(actor), async (tx) => {
        for (let j = i; j < Math.min(EVENTS, i + 500); j += 1) tx.audit({ action: 'bench.event', targetType: 'bench', targetId: String(j), after: { n: j, note: 'x'.repeat(64) } });
      });
    }
    const { sink } = await createEventSink(services.deps, actor, { name: 'bench', type: 'webhook', webhook: { url: `http://127.0.0.1:${receiverPort}/hook` }, startAt: 'now' });
    await store.read(tenantId).db.updateTable('event_sinks').set({ cursor_seq: Number(head.audit_seq) }).where('id', '=', sink.id).execute();
    const options = { ...DEFAULT_DELIVERY_OPTIONS, batchSize: 500 };
    const cpu0 = process.cpuUsage();
    const started = process.hrtime.bigint();
    let delivered = 0;
    while (delivered < EVENTS) {
      const n = await deliverPending(services.deps, options, (e) => console.error(e));
      if (n === 0) throw new Error(`delivery stalled after ${delivered} events`);
      delivered += n;
    }
    const deliveryWall = Number(process.hrtime.bigint() - started) / 1e9;
    const deliveryCpu = process.cpuUsage(cpu0);
    const deliveryLoad = load1();

    const cpu = cpus();
    console.log(`\nmachine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString()}`);
    console.log(`dataset ${sizeName}: ${size.identities} identities, ${size.assignments} assignments; SQLite; index built in ${((build.user + build.system) / 1e6).toFixed(1)} s CPU\n`);
    console.log('| export | rows | bytes | first byte | wall | rows/s (wall) | CPU | rows per CPU-second | RSS before → peak (added) | load average 1/5/15 |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of exports) {
      const label = `${r.format}, ${r.space}`;
      console.log(
        `| ${label} | ${r.rows.toLocaleString('en')} | ${mb(r.bytes)} | ${r.ttfbMs.toFixed(0)} ms | ${r.wallS.toFixed(1)} s | ${Math.round(r.rows / r.wallS).toLocaleString('en')} | ${r.cpuS.toFixed(1)} s | ${Math.round(r.rows / r.cpuS).toLocaleString('en')} | ${mb(r.rssBefore)} → ${mb(r.rssPeak)} (+${mb(r.rssPeak - r.rssBefore)}) | ${r.load} |`,
      );
    }
    console.log('\n| delivery | events | wall | events/s (wall) | CPU (sender) | load average 1/5/15 |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    const cpuS = (deliveryCpu.user + deliveryCpu.system) / 1e6;
    console.log(`| webhook, one sink, batch 500, receiver in another process | ${delivered.toLocaleString('en')} | ${deliveryWall.toFixed(1)} s | ${Math.round(delivered / deliveryWall).toLocaleString('en')} | ${cpuS.toFixed(1)} s | ${deliveryLoad} |`);
  } finally {
    helper?.kill();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] !== '--helper') await main();
