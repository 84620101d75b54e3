/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The console in a real browser (Debian's Chromium through playwright-core, the flags of the
 * console tests; no browser is downloaded). Usage:
 *
 *   node --import tsx bench/console.ts [S|M|L] [--runs 5]
 *
 * Loads the seeded dataset (bench/dataset.ts, default L: 100k identities, 1M assignments) into
 * a fresh SQLite store, builds the access index, serves the built console (web/dist) and the
 * API on 127.0.0.1, and measures with the browser's Performance API (navigation and resource
 * timing, largest contentful paint, long tasks, animation frames) rather than the wall clock:
 *
 * 1. cold first load (a new browser context each run: empty HTTP cache): the sign-in page,
 *    and the overview with a session cookie; "interactive" is the later of the page being
 *    drawn (its heading there and no loading state left) and the end of the last long task
 *    that started before it;
 * 2. an identity with exactly 500 effective permissions (the dataset's identity plus direct
 *    assignments): from the end of the `/access` response to the 500th row in the DOM and to
 *    the next frame; then **Why?** on permissions reached through several paths: from the end
 *    of the `/access/explain` response to the graph's nodes drawn;
 * 3. the identities list: all rows loaded by scrolling (the list pages with the API's
 *    cursors, 500 a page), then animation frames while scrolling steadily through the list and
 *    while the scroll bar is dragged from top to bottom: frame intervals, frames over
 *    25 ms (a missed 60 Hz frame), long tasks, and the most rows in the DOM at once;
 * 4. the first page's JavaScript: the files the cold sign-in page loaded, gzip -9.
 *
 * Prints a JSON summary and writes bench/results/console-<size>-sqlite.json with the load
 * average at start and end (the machine is shared: timings carry the contention).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BrowserContext, Page } from 'playwright-core';
import { buildApp } from '../src/api/app.ts';
import { DEFAULT_CONSOLE_DIR } from '../src/api/console.ts';
import { createServerSecrets } from '../src/domain/server-secrets.ts';
import { AccessEngine } from '../src/engine/engine.ts';
import { createAssignment } from '../src/services/access/index.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import { createServices } from '../src/services/index.ts';
import { systemActor } from '../src/services/kernel/index.ts';
import { openStore } from '../src/store/open.ts';
import { ensureConsoleBuilt, launchChromium } from '../test/console/harness.ts';
import { generate, idOf, load, SIZES } from './dataset.ts';
import { BENCH_ADMIN_KEY, BENCH_SECRET_KEY, datasetKey, keepDataset, percentiles, restoreDataset } from './common.ts';

const sizeName = (process.argv.slice(2).find((a) => /^[SML]$/.test(a)) ?? 'L') as keyof typeof SIZES;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const ADMIN_KEY = BENCH_ADMIN_KEY;
// 500 (S has only 200 permissions in all: there, every one of them).
const TARGET_PERMISSIONS = Math.min(500, SIZES[sizeName].permissions);

const load3 = () => loadavg().map((l) => Math.round(l * 100) / 100);
const round = (x: number) => Math.round(x * 10) / 10;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * Installed in every page before its scripts: long tasks, LCP, and the first moment
 * `window.__readyWhen()` (set by the benchmark per page) holds, checked on every DOM change.
 */
function perfProbe(): void {
  interface Probe {
    longTasks: { start: number; duration: number }[];
    lcp: number;
    readyAt: number;
    /** The frame after the ready one started (the ready DOM was painted by then). */
    paintedAt: number;
    readyWhen: (() => boolean) | null;
  }
  const probe: Probe = { longTasks: [], lcp: 0, readyAt: 0, paintedAt: 0, readyWhen: null };
  (window as unknown as { __probe: Probe }).__probe = probe;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) probe.longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    new PerformanceObserver((list) => {
      const entries = list.getEntries();
      probe.lcp = entries[entries.length - 1]!.startTime;
    }).observe({ type: 'largest-contentful-paint', buffered: true });
  } catch {
    // An observer type this browser lacks: the figure stays 0.
  }
  const check = () => {
    if (probe.readyAt || !probe.readyWhen?.()) return;
    probe.readyAt = performance.now();
    requestAnimationFrame(() => requestAnimationFrame(() => (probe.paintedAt = performance.now())));
  };
  (probe as { check?: () => void }).check = check;
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
}

interface Probed {
  longTasks: { start: number; duration: number }[];
  lcp: number;
  readyAt: number;
  paintedAt: number;
}

/** Sets the page's readiness condition (evaluated in the page on every DOM change). */
async function readyWhen(page: Page, condition: string): Promise<void> {
  await page.evaluate((source) => {
    const probe = (window as unknown as { __probe: { readyWhen: (() => boolean) | null; readyAt: number; paintedAt: number; check: () => void } }).__probe;
    probe.readyAt = 0;
    probe.paintedAt = 0;
    probe.readyWhen = new Function(`return (${source});`) as () => boolean;
    probe.check();
  }, condition);
}

