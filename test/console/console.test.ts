/// <reference lib="dom" />
/**
 * The console in Chromium against a real Grantory with the demo data: sign in, find an
 * identity and see why it holds a permission, grant and revoke, run an import and watch it
 * finish, read an audit event's diff, download an export, create a key (shown once), sign
 * out; a session cookie without the CSRF token cannot write; a caller without rights sees no
 * admin page and gets 403 from the API. Every page is scanned with axe-core.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, newContext, screenshot, seriousViolations, signInWithKey, startConsoleServer, type ConsoleServer } from './harness.ts';

// A real browser on a loaded machine: each step waits up to 10 s, a test up to 90 s.
vi.setConfig({ testTimeout: 90_000 });

let server: ConsoleServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  server = await startConsoleServer();
  browser = await launchChromium();
  context = await newContext(browser);
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function expectAccessible(name: string): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations, `${name}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
}

const console_ = (path: string) => `${server.url}/console${path}`;

interface Identity {
  id: string;
  username: string | null;
  displayName: string | null;
  firstName: string | null;
  lastName: string | null;
}

describe('the console, signed in as the administrator', () => {
  let someone: Identity;
  let someoneName: string;
  let warehouse: { id: string; name: string };

  it('signs in with the administrator API key and shows the overview', async () => {
    await page.goto(console_('/'));
    await page.getByRole('heading', { name: 'Sign in to Grantory' }).waitFor();
    await screenshot(page, 'sign-in');
    await expectAccessible('sign-in');
    await signInWithKey(page, server, server.adminKey);
    await page.getByRole('heading', { name: 'Recent audit events' }).waitFor();
    // The audit chain tile shows the last verification; a fresh install was never verified.
    await page.getByTestId('last-verification').getByText('The chain was never verified.').waitFor();
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link').allInnerTexts()).resolves.toEqual(['Overview', 'Identities', 'Applications', 'Access requests', 'Approvals', 'Audit', 'Settings']);
    // The drift and separation-of-duties tiles show the server's counts (the summary routes), not a page of rows.
    const drift = await server.api<{ items: { applicationName: string; assignedNotProvisioned: number; provisionedNotAssigned: number }[] }>('GET', '/api/v1/access/drift/summary');
    const drifting = drift.body.items.filter((d) => d.assignedNotProvisioned + d.provisionedNotAssigned > 0);
    if (drifting.length === 0) await page.getByText('applications with drift').waitFor();
    for (const d of drifting) {
      await page.getByTestId('drift-list').getByText(`${d.applicationName}: ${d.assignedNotProvisioned.toLocaleString('en-GB')} not provisioned, ${d.provisionedNotAssigned.toLocaleString('en-GB')} not assigned`).waitFor();
    }
    const sod = await server.api<{ unmitigated: number }>('GET', '/api/v1/sod-violations/summary');
    await expect(page.getByTestId('sod-summary').locator('.count-value').innerText()).resolves.toBe(sod.body.unmitigated.toLocaleString('en-GB'));
    // The top bar names the key the session was opened with, and how.
    await expect(page.getByTestId('signed-in-as').innerText()).resolves.toMatch(/^.+ \(API key\)$/);
    await screenshot(page, 'overview');
    await expectAccessible('overview');
    // Nothing secret is kept in the browser's storage.
    const stored = await page.evaluate(() => JSON.stringify({ ...window.localStorage }) + JSON.stringify({ ...window.sessionStorage }));
    expect(stored).not.toContain(server.adminKey);
    expect(stored).toBe('{}{}');
  });

  it('finds an identity by searching the virtualised list', async () => {
    const list = await server.api<{ items: Identity[] }>('GET', '/api/v1/identities?limit=20&status=active');
    someone = list.body.items.find((i) => i.username && i.username !== 'admin')!;
    someoneName = someone.displayName ?? `${someone.firstName} ${someone.lastName}`;
    await page.getByRole('link', { name: 'Identities' }).click();
    await page.getByRole('table', { name: 'Identities' }).waitFor();
    // Only the rows in view are in the DOM.
    const rendered = await page.locator('[data-testid="vtable-scroller"] [role="row"]').count();
    expect(rendered).toBeLessThan(60);
    await screenshot(page, 'identities');
    await expectAccessible('identities');
    await page.getByLabel('Search').fill(someone.username!);
    await page.getByRole('link', { name: someoneName }).click();
    await page.getByRole('heading', { name: someoneName, level: 1 }).waitFor();
  });

  it('grants a permission, shows why the identity holds it as a graph, and revokes it', async () => {
    const permissions = await server.api<{ items: { id: string; name: string }[] }>('GET', '/api/v1/permissions?limit=200&q=payments.approve');
    const permission = permissions.body.items[0]!;
    await page.getByRole('button', { name: 'Grant access' }).click();
    const form = page.getByRole('form', { name: 'Grant access' });
    await form.getByLabel('Search the catalog').fill(permission.name);
    await form.getByLabel('Permission or role').selectOption(`permission:${permission.id}`);
    await form.getByLabel('Reason').fill('Quarter-end payment approvals');
    await form.getByRole('button', { name: 'Grant' }).click();
    const row = page.getByTestId('access-table').getByRole('row').filter({ hasText: permission.name });
    await row.waitFor();

    await row.getByRole('button', { name: /^Why does/ }).click();
    const why = page.getByTestId('why-panel');
    await why.getByTestId('explain-graph').waitFor();
    await why.locator('.react-flow__node').first().waitFor();
    const nodes = await why.locator('.react-flow__node').allInnerTexts();
    expect(nodes.some((n) => n.includes(someoneName))).toBe(true);
    expect(nodes.some((n) => n.includes(permission.name))).toBe(true);
    expect(nodes.some((n) => /Assignment/i.test(n) && n.includes('direct'))).toBe(true);
    await screenshot(page, 'identity-why');
    await expectAccessible('identity');

    await page.getByRole('tab', { name: 'Assignments' }).click();
    const assignment = page.getByTestId('assignments-table').getByRole('row').filter({ hasText: permission.name }).filter({ hasText: 'active' });
    await assignment.getByRole('button', { name: 'Pause' }).click();
    await page.getByTestId('assignments-table').getByRole('row').filter({ hasText: permission.name }).filter({ hasText: 'paused' }).waitFor();
    const paused = page.getByTestId('assignments-table').getByRole('row').filter({ hasText: permission.name }).filter({ hasText: 'paused' });
    await paused.getByRole('button', { name: 'Resume' }).click();
    const resumed = page.getByTestId('assignments-table').getByRole('row').filter({ hasText: permission.name }).filter({ hasText: 'active' });
    await resumed.waitFor();
    await resumed.getByRole('button', { name: 'Revoke' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke this assignment?' });
    await dialog.waitFor();
    await screenshot(page, 'confirm-revoke');
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await page.getByTestId('assignments-table').getByRole('row').filter({ hasText: permission.name }).filter({ hasText: 'revoked' }).waitFor();
    await expectAccessible('assignments');

    const access = await server.api<{ items: { permissionId: string }[] }>('GET', `/api/v1/identities/${someone.id}/access`);
    expect(access.body.items.some((i) => i.permissionId === permission.id)).toBe(false);
  });

  it('configures a connector, runs an import and watches it finish', async () => {
    const apps = await server.api<{ items: { id: string; name: string }[] }>('GET', '/api/v1/applications?q=Data%20Warehouse');
    const app = apps.body.items[0]!;
    await page.getByRole('link', { name: 'Applications' }).click();
    await page.getByRole('link', { name: app.name }).click();
    await page.getByRole('heading', { name: app.name, level: 1 }).waitFor();
    await expectAccessible('application');
    await page.getByRole('tab', { name: 'Connector' }).click();
    const editor = page.getByLabel('Connector configuration (JSON)');
    // The API's validation errors are shown at the field.
    await editor.fill(JSON.stringify({ type: 'file', fileGroups: [{ name: 'grants', pattern: 'grants*.csv', columns: {} }] }));
    await page.getByRole('button', { name: 'Save connector' }).click();
    await page.locator('.field-error').waitFor();
    await editor.fill(
      JSON.stringify({
        type: 'file',
        fileGroups: [{ name: 'grants', pattern: 'grants*.csv', required: true, format: 'csv', columns: { accountName: 'login', username: 'login', permission: 'entitlement' } }],
        matching: ['username'],
      }),
    );
    await page.getByRole('button', { name: 'Save connector' }).click();
    await page.getByText('Saved.').waitFor();

    await page.getByRole('tab', { name: 'Imports' }).click();
    const csv = ['login,entitlement', `${someone.username},dashboards.view`, `${someone.username},queries.run`, 'nobody.known,dashboards.view', 'svc.batch,queries.run'].join('\n');
    await page.getByLabel('grants').setInputFiles({ name: 'grants.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Upload and import' }).click();
    const result = page.getByTestId('import-result');
    await result.waitFor();
    await result.getByText('Finished').waitFor({ timeout: 30_000 });
    await expect(result.innerText()).resolves.toMatch(/Grants added\s*4/);
    await expect(result.innerText()).resolves.toMatch(/Orphans\s*2/);
    await screenshot(page, 'application-import');
    await expectAccessible('imports');
    warehouse = app;
  });

  it('resolves the orphan accounts: links one to its owner, ignores the other after confirming', async () => {
    await page.getByRole('link', { name: 'Resolve the 2 orphan accounts' }).click();
    const table = page.getByTestId('orphans-table');
    await table.getByRole('row').filter({ hasText: 'nobody.known' }).waitFor();
    await expectAccessible('orphans');
    await page.getByRole('button', { name: 'Link nobody.known to an identity' }).click();
    const form = page.getByRole('form', { name: 'Link account nobody.known' });
    // Without a choice the form says so at the field.
    await form.getByRole('button', { name: 'Link' }).click();
    await form.getByText('Choose the identity that owns this account').waitFor();
    await form.getByLabel('Find a person').fill(someone.username!);
    await form.getByLabel('Owner').selectOption(someone.id);
    await form.getByLabel('Note').fill('the old login of this person');
    await form.getByRole('button', { name: 'Link' }).click();
    await table.getByRole('row').filter({ hasText: 'nobody.known' }).waitFor({ state: 'detached' });

    await table.getByRole('row').filter({ hasText: 'svc.batch' }).getByRole('button', { name: 'Ignore' }).click();
    const dialog = page.getByRole('dialog', { name: 'Ignore account svc.batch?' });
    await dialog.getByRole('button', { name: 'Ignore account' }).click();
    await page.getByText('svc.batch is marked ignored.').waitFor();
    await page.getByText('No orphan accounts').waitFor();

    const orphans = await server.api<{ items: unknown[] }>('GET', `/api/v1/orphans?applicationId=${warehouse.id}`);
    expect(orphans.body.items).toEqual([]);
    const resolved = await server.api<{ items: { after: { accountName: string; resolution: string; identityId: string | null } }[] }>('GET', '/api/v1/audit-events?action=account.resolve&limit=10');
    expect(resolved.body.items.map((e) => e.after)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ accountName: 'nobody.known', resolution: 'linked', identityId: someone.id }),
        expect.objectContaining({ accountName: 'svc.batch', resolution: 'ignored', identityId: null }),
      ]),
    );
  });

  it("delegates one of the signed-in identity's own assignments to someone", async () => {
    const me = await server.api<{ identityId: string }>('GET', '/api/v1/me');
    const permissions = await server.api<{ items: { id: string; name: string; delegable: boolean }[] }>('GET', '/api/v1/permissions?limit=200');
    const delegable = permissions.body.items.find((p) => p.delegable && p.name !== 'payments.approve')!;
    const source = await server.api<{ id: string }>('POST', '/api/v1/assignments', { assignee: { type: 'identity', id: me.body.identityId }, resource: { type: 'permission', id: delegable.id }, reason: 'to delegate' });
    expect(source.status).toBe(201);
    await page.goto(console_(`/identities/${me.body.identityId}?tab=assignments`));
    const row = page.getByTestId('assignments-table').getByRole('row').filter({ hasText: delegable.name });
    await row.getByRole('button', { name: 'Delegate' }).click();
    const form = page.getByRole('form', { name: 'Delegate access' });
    await form.getByLabel('Find a person').fill(someone.username!);
    await form.getByLabel('Delegate to').selectOption(someone.id);
    await form.getByLabel('Reason').fill('While I am away');
    await expectAccessible('delegate');
    await form.getByRole('button', { name: 'Delegate' }).click();
    await form.waitFor({ state: 'detached' });

    const delegations = await server.api<{ items: { assignee: { id: string }; source: string; delegatorId: string }[] }>('GET', `/api/v1/assignments?delegatedFromId=${source.body.id}`);
    expect(delegations.body.items).toEqual([expect.objectContaining({ assignee: { type: 'identity', id: someone.id }, source: 'delegation', delegatorId: me.body.identityId })]);
    // The receiver's page shows the delegation and who made it.
    await page.goto(console_(`/identities/${someone.id}?tab=assignments`));
    await page.getByTestId('assignments-table').getByRole('row').filter({ hasText: delegable.name }).filter({ hasText: 'delegation by' }).waitFor();
    // Only one's own assignments can be delegated: no Delegate button on someone else's page.
    await expect(page.getByTestId('assignments-table').getByRole('button', { name: 'Delegate' }).count()).resolves.toBe(0);
  });

  it('filters the audit trail and shows an event before and after', async () => {
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByLabel('Action').fill('assignment.revoke');
    const table = page.getByTestId('audit-table');
    await table.getByRole('button', { name: 'assignment.revoke' }).first().click();
    const diff = page.getByTestId('audit-diff');
    await diff.waitFor();
    const changed = diff.locator('tr.diff-changed').filter({ hasText: 'state' });
    await expect(changed.innerText()).resolves.toMatch(/"active"\s+"revoked"/);
    await screenshot(page, 'audit');
    // Verify checks the whole chain on the server, not only the events loaded here.
    const head = await server.api<{ items: { seq: number }[] }>('GET', '/api/v1/audit-events?order=desc&limit=1');
    await page.getByRole('button', { name: 'Verify the whole chain' }).click();
    const verified = page.getByTestId('verification');
    await verified.getByText('The audit trail is intact.').waitFor();
    await expect(verified.innerText()).resolves.toContain(`to event ${head.body.items[0]!.seq}`);
    await screenshot(page, 'audit-verification');
    await expectAccessible('audit');

    // The verification was recorded: the API answers it as the last one, and the overview shows it.
    const last = await server.api<{ verification: { ok: boolean; source: string; headSeq: number; eventSeq: number; onBehalfOfId: string | null } | null }>('GET', '/api/v1/audit-verification/last');
    expect(last.body.verification).toMatchObject({ ok: true, source: 'api', headSeq: head.body.items[0]!.seq, eventSeq: head.body.items[0]!.seq + 1 });
    const recorded = await server.api<{ items: { action: string; after: { ok: boolean } }[] }>('GET', `/api/v1/audit-events?action=audit.verified&order=desc&limit=1`);
    expect(recorded.body.items[0]).toMatchObject({ action: 'audit.verified', after: { ok: true } });
    const me = await server.api<{ identityId: string; name: string }>('GET', '/api/v1/me');
    expect(last.body.verification!.onBehalfOfId).toBe(me.body.identityId);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    const tile = page.getByTestId('last-verification');
    await tile.getByText('Intact').waitFor();
    await expect(tile.innerText()).resolves.toMatch(new RegExp(`Last verified .* by .+ \\(the console or API\\): ${head.body.items[0]!.seq.toLocaleString("en-GB")} events`));
    await screenshot(page, 'overview-verified');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  });

  it('downloads an export of the audit events', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Audit events (CSV)' }).click()]);
    const path = await download.path();
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')[0]).toMatch(/seq/);
    expect(text).toContain('assignment.revoke');
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
  });

  it('creates an API key and shows its secret once', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.getByLabel('Name').fill('reporting script');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const secret = await page.getByTestId('secret').innerText();
    expect(secret.length).toBeGreaterThan(20);
    // The key works against the API.
    const me = await fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
    expect(me.status).toBe(200);
    await screenshot(page, 'settings');
    await expectAccessible('settings');
    await page.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByTestId('secret').count()).resolves.toBe(0);
    for (const tab of ['OAuth clients', 'Application keys', 'Event sinks']) {
      await page.getByRole('tab', { name: tab }).click();
      await expectAccessible(`settings ${tab}`);
    }
  });

  it('shows the requests and approvals pages', async () => {
    await page.getByRole('link', { name: 'Access requests' }).click();
    await page.getByRole('heading', { name: 'My requests' }).waitFor();
    await expectAccessible('requests');
    await page.getByRole('link', { name: 'Approvals' }).click();
    await page.getByRole('heading', { name: 'Approvals', level: 1 }).waitFor();
    await expectAccessible('approvals');
  });

  it('loads a deep link directly', async () => {
    await page.goto(console_(`/identities/${someone.id}?tab=assignments`));
    await page.getByTestId('assignments-table').waitFor();
  });

  it('raised no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
