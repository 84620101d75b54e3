/**
 * Import test support: an app on the run's backend with an import directory and an import
 * worker that tests drive (tick, then wait for idle — no sleeps), plus small fixtures for
 * applications and identities written through the store (audited like any write).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/api/app.ts';
import type { App } from '../../src/api/deps.ts';
import { createImportWorker, type ImportWorker } from '../../src/jobs/import-worker.ts';
import { systemActor, writeMeta } from '../../src/services/kernel/actor.ts';
import { bootstrap } from '../../src/services/bootstrap.ts';
import { createServices, type Services } from '../../src/services/index.ts';
import type { ImportSettings } from '../../src/services/deps.ts';
import type { ImportView } from '../../src/services/imports/views.ts';
import type { Store } from '../../src/store/store.ts';
import { ADMIN_KEY, openTestStore, TEST_SECRET_KEY, type Backend, type TestStore } from './harness.ts';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';

export interface ImportTestApp extends TestStore {
  app: App;
  services: Services;
  worker: ImportWorker;
  tenantId: string;
  importDir: string;
  auth: { authorization: string };
  close(): Promise<void>;
}

export async function createImportTestApp(options: { backend?: Backend; uploadLimit?: number; now?: () => Date; onCheckpoint?: ImportSettings['onCheckpoint'] } = {}): Promise<ImportTestApp> {
  const ts = await openTestStore(options.backend);
  await ts.store.migrate();
  const secrets = createServerSecrets(TEST_SECRET_KEY);
  const boot = await bootstrap(ts.store, { adminKey: ADMIN_KEY, secrets });
  const importDir = mkdtempSync(join(tmpdir(), 'grantory-imports-'));
  const holder: { worker: ImportWorker | null } = { worker: null };
  const services = createServices({
    store: ts.store,
    secrets,
    now: options.now ?? (() => new Date()),
    imports: { importDir, uploadLimit: options.uploadLimit ?? 10 * 1024 * 1024, notify: () => holder.worker?.kick(), ...(options.onCheckpoint ? { onCheckpoint: options.onCheckpoint } : {}) },
  });
  const worker = createImportWorker({ deps: services.deps, leaseMs: 60_000, failRunningOnStart: false, onError: (e) => console.error('import worker', e) });
  holder.worker = worker;
  const app = await buildApp({ services, store: ts.store, logLevel: 'silent' });
  return {
    ...ts,
    app,
    services,
    worker,
    tenantId: boot.tenantId,
    importDir,
    auth: { authorization: `Bearer ${ADMIN_KEY}` },
    async close() {
      await worker.stop();
      await app.close();
      await ts.dispose();
      rmSync(importDir, { recursive: true, force: true });
    },
  };
}

/** Runs the worker until no import is Pending or Running. */
export async function drain(t: ImportTestApp): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    await t.worker.tick();
    await t.worker.idle();
    const { db } = t.store.read(t.tenantId);
    const busy = await db.selectFrom('imports').select('id').where('tenant_id', '=', t.tenantId).where('status', 'in', ['Pending', 'Running', 'Canceling']).executeTakeFirst();
    if (!busy) return;
  }
  throw new Error('imports did not settle');
}

export async function getImport(t: ImportTestApp, id: string): Promise<ImportView> {
  const res = await t.app.inject({ method: 'GET', url: `/api/v1/imports/${id}`, headers: t.auth });
  if (res.statusCode !== 200) throw new Error(`GET import ${res.statusCode}: ${res.body}`);
  return res.json() as ImportView;
}

export async function createApplication(
  store: Store,
  tenantId: string,
  fields: { name: string; connector?: unknown; archived?: boolean; kind?: string },
): Promise<string> {
  const id = randomUUID();
  await store.write(tenantId, writeMeta(systemActor(tenantId, 'test')), async (tx) => {
    await tx.db
      .insertInto('applications')
      .values({
        id,
        tenant_id: tenantId,
        number: await tx.nextNumber('applications'),
        name: fields.name,
        kind: fields.kind ?? 'connected',
        description: null,
        owner_ids: '[]',
        priority: 'High',
        archived: fields.archived ? 1 : 0,
        builtin: 0,
        connector: null,
        created_at: tx.now,
        updated_at: tx.now,
        version: 1,
      })
      .execute();
    tx.audit({ action: 'application.create', targetType: 'application', targetId: id, after: { name: fields.name } });
    tx.change('application', id, 'create');
  });
  return id;
}

export async function createIdentity(
  store: Store,
  tenantId: string,
  fields: { subject: string; email?: string; employeeNumber?: string; username?: string; firstName?: string; lastName?: string; status?: string; type?: string; attributes?: Record<string, string>; managerId?: string },
): Promise<string> {
  const id = randomUUID();
  await store.write(tenantId, writeMeta(systemActor(tenantId, 'test')), async (tx) => {
    await tx.db
      .insertInto('identities')
      .values({
        id,
        tenant_id: tenantId,
        number: await tx.nextNumber('identities'),
        subject: fields.subject,
        username: fields.username ?? null,
        email: fields.email ?? null,
        first_name: fields.firstName ?? null,
        last_name: fields.lastName ?? null,
        display_name: null,
        employee_number: fields.employeeNumber ?? null,
        type: fields.type ?? 'employee',
        status: fields.status ?? 'active',
        manager_id: fields.managerId ?? null,
        org_unit_id: null,
        attributes: JSON.stringify(fields.attributes ?? {}),
        created_at: tx.now,
        updated_at: tx.now,
        version: 1,
      })
      .execute();
    tx.audit({ action: 'identity.create', targetType: 'identity', targetId: id, after: { subject: fields.subject } });
    tx.change('identity', id, 'create');
  });
  return id;
}

/** Writes a file into an application's folder of the import directory. */
export function dropFile(importDir: string, folder: string, name: string, content: string | Buffer): string {
  mkdirSync(join(importDir, folder), { recursive: true });
  const path = join(importDir, folder, name);
  writeFileSync(path, content);
  return path;
}

/** A multipart/form-data body, as curl -F sends it. */
export function multipartBody(parts: { name: string; value?: string; filename?: string; content?: string | Buffer }[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----grantory${randomUUID().replace(/-/g, '')}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n`));
    if (p.filename !== undefined) {
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: text/csv\r\n\r\n`));
      chunks.push(Buffer.isBuffer(p.content) ? p.content : Buffer.from(p.content ?? ''));
    } else {
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value ?? ''}`));
    }
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** Gives the application a one-file connector (`grants.csv`: login, entitlement; unknown permissions created). */
export async function putGrantsConnector(t: ImportTestApp, applicationId: string, directory: string): Promise<void> {
  const res = await t.app.inject({
    method: 'PUT',
    url: `/api/v1/applications/${applicationId}/connector`,
    headers: t.auth,
    payload: { type: 'file', directory, fileGroups: [{ name: 'grants', pattern: 'grants.csv', columns: { accountName: 'login', permission: 'entitlement' } }], matching: [], unknownPermissions: 'create' },
  });
  if (res.statusCode !== 200) throw new Error(`PUT connector ${res.statusCode}: ${res.body}`);
}
