/**
 * Reads of effective access, answered by the in-memory index: check (and batch), an
 * identity's access, holders of a permission, explain and drift. Each answer carries the
 * `revision` it reflects; `minRevision` makes the read wait (bounded) until this node has
 * applied that revision.
 *
 * Rights: `read-permissions-any-application`; a check about the caller's own application
 * (a credential bound to an application) also passes with `read-permissions-my-application`.
 */
import type { AccessContext, AccessSpace, ContextType } from '../../domain/access.ts';
import { AppError, notFound } from '../../domain/errors.ts';
import { NONE } from '../../engine/nodes.ts';
import { driftList, driftSummary, type ApplicationDriftCounts } from '../../engine/drift-summary.ts';
import { explain, type ApplicationDrift, type Explanation } from '../../engine/explain.ts';
import { askContext, checkSlots, holders, listAccess, type HeldPermission, type HeldVia } from '../../engine/queries.ts';
import type { TenantIndex } from '../../engine/tenant-index.ts';
import { requireRight, type Actor } from '../kernel/index.ts';
import { decodeCursor, encodeCursor, engineOf } from './common.ts';
import type { ServiceDeps } from '../deps.ts';

export interface ReadOptions {
  minRevision?: number | undefined;
  space?: AccessSpace | undefined;
}

/** An identity by id, else by subject, else by username. */
export function findIdentity(index: TenantIndex, ref: string): number {
  let i = index.identities.find(ref);
  if (i !== NONE && index.identities.get(i).exists) return i;
  i = index.identitySlotByKey(ref);
  return i;
}

export function findApplication(index: TenantIndex, ref: string): number {
  const byId = index.apps.find(ref);
  if (byId !== NONE && index.apps.get(byId).exists) return byId;
  return index.appByName.get(ref) ?? NONE;
}

/** A permission by id, or by name within the application. */
export function findPermission(index: TenantIndex, app: number, ref: string): number {
  const byId = index.perms.find(ref);
  if (byId !== NONE && index.perms.get(byId).exists && (app === NONE || index.perms.get(byId).app === app)) return byId;
  if (app === NONE) return NONE;
  return index.permByAppName.get(`${app}\u0000${ref}`) ?? NONE;
}

export interface CheckInput {
  identity: string;
  application?: string | undefined;
  permission: string;
  context?: { type: ContextType; id?: string | null | undefined } | undefined;
  space?: AccessSpace | undefined;
}

function requireReadFor(actor: Actor, index: TenantIndex, app: number): void {
  if (actor.caller.rights.has('read-permissions-any-application')) return;
  if (app !== NONE && actor.caller.applicationId !== null && actor.caller.rights.has('read-permissions-my-application') && index.apps.get(app).id === actor.caller.applicationId) return;
  requireRight(actor, 'read-permissions-any-application');
}

/** A check's answer; `reason` says why an unknown identity is not allowed. */
export interface CheckAnswer {
  allowed: boolean;
  reason?: string;
}

/**
 * Answers one check. An application or permission that does not exist is a 404 naming
 * which (`field` prefixes the field names, for a batch); an identity that does not exist
 * is not allowed (fail closed), with a `reason`.
 */
function evaluateCheck(index: TenantIndex, input: CheckInput, now: number, actor: Actor, field = ''): CheckAnswer {
  const app = input.application === undefined ? NONE : findApplication(index, input.application);
  const permission = findPermission(index, app, input.permission);
  // Rights first: a caller who may not ask learns nothing about which names exist.
  requireReadFor(actor, index, permission === NONE ? app : index.perms.get(permission).app);
  if (input.application !== undefined && app === NONE) {
    throw new AppError('not_found', `application ${input.application} does not exist`, { errors: [{ field: `${field}application`, message: 'names no application (by id or name)' }] });
  }
  if (permission === NONE) {
    const where = input.application === undefined ? '; name its application, or give the permission id' : ` in application ${input.application}`;
    throw new AppError('not_found', `permission ${input.permission} does not exist${where}`, {
      errors: [{ field: `${field}permission`, message: input.application === undefined ? 'names no permission id' : 'names no permission of the application' }],
    });
  }
  const identity = findIdentity(index, input.identity);
  if (identity === NONE) return { allowed: false, reason: `identity ${input.identity} does not exist (by id, subject or username)` };
  const context: AccessContext | undefined = input.context ? { type: input.context.type, id: input.context.id ?? null } : undefined;
  return checkSlots(index, identity, permission, askContext(index, context), now, input.space ?? 'assigned') ? ALLOWED : DENIED;
}

/** The two answers of a known identity, shared (a batch of 1,000 allocates no answer). */
const ALLOWED: CheckAnswer = Object.freeze({ allowed: true });
const DENIED: CheckAnswer = Object.freeze({ allowed: false });

export async function checkAccess(deps: ServiceDeps, actor: Actor, input: CheckInput, options: ReadOptions = {}): Promise<CheckAnswer & { revision: number }> {
  const engine = engineOf(deps);
  const { index, revision } = await engine.at(actor.caller.tenantId, options.minRevision);
  return { ...evaluateCheck(index, input, engine.now(), actor), revision };
}

