/**
 * Separation of duties inside a write: what conflicts a proposed addition of access would
 * create ({@link checkSod}), refusing or letting it through by the policies' modes
 * ({@link enforceSod}), and recording an approved exception ({@link recordSodException}).
 *
 * Every path that adds access calls these in its own write, before it inserts the
 * assignment, so the check sees the write's state (what it has done so far on top of the
 * last commit — see model.ts) plus the proposal, and a refusal rolls the whole write back.
 *
 * ```ts
 * const conflicts = await checkSod(tx, deps, { identityIds: [id], adds: [{ type: 'role', id: roleId }] });
 * await enforceSod(tx, actor, conflicts, { exception: body.sodException, subject: { type: 'assignment', id: null } });
 * ```
 */
import { randomUUID } from 'node:crypto';
import type { AccessContext } from '../../domain/access.ts';
import { AppError } from '../../domain/errors.ts';
import { contextsMeet, findConflicts, resourceKey, type SodHeldItem, type SodMode, type SodResource, type SodSeverity, type SodVia } from '../../domain/sod.ts';
import type { Database } from '../../store/schema.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import type { Actor } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { sodCatalog } from './catalog.ts';
import { checkHoldings } from './check-holdings.ts';
import { chunked, membersOfUnits, policyResourcesGiven } from './model.ts';
import { toPolicyRule } from './policies.ts';

export interface SodAdd {
  type: 'permission' | 'role';
  id: string;
  /** Defaults to `All`. */
  context?: AccessContext | undefined;
  /** The source the assignment would have (`direct`, `rule`, `request`, `delegation`); default `direct`. */
  source?: string | undefined;
}

export interface SodCheckInput {
  /** Identities that would receive every addition. */
  identityIds?: readonly string[] | undefined;
  /** Units that would receive every addition: their members and those of the units below are checked. */
  orgUnitIds?: readonly string[] | undefined;
  adds: readonly SodAdd[];
}

export interface SodExceptionView {
  id: string;
  policyId: string;
  identityId: string;
  reason: string;
  expiresAt: string;
  approvedBy: { id: string; name: string | null; identityId: string | null };
  subject: { type: string; id: string | null };
  createdAt: string;
  /** Revoked before it expired: it no longer mitigates (null while not revoked). */
  revoked: { at: string; by: { id: string; name: string | null; identityId: string | null }; reason: string | null } | null;
}

export interface SodHeldView {
  resource: SodResource & { name: string | null };
  via: SodVia[];
}

export interface SodConflict {
  policy: { id: string; name: string; mode: SodMode; severity: SodSeverity };
  identityId: string;
  /** Per set of the policy: what the identity holds (or would) of it, and the assignments behind it. */
  conflicting: { set: number; held: SodHeldView[] }[];
  /** An unexpired exception that mitigates this conflict, if any. */
  exception: SodExceptionView | null;
}

export function toExceptionView(r: Database['sod_exceptions']): SodExceptionView {
  return {
    id: r.id,
    policyId: r.policy_id,
    identityId: r.identity_id,
    reason: r.reason,
    expiresAt: r.expires_at,
    approvedBy: { id: r.approved_by, name: r.approved_by_name, identityId: r.approver_identity_id },
    subject: { type: r.subject_type, id: r.subject_id },
    createdAt: r.created_at,
    revoked: r.revoked_at ? { at: r.revoked_at, by: { id: r.revoked_by ?? '', name: r.revoked_by_name, identityId: r.revoker_identity_id }, reason: r.revoke_reason } : null,
  };
}

