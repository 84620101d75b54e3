/**
 * The console's files at /console: index.html never cached and with a strict CSP, hashed
 * assets cached for a year, deep links answered with the page, a missing asset a 404 problem.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONSOLE_DIR } from '../../src/api/console.ts';
import { createTestApp } from '../support/harness.ts';
import { ensureConsoleBuilt } from './harness.ts';

ensureConsoleBuilt();
const t = await createTestApp();
afterAll(async () => t.close());

describe('the console at /console', () => {
  it('redirects /console to /console/', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/console' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/console/');
  });

  it('serves index.html uncached, with a same-origin CSP, at the root and at every deep link', async () => {
    for (const url of ['/console/', '/console/identities/0b6c2d9e-5d0a-4d4b-9d4e-3f3b8b3c1a11?tab=access', '/console/audit']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.body).toContain('<div id="root"></div>');
      expect(res.body).toMatch(/src="\/console\/assets\/index-[^"]+\.js"/);
    }
  });

  it('serves hashed assets with a year-long immutable cache', async () => {
    const asset = readdirSync(join(DEFAULT_CONSOLE_DIR, 'assets')).find((f) => f.endsWith('.js'));
    expect(asset).toBeDefined();
    const res = await t.app.inject({ method: 'GET', url: `/console/assets/${asset}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers a missing asset with a 404 problem, never the page', async () => {
    for (const url of ['/console/assets/index-missing.js', '/console/assets/../../package.json', '/console/missing.png']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('needs no credential and is not part of the API document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/console'))).toBe(false);
  });
});