/** Every check of the batch at one revision; one naming an unknown application or permission makes the batch a 404 naming its index. */
export async function checkAccessBatch(deps: ServiceDeps, actor: Actor, checks: CheckInput[], options: ReadOptions = {}): Promise<{ results: CheckAnswer[]; revision: number }> {
  if (checks.length > 1000) throw new AppError('validation_failed', 'a batch holds at most 1000 checks', { errors: [{ field: 'checks', message: 'has more than 1000 items' }] });
  const engine = engineOf(deps);
  const { index, revision } = await engine.at(actor.caller.tenantId, options.minRevision);
  const now = engine.now();
  const results = checks.map((c, i) => {
    try {
      return evaluateCheck(index, c, now, actor, `checks.${i}.`);
    } catch (e) {
      if (e instanceof AppError && e.code === 'not_found') throw new AppError('not_found', `checks[${i}]: ${e.message}`, { errors: e.errors ?? [] });
      throw e;
    }
  });
  return { results, revision };
}

export async function identityAccess(
  deps: ServiceDeps,
  actor: Actor,
  identityId: string,
  options: ReadOptions & { applicationId?: string | undefined },
): Promise<{ identityId: string; space: AccessSpace; items: HeldPermission[]; revision: number }> {
  requireRight(actor, 'read-permissions-any-application');
  const engine = engineOf(deps);
  const { index, revision } = await engine.at(actor.caller.tenantId, options.minRevision);
  const identity = findIdentity(index, identityId);
  if (identity === NONE) throw notFound('identity', identityId);
  let app = NONE;
  if (options.applicationId !== undefined) {
    app = findApplication(index, options.applicationId);
    if (app === NONE) throw notFound('application', options.applicationId);
  }
  const space = options.space ?? 'assigned';
  return { identityId: index.identities.get(identity).id, space, items: listAccess(index, identity, engine.now(), space, app), revision };
}

export interface HolderView {
  identity: { id: string; subject: string; username: string | null; displayName: string | null; status: string };
  via: HeldVia[];
}

export async function permissionHolders(
  deps: ServiceDeps,
  actor: Actor,
  permissionId: string,
  options: ReadOptions & { cursor?: string | undefined; limit?: number | undefined },
): Promise<{ items: HolderView[]; nextCursor: string | null; revision: number }> {
  requireRight(actor, 'read-permissions-any-application');
  const engine = engineOf(deps);
  const { index, revision } = await engine.at(actor.caller.tenantId, options.minRevision);
  const permission = findPermission(index, NONE, permissionId);
  if (permission === NONE) throw notFound('permission', permissionId);
  const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
  const page = holders(index, permission, engine.now(), options.space ?? 'assigned', decodeCursor(options.cursor), limit);
  return {
    items: page.items.map(({ identity, via }) => {
      const n = index.identities.get(identity);
      return { identity: { id: n.id, subject: n.subject, username: n.username, displayName: n.displayName, status: n.status }, via };
    }),
    nextCursor: page.nextAfter === null ? null : encodeCursor(page.nextAfter),
    revision,
  };
}

export async function explainAccess(
  deps: ServiceDeps,
  actor: Actor,
  input: { identity: string; permission: string; application?: string | undefined; context?: AccessContext | undefined },
  options: ReadOptions = {},
): Promise<Explanation & { revision: number; identityId: string; permissionId: string }> {
  requireRight(actor, 'read-permissions-any-application');
  const engine = engineOf(deps);
  const { index, revision } = await engine.at(actor.caller.tenantId, options.minRevision);
  const identity = findIdentity(index, input.identity);
  if (identity === NONE) throw notFound('identity', input.identity);
  const app = input.application === undefined ? NONE : findApplication(index, input.application);
  if (input.application !== undefined && app === NONE) throw notFound('application', input.application);
  const permission = findPermission(index, app, input.permission);
  if (permission === NONE) throw notFound('permission', input.permission);
  const result = explain(index, identity, permission, askContext(index, input.context), engine.now(), options.space ?? 'assigned');
  return { ...result, identityId: index.identities.get(identity).id, permissionId: index.perms.get(permission).id, revision };
}

export async function accessDrift(
  deps: ServiceDeps,
  actor: Actor,
  options: { applicationId?: string | undefined; limit?: number | undefined; minRevision?: number | undefined },
): Promise<{ items: ApplicationDrift[]; revision: number }> {
  requireRight(actor, 'read-permissions-any-application');
  const engine = engineOf(deps);
  await engine.at(actor.caller.tenantId, options.minRevision);
  const { applicationId } = options;
  const find = applicationId === undefined ? null : (index: TenantIndex) => findApplication(index, applicationId);
  return driftList(engine, actor.caller.tenantId, find, Math.min(Math.max(options.limit ?? 1000, 1), 10_000), () => notFound('application', applicationId ?? ''));
}

/**
 * Drift counted per connected application (the console's overview): the counts of
 * {@link accessDrift}'s full answer, kept per access index and brought up to date from the
 * identities each change touches.
 */
export async function accessDriftSummary(deps: ServiceDeps, actor: Actor, options: { minRevision?: number | undefined }): Promise<{ items: ApplicationDriftCounts[]; revision: number }> {
  requireRight(actor, 'read-permissions-any-application');
  const engine = engineOf(deps);
  await engine.at(actor.caller.tenantId, options.minRevision);
  return driftSummary(engine, actor.caller.tenantId);
}
