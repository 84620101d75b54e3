/**
 * Shared pieces of the access services: the engine handle, assignment rendering, reference
 * checks inside a write, and "never grant what you don't hold".
 */
import { AppError, notFound } from '../../domain/errors.ts';
import { GRANTORY_APPLICATION, isRight, type Right } from '../../domain/rights.ts';
import type { AccessContext, ContextType } from '../../domain/access.ts';
import type { AccessEngine } from '../../engine/engine.ts';
import type { Database } from '../../store/schema.ts';
import type { TenantDb } from '../../store/store.ts';
import type { Actor } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';

export function engineOf(deps: ServiceDeps): AccessEngine {
  if (!deps.access) throw new AppError('not_ready', 'the access index is not running on this node');
  return deps.access;
}

/**
 * After a committed write: let this node's index apply it before answering, so the writer
 * reads its own write here without `minRevision`. A failure never fails the write.
 */
export async function afterWrite(deps: ServiceDeps, tenantId: string): Promise<void> {
  if (!deps.access) return;
  await deps.access.syncNow(tenantId).catch(() => undefined);
}

export interface AssignmentView {
  id: string;
  assignee: { type: 'identity' | 'orgUnit'; id: string };
  resource: { type: 'permission' | 'role'; id: string };
  context: AccessContext;
  source: string;
  state: string;
  validFrom: string | null;
  validTo: string | null;
  delegatedFromId: string | null;
  delegatorId: string | null;
  ruleId: string | null;
  reason: string | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export function toAssignmentView(r: Database['assignments']): AssignmentView {
  return {
    id: r.id,
    assignee: { type: r.assignee_type === 'orgUnit' ? 'orgUnit' : 'identity', id: r.assignee_id },
    resource: { type: r.resource_type === 'role' ? 'role' : 'permission', id: r.resource_id },
    context: { type: r.context_type as ContextType, id: r.context_id },
    source: r.source,
    state: r.state,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    delegatedFromId: r.delegated_from_id,
    delegatorId: r.delegator_id ?? null,
    ruleId: r.rule_id,
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    version: Number(r.version),
  };
}

export function invalid(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field} ${message}`, { errors: [{ field, message }] });
}

async function exists(scope: TenantDb, table: 'identities' | 'org_units' | 'permissions' | 'roles', id: string): Promise<boolean> {
  const row = await scope.db.selectFrom(table).select('id').where('id', '=', id).executeTakeFirst();
  return !!row;
}

export async function requireAssignee(scope: TenantDb, a: { type: string; id: string }): Promise<void> {
  const found = a.type === 'orgUnit' ? await exists(scope, 'org_units', a.id) : await exists(scope, 'identities', a.id);
  if (!found) throw notFound(a.type === 'orgUnit' ? 'organization unit' : 'identity', a.id);
}

export async function requireResource(scope: TenantDb, r: { type: string; id: string }): Promise<void> {
  const found = r.type === 'role' ? await exists(scope, 'roles', r.id) : await exists(scope, 'permissions', r.id);
  if (!found) throw notFound(r.type === 'role' ? 'role' : 'permission', r.id);
}

/** Validates a context: `all` has no id; a unit or identity context names one that exists. */
export async function normalizeContext(scope: TenantDb, c: { type: string; id?: string | null | undefined } | undefined): Promise<AccessContext> {
  if (!c || c.type === 'all') {
    if (c?.id) throw invalid('context.id', 'must be absent for context all');
    return { type: 'all', id: null };
  }
  if (!c.id) throw invalid('context.id', `is required for context ${c.type}`);
  if (c.type === 'orgUnit' && !(await exists(scope, 'org_units', c.id))) throw notFound('organization unit', c.id);
  if (c.type === 'identity' && !(await exists(scope, 'identities', c.id))) throw notFound('identity', c.id);
  return { type: c.type as ContextType, id: c.id };
}

/** Grantory's own rights a resource would give (a role's, transitively). */
export async function rightsGivenBy(scope: TenantDb, resource: { type: string; id: string }): Promise<Right[]> {
  const { db } = scope;
  let permissionIds: string[] = [];
  if (resource.type === 'permission') permissionIds = [resource.id];
  else {
    const seen = new Set<string>();
    let frontier = [resource.id];
    while (frontier.length) {
      const next = frontier.filter((r) => !seen.has(r));
      if (!next.length) break;
      next.forEach((r) => seen.add(r));
      const perms = await db.selectFrom('role_permissions').select('permission_id').where('role_id', 'in', next).execute();
      permissionIds.push(...perms.map((p) => p.permission_id));
      const inc = await db.selectFrom('role_includes').select('included_role_id').where('role_id', 'in', next).execute();
      frontier = inc.map((i) => i.included_role_id);
    }
  }
  if (!permissionIds.length) return [];
  const rows = await db
    .selectFrom('permissions')
    .innerJoin('applications', 'applications.id', 'permissions.application_id')
    .select('permissions.name')
    .where('applications.name', '=', GRANTORY_APPLICATION)
    .where('applications.builtin', '=', 1)
    .where('permissions.id', 'in', [...new Set(permissionIds)])
    .execute();
  return rows.map((r) => r.name).filter(isRight);
}

/** Nobody may give a Grantory right they do not hold themselves. */
export async function requireHoldsRightsOf(scope: TenantDb, actor: Actor, resource: { type: string; id: string }): Promise<void> {
  const beyond = (await rightsGivenBy(scope, resource)).filter((r) => !actor.caller.rights.has(r));
  if (beyond.length) {
    throw new AppError('forbidden', `the assignment would give rights the caller does not hold: ${[...new Set(beyond)].join(', ')}`, {
      details: { rightsBeyondCaller: [...new Set(beyond)] },
    });
  }
}

export function validateWindow(validFrom: string | null | undefined, validTo: string | null | undefined): void {
  if (validFrom && Number.isNaN(Date.parse(validFrom))) throw invalid('validFrom', 'is not a date-time');
  if (validTo && Number.isNaN(Date.parse(validTo))) throw invalid('validTo', 'is not a date-time');
  if (validFrom && validTo && Date.parse(validFrom) >= Date.parse(validTo)) throw invalid('validTo', 'must be after validFrom');
}

/** Opaque cursors: base64url of the last id of the page. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | null {
  if (!cursor) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text || text.length > 200 || encodeCursor(text) !== cursor) throw new AppError('invalid_cursor', 'the cursor is not valid for this list');
  return text;
}
