/** GET /: a browser is sent to the console (when installed) or the API reference; other callers get links. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';
import packageJson from '../../package.json' with { type: 'json' };

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('GET /', () => {
  let consoleDir: string;
  let withoutConsole: TestApp;
  let withConsole: TestApp;

  beforeAll(async () => {
    consoleDir = mkdtempSync(join(tmpdir(), 'grantory-console-'));
    writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>console</title>\n');
    // A directory without index.html is no console.
    withoutConsole = await createTestApp({ consoleDir: mkdtempSync(join(tmpdir(), 'grantory-no-console-')) });
    withConsole = await createTestApp({ consoleDir });
  }, 180_000);
  afterAll(async () => {
    await withoutConsole?.close();
    await withConsole?.close();
    rmSync(consoleDir, { recursive: true, force: true });
  });

  it('redirects a browser to /docs when the console is not installed', async () => {
    const res = await withoutConsole.app.inject({ method: 'GET', url: '/', headers: { accept: BROWSER_ACCEPT } });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/docs');
    expect(res.headers.vary).toMatch(/accept/i);
  });

  it('redirects a browser to /console when the console is installed', async () => {
    const res = await withConsole.app.inject({ method: 'GET', url: '/', headers: { accept: BROWSER_ACCEPT } });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/console');
  });

  it('answers any other caller with links, without authentication', async () => {
    for (const accept of [undefined, '*/*', 'application/json']) {
      const res = await withoutConsole.app.inject({ method: 'GET', url: '/', headers: accept ? { accept } : {} });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toEqual({
        name: 'Grantory',
        version: packageJson.version,
        links: { docs: '/docs', openapi: '/openapi.json', health: '/readyz', api: '/api/v1' },
      });
    }
    const linked = await withConsole.app.inject({ method: 'GET', url: '/', headers: { accept: 'application/json' } });
    expect(linked.json().links).toEqual({ docs: '/docs', openapi: '/openapi.json', health: '/readyz', api: '/api/v1', console: '/console' });
  });

  it('links only to routes that answer', async () => {
    const { links } = (await withoutConsole.app.inject({ method: 'GET', url: '/' })).json() as { links: Record<string, string> };
    for (const path of [links.docs, links.openapi, links.health]) {
      const res = await withoutConsole.app.inject({ method: 'GET', url: path! });
      expect([200, 302], path).toContain(res.statusCode);
    }
  });
});