/** The unexpired, unrevoked exceptions of these identities, the one lasting longest per (policy, identity). */
export async function activeExceptions(scope: TenantDb, identityIds: readonly string[] | null, nowIso: string): Promise<Map<string, SodExceptionView>> {
  const out = new Map<string, SodExceptionView>();
  const take = (rows: Database['sod_exceptions'][]) => {
    for (const r of rows) {
      const k = `${r.policy_id}|${r.identity_id}`;
      const known = out.get(k);
      if (!known || known.expiresAt < r.expires_at) out.set(k, toExceptionView(r));
    }
  };
  const base = () => scope.db.selectFrom('sod_exceptions').selectAll().where('expires_at', '>', nowIso).where('revoked_at', 'is', null);
  if (identityIds === null) take(await base().execute());
  else for (const ids of chunked([...new Set(identityIds)])) take(await base().where('identity_id', 'in', ids).execute());
  return out;
}

/** Names of policy resources, for explanations. */
export async function resourceNames(scope: TenantDb, resources: readonly SodResource[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const type of ['permission', 'role'] as const) {
    const ids = [...new Set(resources.filter((r) => r.type === type).map((r) => r.id))];
    const table = type === 'role' ? 'roles' : 'permissions';
    for (const part of chunked(ids)) {
      for (const r of await scope.db.selectFrom(table).select(['id', 'name']).where('id', 'in', part).execute()) names.set(`${type}:${r.id}`, r.name);
    }
  }
  return names;
}

/**
 * The conflicts the additions would create for the identities (and unit members) that
 * receive them, on the write's own state. Only conflicts an addition takes part in are
 * returned; each names the policy, its mode and severity, what is held of each set and
 * the assignments behind it (`assignmentId: null, proposed: true` for the addition), and
 * the unexpired exception that mitigates it, if any. No policy touched: no query beyond
 * the tenant's policy catalog (catalog.ts: cached between writes while unchanged). What the
 * identities hold is read from the access index when it holds the write's state, else from
 * the write (check-holdings.ts).
 */
export async function checkSod(tx: TenantDb, deps: Pick<ServiceDeps, 'now' | 'access'>, input: SodCheckInput): Promise<SodConflict[]> {
  if (!input.adds.length) return [];
  const { policies, keys, graph } = await sodCatalog(tx);
  if (!graph) return [];
  // A permission gives only itself: one no policy names cannot take part in a conflict.
  if (input.adds.every((a) => a.type === 'permission' && !keys.has(resourceKey(a)))) return [];
  const now = deps.now().getTime();
  const nowIso = new Date(now).toISOString();
  const given = input.adds.map((add) => ({ add, gives: policyResourcesGiven(graph, add) })).filter((g) => g.gives.length > 0);
  if (!given.length) return [];

  const reachedVia = new Map<string, { type: 'identity' | 'orgUnit'; id: string }>();
  for (const u of input.orgUnitIds ?? []) for (const m of await membersOfUnits(tx, [u])) reachedVia.set(m, { type: 'orgUnit', id: u });
  for (const id of input.identityIds ?? []) reachedVia.set(id, { type: 'identity', id });
  const targets = [...reachedVia.keys()];
  if (!targets.length) return [];
  const addedUnits = given.flatMap(({ add }) => (add.context?.type === 'orgUnit' && add.context.id ? [add.context.id] : []));
  const holdings = await checkHoldings(tx, deps.access, graph, targets, addedUnits, now);

  const rules = policies.map(toPolicyRule);
  const findings: { identityId: string; found: ReturnType<typeof findConflicts> }[] = [];
  for (const identityId of targets) {
    const counting = holdings.counting(identityId);
    if (!counting) continue;
    const held: SodHeldItem[] = [];
    for (const via of counting) for (const resource of policyResourcesGiven(graph, via.assigned)) held.push({ resource, via });
    for (const { add, gives } of given) {
      const via: SodVia = {
        assignmentId: null,
        proposed: true,
        source: add.source ?? 'direct',
        assignee: reachedVia.get(identityId)!,
        assigned: { type: add.type, id: add.id },
        context: add.context ?? { type: 'all', id: null },
      };
      for (const resource of gives) held.push({ resource, via });
    }
    await holdings.knowUnits(held.filter((h) => h.via.context.type === 'orgUnit' && h.via.context.id).map((h) => h.via.context.id!));
    const found = findConflicts(rules, held, (a, b) => contextsMeet(a, b, holdings.ancestors), { needProposed: true });
    if (found.length) findings.push({ identityId, found });
  }
  return explainFindings(tx, findings, nowIso, holdings.names);
}

