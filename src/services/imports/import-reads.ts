/**
 * Reading imports: one import, the list (cursor-paged, or by page for vendor profiles), and
 * the stored diff of an import.
 */
import { requireRight, type Actor, openPager, type Page } from '../kernel/index.ts';
import { notFound } from '../../domain/errors.ts';
import type { ServiceDeps } from '../deps.ts';
import { FINAL_STATUSES, toChangeView, toImportView, type ImportChangeView, type ImportView } from './views.ts';

export async function getImport(deps: ServiceDeps, actor: Actor, id: string): Promise<ImportView> {
  requireRight(actor, 'manage-imports');
  const { db } = deps.store.read(actor.caller.tenantId);
  const row = await db.selectFrom('imports').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('import', id);
  return toImportView(row);
}

export interface ImportFilter {
  applicationId?: string | undefined;
  status?: string | undefined;
}

/** Newest first, cursor-paged. */
export async function listImports(
  deps: ServiceDeps,
  actor: Actor,
  filter: ImportFilter,
  page: { cursor?: string | undefined; limit?: number | undefined },
): Promise<Page<ImportView>> {
  requireRight(actor, 'manage-imports');
  const { db, tenantId } = deps.store.read(actor.caller.tenantId);
  const pager = await openPager<number>(deps, tenantId, 'imports', { ...filter }, page);
  let q = db.selectFrom('imports').selectAll();
  if (filter.applicationId) q = q.where('application_id', '=', filter.applicationId);
  if (filter.status) q = q.where('status', '=', filter.status);
  if (pager.after !== null) q = q.where('number', '<', pager.after);
  const rows = await q.orderBy('number', 'desc').limit(pager.limit + 1).execute();
  return pager.page(rows, (r) => Number(r.number), toImportView);
}

/** Offset paging for profiles whose documents page by number (Permission Assist). */
export async function listImportsByPage(
  deps: ServiceDeps,
  actor: Actor,
  filter: ImportFilter,
  offset: number,
  limit: number,
): Promise<{ items: ImportView[]; total: number }> {
  requireRight(actor, 'manage-imports');
  const { db } = deps.store.read(actor.caller.tenantId);
  let q = db.selectFrom('imports');
  if (filter.applicationId) q = q.where('application_id', '=', filter.applicationId);
  if (filter.status) q = q.where('status', '=', filter.status);
  const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await q.selectAll().orderBy('number', 'desc').limit(limit).offset(offset).execute();
  return { items: rows.map(toImportView), total: Number(total.n) };
}

export async function listImportChanges(
  deps: ServiceDeps,
  actor: Actor,
  id: string,
  page: { cursor?: string | undefined; limit?: number | undefined },
  filter: { op?: string | undefined } = {},
): Promise<Page<ImportChangeView>> {
  requireRight(actor, 'manage-imports');
  const { db, tenantId } = deps.store.read(actor.caller.tenantId);
  const exists = await db.selectFrom('imports').select('id').where('id', '=', id).executeTakeFirst();
  if (!exists) throw notFound('import', id);
  const pager = await openPager<number>(deps, tenantId, 'import-changes', { id, ...filter }, page);
  let q = db.selectFrom('import_changes').selectAll().where('import_id', '=', id);
  if (filter.op) q = q.where('op', '=', filter.op);
  if (pager.after !== null) q = q.where('seq', '>', pager.after);
  const rows = await q.orderBy('seq').limit(pager.limit + 1).execute();
  return pager.page(rows, (r) => Number(r.seq), toChangeView);
}

export const isFinal = (status: string): boolean => (FINAL_STATUSES as readonly string[]).includes(status);
