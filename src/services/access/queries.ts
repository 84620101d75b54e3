/**
 * Reads of effective access, answered by the in-memory index: an identity's access, holders
 * of a permission, explain and drift (checks are in checks.ts). Each answer carries the
 * `revision` it reflects; `minRevision` makes the read wait (bounded) until this node has
 * applied that revision.
 *
 * Rights: `read-permissions-any-application`; a check about the caller's own application
 * (a credential bound to an application) also passes with `read-permissions-my-application`
 * (checks.ts).
 */
import type { AccessContext, AccessSpace } from '../../domain/access.ts';
import { notFound } from '../../domain/errors.ts';
import { NONE } from '../../engine/nodes.ts';
import { driftList, driftSummary, type ApplicationDriftCounts } from '../../engine/drift-summary.ts';
import { explain, type ApplicationDrift, type Explanation } from '../../engine/explain.ts';
import { askContext, holders, listAccess, type HeldPermission, type HeldVia } from '../../engine/queries.ts';
import type { TenantIndex } from '../../engine/tenant-index.ts';
import { requireRight, type Actor } from '../kernel/index.ts';
import { decodeCursor, encodeCursor, engineOf } from './common.ts';
import type { ServiceDeps } from '../deps.ts';

export interface ReadOptions {
  minRevision?: number | undefined;
  space?: AccessSpace | undefined;
}

/*
 * The look-ups by reference take the reference as `text` from `start` to `end` (the whole
 * string by default): a batch of checks read from the request's text is looked up by id
 * without slicing its strings out (`Table.findText`); a name is sliced only when no id matches.
 */

/** An identity by id, else by subject, else by username. */
export function findIdentity(index: TenantIndex, text: string, start = 0, end = text.length): number {
  const i = index.identities.findText(text, start, end);
  if (i !== NONE && index.identities.get(i).exists) return i;
  return index.identitySlotByKey(text.slice(start, end));
}

/** An application by id, else by name. */
export function findApplication(index: TenantIndex, text: string, start = 0, end = text.length): number {
  const byId = index.apps.findText(text, start, end);
  if (byId !== NONE && index.apps.get(byId).exists) return byId;
  return index.appByName.get(text.slice(start, end)) ?? NONE;
}

/** A permission by id, or by name within the application. */
export function findPermission(index: TenantIndex, app: number, text: string, start = 0, end = text.length): number {
  const byId = index.perms.findText(text, start, end);
  if (byId !== NONE && index.perms.get(byId).exists && (app === NONE || index.perms.get(byId).app === app)) return byId;
  if (app === NONE) return NONE;
  return index.permByAppName.get(`${app}\u0000${text.slice(start, end)}`) ?? NONE;
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
