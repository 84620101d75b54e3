/**
 * Console sign-in in Chromium: a local password, wrong credentials, the session cookie's
 * CSRF guard on writes, a caller without rights (no admin pages, 403 from the API; delegating
 * its own access to a colleague found by name through the directory lookup), the sessions
 * list, sign-out.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, newContext, screenshot, seriousViolations, signInWithKey, startConsoleServer, type ConsoleServer } from './harness.ts';
import { createIdentityWithRights } from '../support/security-fixtures.ts';

// A real browser on a loaded machine: each step waits up to 10 s, a test up to 90 s.
vi.setConfig({ testTimeout: 90_000 });

let server: ConsoleServer;
let browser: Browser;

beforeAll(async () => {
  server = await startConsoleServer({ identities: 50 });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext(browser);
  context.setDefaultTimeout(10_000);
  return { context, page: await context.newPage() };
}

/** A request from inside the page (same origin, the session cookie rides along). */
async function fromPage(page: Page, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: { code?: string; csrfToken?: string } }> {
  return page.evaluate(
    async ({ method, path, body, headers }) => {
      const response = await fetch(path, { method, credentials: 'same-origin', headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : {} };
    },
    { method, path, body, headers },
  );
}

async function createUser(username: string, password: string): Promise<string> {
  const created = await server.api<{ id: string }>('POST', '/api/v1/identities', { subject: `console:${username}`, username, firstName: 'Rita', lastName: 'Rightless' });
  expect(created.status).toBe(201);
  const set = await server.api('PUT', `/api/v1/identities/${created.body.id}/password`, { password });
  expect(set.status).toBe(204);
  return created.body.id;
}

async function signInWithPassword(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${server.url}/console/`);
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

describe('console sign-in and sessions', () => {
  it('refuses a wrong password with the same message as an unknown user', async () => {
    await createUser('rita.rightless', 'correct horse battery staple');
    const { context, page } = await freshPage();
    await signInWithPassword(page, 'rita.rightless', 'not the password at all');
    const wrong = await page.getByRole('alert').innerText();
    await signInWithPassword(page, 'nobody.here', 'not the password at all');
    const unknown = await page.getByRole('alert').innerText();
    expect(wrong).toBe(unknown);
    await expect(page.getByRole('heading', { name: 'Sign in to Grantory' }).isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('a user without rights signs in with a password, sees no admin page and gets 403 from the API', async () => {
    const { context, page } = await freshPage();
    await signInWithPassword(page, 'rita.rightless', 'correct horse battery staple');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'grantory_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Strict');
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link').allInnerTexts()).resolves.toEqual(['Overview', 'Access requests', 'Approvals', 'Settings']);
    await expect(page.getByRole('heading', { name: 'Recent audit events' }).count()).resolves.toBe(0);
    await screenshot(page, 'overview-no-rights');
    expect(await seriousViolations(page)).toEqual([]);

    for (const path of ['/identities', '/audit', '/applications']) {
      await page.goto(`${server.url}/console${path}`);
      await page.getByTestId('forbidden').waitFor();
    }
    expect(await seriousViolations(page)).toEqual([]);
    expect((await fromPage(page, 'GET', '/api/v1/identities')).status).toBe(403);
    expect((await fromPage(page, 'GET', '/api/v1/audit-events')).status).toBe(403);

    // Settings shows only the caller's own sessions.
    await page.goto(`${server.url}/console/settings`);
    await page.getByTestId('sessions-table').waitFor();
    await expect(page.getByRole('tab').allInnerTexts()).resolves.toEqual(['My sessions']);
    await expect(page.getByTestId('sessions-table').innerText()).resolves.toContain('Password');
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });

  it('a user without manage-users delegates their own access to a colleague picked by name', async () => {
    // An application manager: reads effective access (and so her assignments), but may not list identities.
    const dora = { body: { id: await createIdentityWithRights(server.store, server.tenantId, 'console:dora', ['read-permissions-any-application']) } };
    const named = await server.api('PATCH', `/api/v1/identities/${dora.body.id}`, { username: 'dora.delegate', displayName: 'Dora Delegate' });
    expect(named.status).toBe(200);
    expect((await server.api('PUT', `/api/v1/identities/${dora.body.id}/password`, { password: 'delegation is not abdication' })).status).toBe(204);
    const colleague = await server.api<{ id: string }>('POST', '/api/v1/identities', { subject: 'console:ingrid', username: 'iwestmoreland', firstName: 'Ingrid', lastName: 'Westmoreland' });
    const permissions = await server.api<{ items: { id: string; name: string; delegable: boolean }[] }>('GET', '/api/v1/permissions?limit=200');
    const delegable = permissions.body.items.find((p) => p.delegable && p.name !== 'payments.approve')!;
    const source = await server.api<{ id: string }>('POST', '/api/v1/assignments', { assignee: { type: 'identity', id: dora.body.id }, resource: { type: 'permission', id: delegable.id }, reason: 'her job' });
    expect(source.status).toBe(201);

    const { context, page } = await freshPage();
    await signInWithPassword(page, 'dora.delegate', 'delegation is not abdication');
    // Her own page is one click away (the name at the top), without the Identities section.
    // Her name and how she signed in, not the session's actor name.
    await expect(page.getByTestId('signed-in-as').innerText()).resolves.toBe('Dora Delegate (password)');
    await page.getByTestId('signed-in-as').click();
    await page.getByRole('heading', { name: 'My access', level: 1 }).waitFor();
    await page.getByRole('tab', { name: 'Assignments' }).click();
    await page.getByTestId('assignments-table').getByRole('row').filter({ hasText: delegable.name }).getByRole('button', { name: 'Delegate' }).click();
    const form = page.getByRole('form', { name: 'Delegate access' });
    // No identity id to type: a search by name, answered by the directory lookup.
    const lookups: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/directory/identities')) lookups.push(new URL(r.url()).searchParams.get('q') ?? '');
    });
    await form.getByLabel('Find a person').fill('westmo');
    await form.getByRole('option', { name: 'Ingrid Westmoreland (iwestmoreland)' }).waitFor();
    expect(lookups).toContain('westmo');
    await form.getByLabel('Delegate to').selectOption(colleague.body.id);
    await form.getByLabel('Reason').fill('Cover during my holiday');
    await screenshot(page, 'delegate-picker');
    expect(await seriousViolations(page)).toEqual([]);
    await form.getByRole('button', { name: 'Delegate' }).click();
    await form.waitFor({ state: 'detached' });
    const delegations = await server.api<{ items: { assignee: { id: string }; delegatorId: string }[] }>('GET', `/api/v1/assignments?delegatedFromId=${source.body.id}`);
    expect(delegations.body.items).toEqual([expect.objectContaining({ assignee: { type: 'identity', id: colleague.body.id }, delegatorId: dora.body.id })]);
    // The API still refuses her the full identity list.
    expect((await fromPage(page, 'GET', '/api/v1/identities?q=westmo')).status).toBe(403);
    await context.close();
  });

  it('a user without any right opens My access on her assignments and delegates one', async () => {
    const nora = await createUser('nora.norights', 'nothing but my own access');
    expect((await server.api('PATCH', `/api/v1/identities/${nora}`, { displayName: 'Nora Norights' })).status).toBe(200);
    const colleague = await server.api<{ id: string }>('POST', '/api/v1/identities', { subject: 'console:oswin', username: 'oswin', firstName: 'Oswin', lastName: 'Overcover' });
    const permissions = await server.api<{ items: { id: string; name: string; delegable: boolean }[] }>('GET', '/api/v1/permissions?limit=200');
    const delegable = permissions.body.items.find((p) => p.delegable && p.name !== 'payments.approve')!;
    const source = await server.api<{ id: string }>('POST', '/api/v1/assignments', { assignee: { type: 'identity', id: nora }, resource: { type: 'permission', id: delegable.id }, reason: 'her job' });
    expect(source.status).toBe(201);

    const { context, page } = await freshPage();
    await signInWithPassword(page, 'nora.norights', 'nothing but my own access');
    await expect(page.getByTestId('signed-in-as').innerText()).resolves.toBe('Nora Norights (password)');
    await page.getByTestId('signed-in-as').click();
    await page.getByRole('heading', { name: 'My access', level: 1 }).waitFor();
    // Only the tabs her rights allow; the page opens on her assignments, named (not ids).
    await expect(page.getByRole('tab').allInnerTexts()).resolves.toEqual(['Assignments', 'Requests']);
    const row = page.getByTestId('assignments-table').getByRole('row').filter({ hasText: delegable.name });
    await row.waitFor();
    // Pausing or revoking what she was given is not hers to do; delegating it is.
    await expect(row.getByRole('button').allInnerTexts()).resolves.toEqual(['Delegate']);
    expect(await seriousViolations(page)).toEqual([]);
    await row.getByRole('button', { name: 'Delegate' }).click();
    const form = page.getByRole('form', { name: 'Delegate access' });
    await expect(form.getByRole('heading').innerText()).resolves.toContain(delegable.name);
    await form.getByLabel('Find a person').fill('overc');
    await form.getByRole('option', { name: 'Oswin Overcover (oswin)' }).waitFor();
    await form.getByLabel('Delegate to').selectOption(colleague.body.id);
    await form.getByLabel('Reason').fill('Cover while I am away');
    await form.getByRole('button', { name: 'Delegate' }).click();
    await form.waitFor({ state: 'detached' });
    const delegations = await server.api<{ items: { assignee: { id: string }; delegatorId: string }[] }>('GET', `/api/v1/assignments?delegatedFromId=${source.body.id}`);
    expect(delegations.body.items).toEqual([expect.objectContaining({ assignee: { type: 'identity', id: colleague.body.id }, delegatorId: nora })]);
    // The delegation she made is listed on the receiver's side, not hers; her own list is still hers only.
    expect((await fromPage(page, 'GET', `/api/v1/assignments?assigneeId=${nora}`)).status).toBe(200);
    expect((await fromPage(page, 'GET', `/api/v1/assignments?assigneeId=${colleague.body.id}`)).status).toBe(403);
    await context.close();
  });

  it('a session cookie without the CSRF token cannot write; with it, it can', async () => {
    const { context, page } = await freshPage();
    await signInWithKey(page, server, server.adminKey);
    const body = { name: 'csrf probe' };
    const missing = await fromPage(page, 'POST', '/api/v1/api-keys', body);
    expect(missing.status).toBe(403);
    expect(missing.body.code).toBe('csrf_token_invalid');
    const wrong = await fromPage(page, 'POST', '/api/v1/api-keys', body, { 'X-CSRF-Token': 'not-the-token' });
    expect(wrong.status).toBe(403);
    expect(wrong.body.code).toBe('csrf_token_invalid');
    // Reads need no token; the current session hands the token to a reloaded page.
    const current = await fromPage(page, 'GET', '/api/v1/sessions/current');
    expect(current.status).toBe(200);
    const allowed = await fromPage(page, 'POST', '/api/v1/api-keys', body, { 'X-CSRF-Token': current.body.csrfToken! });
    expect(allowed.status).toBe(201);
    // The console itself sends the token: a write through the page works after a reload.
    await page.reload();
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('textbox', { name: 'Name' }).fill('after reload');
    await page.getByRole('button', { name: 'Create API key' }).click();
    await page.getByTestId('secret').waitFor();
    await context.close();
  });

  it('signs out: the cookie no longer works and the console asks to sign in', async () => {
    const { context, page } = await freshPage();
    await signInWithKey(page, server, server.adminKey);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Grantory' }).waitFor();
    await expect(page.getByText('You are signed out.').isVisible()).resolves.toBe(true);
    expect((await fromPage(page, 'GET', '/api/v1/sessions/current')).status).toBe(401);
    expect((await fromPage(page, 'GET', '/api/v1/me')).status).toBe(401);
    await page.goto(`${server.url}/console/audit`);
    await page.getByRole('heading', { name: 'Sign in to Grantory' }).waitFor();
    expect(new URL(page.url()).searchParams.get('returnTo')).toBe('/audit');
    // Signing in again returns to the page asked for.
    await page.getByRole('tab', { name: 'API key' }).click();
    await page.getByRole('textbox', { name: 'API key' }).fill(server.adminKey);
    await page.getByRole('button', { name: 'Sign in with key' }).click();
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    await context.close();
  });
});
