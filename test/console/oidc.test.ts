/**
 * The sign-in page's single sign-on button in Chromium, end to end against a real local
 * OpenID Connect provider (test/support/oidc-provider.ts): the button starts the code flow
 * with PKCE at Grantory, the browser follows the provider's redirect back to the callback,
 * Grantory opens a session and returns to the page that was asked for, signed in as the
 * identity the provider named, with that identity's rights only.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, newContext, seriousViolations, startConsoleServer, type ConsoleServer } from './harness.ts';
import { CLIENT_ID, CLIENT_SECRET, Provider } from '../support/oidc-provider.ts';
import { createIdentityWithRights } from '../support/security-fixtures.ts';

// A real browser on a loaded machine: each step waits up to 10 s, a test up to 90 s.
vi.setConfig({ testTimeout: 90_000 });

const provider = new Provider();
let server: ConsoleServer;
let browser: Browser;

beforeAll(async () => {
  await provider.start();
  server = await startConsoleServer({ identities: 20, consoleOidc: { issuer: provider.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tenant: 'default', subjectClaim: 'sub' } });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await provider.stop();
});

describe('console sign-in through OIDC', () => {
  it('signs in with the organization button and returns to the page asked for', async () => {
    const subject = 'oidc:ada.auditor';
    const identityId = await createIdentityWithRights(server.store, server.tenantId, subject, ['read-audit']);
    provider.nextSubject = subject;
    const context = await newContext(browser);
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const visited: string[] = [];
    page.on('request', (r) => {
      if (r.isNavigationRequest()) visited.push(r.url());
    });

    await page.goto(`${server.url}/console/audit`);
    await page.getByRole('heading', { name: 'Sign in to Grantory' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Sign in with your organization' }).click();
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();

    // The browser went through Grantory's start, the provider's authorize endpoint with PKCE, and the callback.
    const start = visited.find((u) => u.startsWith(`${server.url}/api/v1/sessions/oidc/start`));
    expect(new URL(start!).searchParams.get('returnTo')).toBe('/console/audit');
    const authorize = new URL(visited.find((u) => u.startsWith(`${provider.issuer}/authorize`))!);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${server.url}/api/v1/sessions/oidc/callback`);
    expect(visited.some((u) => u.startsWith(`${server.url}/api/v1/sessions/oidc/callback?code=`))).toBe(true);
    expect(new URL(page.url()).pathname).toBe('/console/audit');

    // Signed in as that identity, with its rights only: the audit section, no administration.
    const session = (await context.cookies()).find((c) => c.name === 'grantory_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link').allInnerTexts()).resolves.toEqual(['Overview', 'Access requests', 'Approvals', 'Audit', 'Settings']);
    const me = await page.evaluate(async () => (await fetch('/api/v1/me', { credentials: 'same-origin' })).json());
    expect(me).toMatchObject({ kind: 'session', identityId, rights: ['read-audit'] });
    await page.getByRole('link', { name: 'Settings' }).click();
    await expect(page.getByTestId('sessions-table').innerText()).resolves.toContain('Single sign-on');
    // The transaction cookie is gone; nothing is kept in the browser's storage.
    expect((await context.cookies()).some((c) => c.name === 'grantory_oidc')).toBe(false);
    expect(await page.evaluate(() => window.localStorage.length + window.sessionStorage.length)).toBe(0);
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
