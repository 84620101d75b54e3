/// <reference lib="dom" />
/**
 * Console test support: a real Grantory listening on a free port of 127.0.0.1 (the run's
 * database, the demo data, an import worker that runs uploads as the server does), the
 * built console at /console, and Debian's Chromium driven by playwright-core (never a
 * downloaded browser). One server and one browser per test file.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildApp } from '../../src/api/app.ts';
import type { App } from '../../src/api/deps.ts';
import { DEFAULT_CONSOLE_DIR } from '../../src/api/console.ts';
import { seedDemoTenant } from '../../src/demo/seed.ts';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';
import { AccessEngine } from '../../src/engine/engine.ts';
import { createImportWorker, type ImportWorker } from '../../src/jobs/import-worker.ts';
import { bootstrap } from '../../src/services/bootstrap.ts';
import { createServices, type Services } from '../../src/services/index.ts';
import type { ConsoleOidcSettings } from '../../src/services/deps.ts';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { ADMIN_KEY, openTestStore, TEST_SECRET_KEY, type TestStore } from '../support/harness.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];
export const SCREENSHOTS = resolve(import.meta.dirname, '../../docs/console');

/** Builds the console once when web/dist is missing (npm ci's prepare step normally did). */
export function ensureConsoleBuilt(): void {
  if (existsSync(join(DEFAULT_CONSOLE_DIR, 'index.html'))) return;
  execFileSync('npm', ['run', 'build:web'], { cwd: resolve(import.meta.dirname, '../..'), stdio: 'inherit' });
}

export interface ConsoleServer extends TestStore {
  app: App;
  services: Services;
  worker: ImportWorker;
  tenantId: string;
  adminKey: string;
  url: string;
  /** Calls the API with the administrator's key (setup and checks, not what the browser does). */
  api<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Headers }>;
  close(): Promise<void>;
}

/** A port free on 127.0.0.1 now (the OIDC redirect URI must name the port before the server listens). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

export interface ConsoleServerOptions {
  identities?: number;
  /** Console sign-in through an OIDC provider: `redirectBase` is filled in with the server's own URL. */
  consoleOidc?: Omit<ConsoleOidcSettings, 'redirectBase'>;
}

export async function startConsoleServer(options: ConsoleServerOptions = {}): Promise<ConsoleServer> {
  ensureConsoleBuilt();
  const ts = await openTestStore();
  await ts.store.migrate();
  const secrets = createServerSecrets(TEST_SECRET_KEY);
  const boot = await bootstrap(ts.store, { adminKey: ADMIN_KEY, secrets });
  const importDir = mkdtempSync(join(tmpdir(), 'grantory-console-imports-'));
  const access = new AccessEngine(ts.store, { clock: () => Date.now() });
  const holder: { worker: ImportWorker | null } = { worker: null };
  const port = options.consoleOidc ? await freePort() : 0;
  const services = createServices({
    ...(options.consoleOidc ? { security: { consoleOidc: { ...options.consoleOidc, redirectBase: `http://127.0.0.1:${port}` } } } : {}),
    store: ts.store,
    now: () => new Date(),
    secrets,
    access,
    imports: { importDir, uploadLimit: 10 * 1024 * 1024, notify: () => holder.worker?.kick() },
  });
  await seedDemoTenant(services.deps, systemActor(boot.tenantId, 'demo'), { identities: options.identities ?? 200 });
  await access.start();
  const worker = createImportWorker({ deps: services.deps, leaseMs: 60_000, pollMs: 250, failRunningOnStart: false, onError: (e) => console.error('import worker', e) });
  holder.worker = worker;
  worker.start();
  const app = await buildApp({ services, store: ts.store, logLevel: 'silent', readiness: async () => access.notReadyReason() });
  await app.listen({ host: '127.0.0.1', port });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const url = `http://127.0.0.1:${address.port}`;
  return {
    ...ts,
    app,
    services,
    worker,
    tenantId: boot.tenantId,
    adminKey: ADMIN_KEY,
    url,
    async api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const response = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // Not JSON (CSV exports): the text.
      }
      return { status: response.status, body: parsed as T, headers: response.headers };
    },
    async close() {
      await worker.stop();
      access.stop();
      await app.close();
      await ts.dispose();
      rmSync(importDir, { recursive: true, force: true });
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export async function newContext(browser: Browser): Promise<BrowserContext> {
  // bypassCSP: axe-core is injected as an inline script (the console's CSP allows only its own files).
  return browser.newContext({ bypassCSP: true, viewport: { width: 1360, height: 900 }, acceptDownloads: true, locale: 'en-GB', timezoneId: 'UTC' });
}

/** Signs in through the sign-in page with an API key (the console's real flow). */
export async function signInWithKey(page: Page, server: ConsoleServer, key: string): Promise<void> {
  await page.goto(`${server.url}/console/`);
  await page.getByRole('tab', { name: 'API key' }).click();
  await page.getByRole('textbox', { name: 'API key' }).fill(key);
  await page.getByRole('button', { name: 'Sign in with key' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}

/** Writes a screenshot of the page into docs/console/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

const AXE_SOURCE = resolve(import.meta.dirname, '../../node_modules/axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; html: string }[];
}

/** Runs axe-core in the page; answers the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE_SOURCE });
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, html: n.html.slice(0, 200) })) }));
}