async function probed(page: Page): Promise<Probed> {
  await page.waitForFunction(() => (window as unknown as { __probe: { paintedAt: number } }).__probe.paintedAt > 0, undefined, { timeout: 60_000 });
  // Long tasks are reported a moment after they end.
  await page.waitForTimeout(300);
  return page.evaluate(() => {
    const p = (window as unknown as { __probe: Probed }).__probe;
    return { longTasks: p.longTasks, lcp: p.lcp, readyAt: p.readyAt, paintedAt: p.paintedAt };
  });
}

async function main(): Promise<void> {
  ensureConsoleBuilt();
  const startedAt = new Date().toISOString();
  const loadAtStart = load3();
  const dir = mkdtempSync(join(tmpdir(), 'grantory-console-bench-'));
  // A kept copy of the loaded dataset stands in for the load when there is one (bench/common.ts).
  const keptKey = datasetKey(sizeName, SIZES[sizeName]);
  const kept = restoreDataset(dir, keptKey);
  const store = await openStore({ dataDir: dir, sqliteSynchronous: 'NORMAL' });
  await store.migrate();
  const secretKey = kept?.secretKey ?? BENCH_SECRET_KEY;
  const secrets = createServerSecrets(secretKey);
  const d = generate(SIZES[sizeName]);
  let t0 = performance.now();
  let tenantId = kept?.tenantId ?? '';
  if (!kept) {
    tenantId = (await bootstrap(store, { adminKey: ADMIN_KEY, secrets })).tenantId;
    await load(store, tenantId, d);
    keepDataset(dir, keptKey, { tenantId, secretKey });
    console.error(`loaded ${sizeName} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const access = new AccessEngine(store, { clock: () => Date.now() });
  t0 = performance.now();
  await access.start();
  console.error(`index built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const services = createServices({ store, now: () => new Date(), secrets, access });
  const app = await buildApp({ services, store, logLevel: 'silent' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const url = `http://127.0.0.1:${address.port}`;
  const apiGet = async <T>(path: string): Promise<T> => {
    const response = await fetch(url + path, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return (await response.json()) as T;
  };

  // The identity with exactly 500 effective permissions: the dataset's first identity with
  // direct assignments of permissions it does not hold yet.
  const subject = idOf.identity(1);
  type AccessList = { items: { permissionId: string; permissionName: string; via: unknown[] }[] };
  const held = new Set((await apiGet<AccessList>(`/api/v1/identities/${subject}/access`)).items.map((i) => i.permissionId));
  const actor = systemActor(tenantId, 'console benchmark');
  for (let p = 0; held.size < TARGET_PERMISSIONS && p < SIZES[sizeName].permissions; p += 1) {
    const permissionId = idOf.perm(p);
    if (held.has(permissionId)) continue;
    await createAssignment(services.deps, actor, { assignee: { type: 'identity', id: subject }, resource: { type: 'permission', id: permissionId }, reason: 'console benchmark' });
    held.add(permissionId);
  }
  let accessList: AccessList = { items: [] };
  for (let tries = 0; tries < 100; tries += 1) {
    accessList = await apiGet<AccessList>(`/api/v1/identities/${subject}/access`);
    if (accessList.items.length === TARGET_PERMISSIONS) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (accessList.items.length !== TARGET_PERMISSIONS) throw new Error(`the identity has ${accessList.items.length} permissions, not ${TARGET_PERMISSIONS}`);
  // Permissions reached through the most paths: their graphs are the largest.
  const explained = [...accessList.items].sort((a, b) => b.via.length - a.via.length).slice(0, RUNS);

  const signIn = await fetch(`${url}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiKey: ADMIN_KEY }) });
  const cookie = /grantory_session=([^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')?.[1];
  if (!cookie) throw new Error(`no session cookie (sign-in answered ${signIn.status})`);

  const browser = await launchChromium();
  const version = browser.version();
  const freshContext = async (signedIn: boolean): Promise<BrowserContext> => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
    context.setDefaultTimeout(60_000);
    // tsx (esbuild keepNames) wraps named functions in __name(): the page needs it too.
    await context.addInitScript('window.__name = (f) => f;');
    await context.addInitScript(perfProbe);
    if (signedIn) await context.addCookies([{ name: 'grantory_session', value: cookie, url }]);
    return context;
  };

  // ---- 1. cold first load ----
  interface ColdRun {
    documentResponseEnd: number;
    domContentLoaded: number;
    fcp: number;
    lcp: number;
    drawn: number;
    interactive: number;
    longTasks: number;
    longTaskMs: number;
  }
  const coldRuns = async (signedIn: boolean, condition: string) => {
    const runs: ColdRun[] = [];
    let scripts: { name: string; bytes: number }[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const context = await freshContext(signedIn);
      const page = await context.newPage();
      await page.goto(`${url}/console/`, { waitUntil: 'commit' });
      await readyWhen(page, condition);
      const p = await probed(page);
      const nav = await page.evaluate(() => {
        const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? 0;
        const js = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) => r.name.endsWith('.js')).map((r) => new URL(r.name).pathname);
        return { responseEnd: n.responseEnd, domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd, fcp, js };
      });
      const before = p.longTasks.filter((t) => t.start < p.readyAt);
      const interactive = Math.max(p.readyAt, ...before.map((t) => t.start + t.duration));
      runs.push({ documentResponseEnd: round(nav.responseEnd), domContentLoaded: round(nav.domContentLoaded), fcp: round(nav.fcp), lcp: round(p.lcp), drawn: round(p.readyAt), interactive: round(interactive), longTasks: before.length, longTaskMs: round(before.reduce((a, t) => a + t.duration, 0)) });
      if (run === 0) scripts = [...nav.js, ...(await page.evaluate(() => [...document.querySelectorAll('link[rel=modulepreload]')].map((l) => new URL((l as HTMLLinkElement).href).pathname)))].filter((v, i, a) => a.indexOf(v) === i).map((path) => ({ name: path, bytes: gzipSync(readFileSync(join(DEFAULT_CONSOLE_DIR, path.replace(/^\/console\//, ''))), { level: 9 }).length }));
      await context.close();
    }
    const pick = (k: keyof ColdRun) => median(runs.map((r) => r[k]));
    return { median: { fcp: pick('fcp'), lcp: pick('lcp'), drawn: pick('drawn'), interactive: pick('interactive'), longTaskMs: pick('longTaskMs') }, runs, scripts };
  };
  console.error('cold loads…');
  const coldSignIn = await coldRuns(false, `document.querySelector('h1')?.textContent === 'Sign in to Grantory' && !!document.querySelector('input')`);
  const coldOverview = await coldRuns(true, `[...document.querySelectorAll('h2')].some((h) => h.textContent === 'Recent audit events') && !document.querySelector('.state-loading')`);
  const firstPageJs = coldSignIn.scripts;

  // ---- 2. the identity with 500 permissions ----
  console.error('identity page…');
  const context = await freshContext(true);
  const page = await context.newPage();
  const identityRuns = [];
  for (let run = 0; run < RUNS + 1; run += 1) {
    await page.goto(`${url}/console/identities/${subject}`, { waitUntil: 'commit' });
    await readyWhen(page, `document.querySelectorAll('[data-testid=access-table] tbody tr').length === ${TARGET_PERMISSIONS}`);
    const p = await probed(page);
    const timing = await page.evaluate((id) => {
      const entry = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).find((r) => r.name.includes(`/api/v1/identities/${id}/access`));
      return { responseEnd: entry?.responseEnd ?? NaN, requestStart: entry?.requestStart ?? NaN };
    }, subject);
    const during = p.longTasks.filter((t) => t.start + t.duration > timing.responseEnd && t.start < p.readyAt);
    // The first run also fetches the page's code: reported apart.
    identityRuns.push({ apiMs: round(timing.responseEnd - timing.requestStart), renderMs: round(p.readyAt - timing.responseEnd), toNextFrameMs: round(p.paintedAt - timing.responseEnd), longTasks: during.map((t) => round(t.duration)), firstVisit: run === 0 });
  }
  const warmIdentity = identityRuns.filter((r) => !r.firstVisit);

  const whyRuns = [];
  for (const item of explained) {
    const row = page.getByTestId('access-table').locator('tbody tr').nth(accessList.items.findIndex((i) => i.permissionId === item.permissionId));
    await readyWhen(
      page,
      `!!document.getElementById('why-title')?.textContent?.endsWith(' has ${item.permissionName}') && document.querySelectorAll('[data-testid=why-panel] .react-flow__node').length > 0 && !document.querySelector('[data-testid=why-panel] .state-loading')`,
    );
    const clickedAt = await page.evaluate(() => performance.now());
    await row.getByRole('button', { name: /^Why does/ }).click();
    const p = await probed(page);
    const timing = await page.evaluate(({ permission, after }) => {
      const entries = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) => r.name.includes('/api/v1/access/explain') && r.name.includes(permission) && r.startTime >= after);
      return { responseEnd: entries[entries.length - 1]?.responseEnd ?? NaN, nodes: document.querySelectorAll('[data-testid=why-panel] .react-flow__node').length };
    }, { permission: item.permissionId, after: clickedAt });
    whyRuns.push({ paths: item.via.length, nodes: timing.nodes, renderMs: round(p.readyAt - timing.responseEnd), toNextFrameMs: round(p.paintedAt - timing.responseEnd), fromClickMs: round(p.readyAt - clickedAt) });
  }

  // ---- 3. the identities list: load every row, then scroll ----
  console.error('identities list…');
  await page.goto(`${url}/console/identities`);
  const scroller = page.getByTestId('vtable-scroller');
  await scroller.waitFor();
  const loadStart = Date.now();
  const expected = SIZES[sizeName].identities;
  let loaded = 0;
  for (;;) {
    const foot = await page.locator('.vtable-foot').innerText();
    loaded = Number(/^([\d,]+)/.exec(foot)?.[1]?.replace(/,/g, '') ?? 0);
    if (!/more as you scroll/.test(foot)) break;
    await scroller.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.waitForFunction((n) => !document.querySelector('.vtable-foot')?.textContent?.startsWith(n.toLocaleString()), loaded, { timeout: 60_000 }).catch(() => undefined);
  }
  const loadAllSeconds = (Date.now() - loadStart) / 1000;
  if (loaded < expected) throw new Error(`the list loaded ${loaded} rows, expected at least ${expected}`);

  const scrollRun = (mode: 'steady' | 'drag', frames: number) =>
    scroller.evaluate(
      (el, { mode, frames }) =>
        new Promise<{ intervals: number[]; maxRows: number; longTasks: number[]; distancePx: number; rowsPassed: number }>((done) => {
          const intervals: number[] = [];
          const longTasks: number[] = [];
          const observer = new PerformanceObserver((l) => l.getEntries().forEach((e) => longTasks.push(e.duration)));
          observer.observe({ type: 'longtask' });
          let maxRows = 0;
          let last = 0;
          let frame = 0;
          el.scrollTop = 0;
          const startTop = 0;
          const step = (t: number) => {
            if (last) intervals.push(t - last);
            last = t;
            maxRows = Math.max(maxRows, el.querySelectorAll('[role=row]').length);
            if (frame >= frames) {
              observer.disconnect();
              done({ intervals, maxRows, longTasks, distancePx: Math.abs(el.scrollTop - startTop), rowsPassed: Math.round(Math.abs(el.scrollTop - startTop) / 40) });
              return;
            }
            frame += 1;
            // Steady: 20 rows a frame (1,200 rows a second at 60 Hz); drag: the scroll bar
            // dragged from the top to the bottom of the whole list in `frames` frames.
            el.scrollTop = mode === 'steady' ? el.scrollTop + 800 : Math.floor((frame / frames) * (el.scrollHeight - el.clientHeight));
            requestAnimationFrame(step);
          };
          requestAnimationFrame(step);
        }),
      { mode, frames },
    );
  const summarizeScroll = (r: Awaited<ReturnType<typeof scrollRun>>) => ({
    frames: r.intervals.length,
    frameMs: percentiles(r.intervals),
    over25ms: r.intervals.filter((i) => i > 25).length,
    missedFrames: r.intervals.reduce((a, i) => a + Math.max(0, Math.round(i / (1000 / 60)) - 1), 0),
    longTasks: r.longTasks.length,
    longestTaskMs: round(Math.max(0, ...r.longTasks)),
    maxRowsInDom: r.maxRows,
    rowsPassed: r.rowsPassed,
  });
  await scrollRun('steady', 30); // warm-up
  const steady = summarizeScroll(await scrollRun('steady', 600));
  const drag = summarizeScroll(await scrollRun('drag', 300));
  await context.close();
  await browser.close();

  const summary = {
    benchmark: 'console',
    size: sizeName,
    backend: 'sqlite',
    startedAt,
    finishedAt: new Date().toISOString(),
    chromium: version,
    loadAverage: { start: loadAtStart, end: load3() },
    runs: RUNS,
    firstPageJsGzipKb: round(firstPageJs.reduce((a, s) => a + s.bytes, 0) / 1024),
    firstPageJs,
    coldSignIn: { median: coldSignIn.median, runs: coldSignIn.runs },
    coldOverview: { median: coldOverview.median, runs: coldOverview.runs },
    identity500: { permissions: TARGET_PERMISSIONS, renderMsMedian: median(warmIdentity.map((r) => r.renderMs)), toNextFrameMsMedian: median(warmIdentity.map((r) => r.toNextFrameMs)), runs: identityRuns },
    why: { renderMsMedian: median(whyRuns.map((r) => r.renderMs)), runs: whyRuns },
    identitiesList: { rows: loaded, loadAllSeconds: round(loadAllSeconds), pages: Math.ceil(loaded / 500), steady, drag },
  };
  console.log(JSON.stringify(summary, null, 2));
  mkdirSync(resolve(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(resolve(import.meta.dirname, 'results', `console-${sizeName}-sqlite.json`), `${JSON.stringify(summary, null, 2)}\n`);
  access.stop();
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

await main();