/**
 * The findings per identity as conflicts: resources named, and the unexpired exception that
 * mitigates each (read from `tx`). `names`: the resources' names when at hand, else read.
 */
export async function explainFindings(
  tx: TenantDb,
  findings: readonly { identityId: string; found: ReturnType<typeof findConflicts> }[],
  nowIso: string,
  names: ((resource: SodResource) => string | null) | null = null,
): Promise<SodConflict[]> {
  if (!findings.length) return [];
  const exceptions = await activeExceptions(tx, findings.map((f) => f.identityId), nowIso);
  let nameOf: (resource: SodResource) => string | null;
  if (names) nameOf = names;
  else {
    const read = await resourceNames(tx, findings.flatMap((f) => f.found.flatMap((c) => c.sets.flatMap((s) => s.held.map((h) => h.resource)))));
    nameOf = (r) => read.get(resourceKey(r)) ?? null;
  }
  return findings.flatMap(({ identityId, found }) =>
    found.map((c) => ({
      policy: { id: c.policy.id, name: c.policy.name, mode: c.policy.mode, severity: c.policy.severity },
      identityId,
      conflicting: c.sets.map((s) => ({ set: s.set, held: s.held.map((h) => ({ resource: { ...h.resource, name: nameOf(h.resource) }, via: h.via })) })),
      exception: exceptions.get(`${c.policy.id}|${identityId}`) ?? null,
    })),
  );
}

/** Whether any enabled policy names something the additions give (cheap: no identity is read). */
export async function sodTouches(tx: TenantDb, adds: readonly SodAdd[]): Promise<boolean> {
  if (!adds.length) return false;
  const { keys, graph } = await sodCatalog(tx);
  if (!graph) return false;
  if (adds.every((a) => a.type === 'permission' && !keys.has(resourceKey(a)))) return false;
  return adds.some((add) => policyResourcesGiven(graph, add).length > 0);
}

/** The conflicts that stop a write: `block` ones, and `require_exception` ones without an unexpired exception. */
export function unmitigated(conflicts: readonly SodConflict[]): SodConflict[] {
  return conflicts.filter((c) => c.policy.mode === 'block' || c.exception === null);
}

export interface SodExceptionInput {
  reason: string;
  expiresAt: string;
}

/** Checks an exception's fields and that the caller may approve one (`approve-requests`). */
export function validateSodException(actor: Actor, exception: SodExceptionInput, now: Date, field = 'sodException'): void {
  const name = (n: string) => (field ? `${field}.${n}` : n);
  if (actor.caller.kind !== 'system' && !actor.caller.rights.has('approve-requests')) {
    throw new AppError('forbidden', 'recording a separation-of-duties exception needs the right approve-requests', { details: { requiredRights: ['approve-requests'] } });
  }
  if (!exception.reason || !exception.reason.trim()) throw new AppError('validation_failed', `${name('reason')} must not be empty`, { errors: [{ field: name('reason'), message: 'must not be empty' }] });
  const at = Date.parse(exception.expiresAt);
  if (Number.isNaN(at)) throw new AppError('validation_failed', `${name('expiresAt')} is not a date-time`, { errors: [{ field: name('expiresAt'), message: 'is not a date-time' }] });
  if (at <= now.getTime()) throw new AppError('validation_failed', `${name('expiresAt')} must be in the future`, { errors: [{ field: name('expiresAt'), message: 'must be in the future' }] });
}

