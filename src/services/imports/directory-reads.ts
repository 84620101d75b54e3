/**
 * Page-numbered reads of identities and applications for the Permission Assist profile.
 * The directory issues own these objects; until their services exist these small reads
 * go to the tables directly (read-only), with the same rights checks a service would make.
 */
import { notFound } from '../../domain/errors.ts';
import type { Database } from '../../store/schema.ts';
import { requireRight, type Actor } from '../kernel/index.ts';
import { lastImportsOf } from '../catalog/index.ts';
import type { ServiceDeps } from '../deps.ts';

export interface IdentityRecord {
  row: Database['identities'];
  managerName: string | null;
}

function displayName(r: Pick<Database['identities'], 'display_name' | 'first_name' | 'last_name' | 'username' | 'subject'>): string {
  return r.display_name ?? ([r.first_name, r.last_name].filter(Boolean).join(' ') || r.username || r.subject);
}

async function withManagers(deps: ServiceDeps, tenantId: string, rows: Database['identities'][]): Promise<IdentityRecord[]> {
  const ids = [...new Set(rows.map((r) => r.manager_id).filter((m): m is string => m !== null))];
  const managers = new Map<string, string>();
  if (ids.length) {
    const { db } = deps.store.read(tenantId);
    const found = await db
      .selectFrom('identities')
      .select(['id', 'display_name', 'first_name', 'last_name', 'username', 'subject'])
      .where('id', 'in', ids)
      .execute();
    for (const m of found) managers.set(m.id, displayName(m));
  }
  return rows.map((row) => ({ row, managerName: row.manager_id ? (managers.get(row.manager_id) ?? null) : null }));
}

export async function listIdentitiesByPage(deps: ServiceDeps, actor: Actor, offset: number, limit: number): Promise<{ items: IdentityRecord[]; total: number }> {
  requireRight(actor, 'manage-users', 'manage-imports', 'approve-requests', 'manage-personnel-events');
  const { db, tenantId } = deps.store.read(actor.caller.tenantId);
  const total = await db.selectFrom('identities').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await db.selectFrom('identities').selectAll().orderBy('number').limit(limit).offset(offset).execute();
  return { items: await withManagers(deps, tenantId, rows), total: Number(total.n) };
}

export async function getIdentityRecord(deps: ServiceDeps, actor: Actor, id: string): Promise<IdentityRecord> {
  requireRight(actor, 'manage-users', 'manage-imports', 'approve-requests', 'manage-personnel-events');
  const { db, tenantId } = deps.store.read(actor.caller.tenantId);
  const row = await db.selectFrom('identities').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('identity', id);
  return (await withManagers(deps, tenantId, [row]))[0]!;
}

export interface ApplicationRecord {
  row: Database['applications'];
  lastImport: Database['imports'] | null;
}

export async function listApplicationsByPage(deps: ServiceDeps, actor: Actor, offset: number, limit: number): Promise<{ items: ApplicationRecord[]; total: number }> {
  requireRight(actor, 'manage-applications', 'manage-imports');
  const { db, tenantId } = deps.store.read(actor.caller.tenantId);
  const total = await db.selectFrom('applications').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await db.selectFrom('applications').selectAll().orderBy('number').limit(limit).offset(offset).execute();
  const last = await lastImportsOf(deps.store.read(tenantId), rows.map((r) => r.id));
  return { items: rows.map((row) => ({ row, lastImport: last.get(row.id) ?? null })), total: Number(total.n) };
}

export async function getApplicationRecord(deps: ServiceDeps, actor: Actor, id: string): Promise<ApplicationRecord> {
  requireRight(actor, 'manage-applications', 'manage-imports');
  const { db, tenantId } = deps.store.read(actor.caller.tenantId);
  const row = await db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('application', id);
  const last = await lastImportsOf(deps.store.read(tenantId), [row.id]);
  return { row, lastImport: last.get(row.id) ?? null };
}
