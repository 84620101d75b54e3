/**
 * The sign-in page's single sign-on button in Chromium, end to end against a real local
 * OpenID Connect provider (test/support/oidc-provider.ts): the button starts the code flow
 * with PKCE at Grantory, the browser follows the provider's redirect back to the callback,
 * Grantory opens a session and returns to the page that was asked for, signed in as the
 * identity the provider named, with that identity's rights only. A failed sign-in (the
 * provider's error, a state that does not match, an identity Grantory does not know) lands on
 * the sign-in page with a readable message, never the problem document.
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
    expect((await server.api('PATCH', `/api/v1/identities/${identityId}`, { displayName: 'Ada Auditor' })).status).toBe(200);
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
    expect(me).toMatchObject({ kind: 'session', identityId, rights: ['read-audit'], signedIn: { name: 'Ada Auditor', method: 'oidc' } });
    // The top bar names the person and how she signed in.
    await expect(page.getByTestId('signed-in-as').innerText()).resolves.toBe('Ada Auditor (single sign-on)');
    await page.getByRole('link', { name: 'Settings' }).click();
    await expect(page.getByTestId('sessions-table').innerText()).resolves.toContain('Single sign-on');
    // The transaction cookie is gone; nothing is kept in the browser's storage.
    expect((await context.cookies()).some((c) => c.name === 'grantory_oidc')).toBe(false);
    expect(await page.evaluate(() => window.localStorage.length + window.sessionStorage.length)).toBe(0);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  const failures = [
    { name: 'the provider answered an error', arrange: () => (provider.nextError = 'access_denied'), failure: 'provider_error', message: 'it was cancelled or refused there' },
    { name: 'the state does not match', arrange: () => (provider.forcedState = 'forged-state'), failure: 'state_mismatch', message: 'does not belong to this sign-in' },
    { name: 'the provider names an unknown user', arrange: () => (provider.nextSubject = 'oidc:nobody.here'), failure: 'unknown_identity', message: 'no Grantory identity matches your account' },
  ];
  for (const { name, arrange, failure, message } of failures) {
    it(`returns to the sign-in page with a readable message when ${name}`, async () => {
      provider.nextError = null;
      provider.forcedState = null;
      arrange();
      const context = await newContext(browser);
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      try {
        await page.goto(`${server.url}/console/audit`);
        await page.getByRole('link', { name: 'Sign in with your organization' }).click();
        const alert = page.getByTestId('sign-in-error');
        await alert.waitFor();
        await expect(alert.innerText()).resolves.toContain(message);
        // The sign-in page, not the callback's problem document; the page asked for is kept.
        const landed = new URL(page.url());
        expect(landed.pathname).toBe('/console/sign-in');
        expect(Object.fromEntries(landed.searchParams)).toEqual({ signInError: failure, returnTo: '/audit' });
        await expect(page.locator('body').innerText()).resolves.not.toContain('"status"');
        await page.getByRole('heading', { name: 'Sign in to Grantory' }).waitFor();
        expect(await seriousViolations(page)).toEqual([]);
        expect((await context.cookies()).some((c) => c.name === 'grantory_session' || c.name === 'grantory_oidc')).toBe(false);
        // Signing in again (the provider now well-behaved) goes on to the page asked for.
        provider.nextError = null;
        provider.forcedState = null;
        provider.nextSubject = 'oidc:ada.auditor';
        await page.getByRole('link', { name: 'Sign in with your organization' }).click();
        await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
        expect(pageErrors).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('still answers an API client (no Accept: text/html) with the 401 problem', async () => {
    const res = await fetch(`${server.url}/api/v1/sessions/oidc/callback?error=access_denied&state=x`, { headers: { accept: 'application/json' }, redirect: 'manual' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ status: 401, failure: 'provider_error' });
  });
});