/** Records an approved exception for one policy and identity, with its audit event. */
export async function recordSodException(
  tx: WriteTx,
  actor: Actor,
  input: { policyId: string; identityId: string; reason: string; expiresAt: string; subject: { type: 'assignment' | 'access_request' | 'manual'; id: string | null } },
): Promise<SodExceptionView> {
  const row: Database['sod_exceptions'] = {
    id: randomUUID(),
    tenant_id: tx.tenantId,
    policy_id: input.policyId,
    identity_id: input.identityId,
    reason: input.reason.trim(),
    expires_at: new Date(Date.parse(input.expiresAt)).toISOString(),
    approved_by: actor.caller.id,
    approved_by_name: actor.caller.name,
    approver_identity_id: actor.caller.identityId,
    subject_type: input.subject.type,
    subject_id: input.subject.id,
    created_at: tx.now,
    revoked_at: null,
    revoked_by: null,
    revoked_by_name: null,
    revoker_identity_id: null,
    revoke_reason: null,
  };
  await tx.db.insertInto('sod_exceptions').values(row).execute();
  const view = toExceptionView(row);
  tx.audit({ action: 'sodException.create', targetType: 'identity', targetId: input.identityId, after: view });
  tx.change('sod_exception', row.id, 'create');
  return view;
}

const SHOWN = 20;

function refusal(reason: 'sod_conflict' | 'sod_exception_required', conflicts: SodConflict[], hint: boolean | string = true): AppError {
  const first = conflicts[0]!;
  const what = reason === 'sod_conflict' ? 'forbids' : 'needs an approved exception for';
  const message =
    `separation of duties: policy "${first.policy.name}" (${first.policy.mode}, ${first.policy.severity}) ${what} identity ${first.identityId} holding ` +
    first.conflicting.map((s) => s.held.map((h) => h.resource.name ?? h.resource.id).join(' or ')).join(' together with ') +
    (reason === 'sod_exception_required' && hint ? (typeof hint === 'string' ? hint : '; send sodException {reason, expiresAt} (needs approve-requests)') : '');
  return new AppError('conflict', message, {
    details: {
      reason,
      policy: first.policy,
      identityId: first.identityId,
      conflicting: first.conflicting,
      conflicts: conflicts.slice(0, SHOWN),
      conflictCount: conflicts.length,
    },
  });
}

/**
 * Applies the policies' modes to the conflicts of a write: any `block` conflict refuses it
 * (409 `conflict`, `reason: sod_conflict`); a `require_exception` conflict without an
 * unexpired exception refuses it too (`reason: sod_exception_required`) unless the write
 * carries `exception`, which is then recorded for each such (policy, identity). Returns
 * the exceptions recorded.
 */
export async function enforceSod(
  tx: WriteTx,
  actor: Actor,
  conflicts: readonly SodConflict[],
  options: {
    exception?: SodExceptionInput | undefined;
    subject: { type: 'assignment' | 'access_request'; id: string | null };
    /** False on paths that cannot carry an exception (rules, delegation, identity roles): the refusal then gives no hint. */
    exceptionAllowed?: boolean | undefined;
    /** Where the write cannot carry an exception: what the refusal says to do instead. */
    hint?: string | undefined;
  },
): Promise<SodExceptionView[]> {
  const blocking = conflicts.filter((c) => c.policy.mode === 'block');
  if (blocking.length) throw refusal('sod_conflict', blocking);
  const open = conflicts.filter((c) => c.policy.mode === 'require_exception' && c.exception === null);
  if (!open.length) return [];
  if (!options.exception) throw refusal('sod_exception_required', open, options.hint ?? options.exceptionAllowed !== false);
  const recorded: SodExceptionView[] = [];
  const seen = new Set<string>();
  for (const c of open) {
    const k = `${c.policy.id}|${c.identityId}`;
    if (seen.has(k)) continue;
    seen.add(k);
    recorded.push(await recordSodException(tx, actor, { policyId: c.policy.id, identityId: c.identityId, ...options.exception, subject: options.subject }));
  }
  return recorded;
}
