/**
 * Starting a campaign: its items are snapshotted from the access index in ONE write — every
 * identity × permission in scope (in the campaign's space) with why it is held, when an
 * import last saw it, and flags for drift, separation-of-duties violations and orphan
 * accounts — together with the campaign's status, its reminders and its deadline. A crash
 * or an error leaves the campaign a draft with no items: the write commits whole or not at all.
 *
 * Items are streamed into bulk inserts identity by identity, so memory grows with the
 * index, not with the number of items. Each item gets its reviewer here: the identity's
 * manager, the application's first owner, or a named identity; when that is missing or is
 * the identity under review itself, the campaign's fallback reviewer (and when that too is
 * the identity itself, nobody: a campaign manager reassigns it by delegation).
 */
import { randomUUID } from 'node:crypto';
import { riskRank } from '../../domain/approval-policy.ts';
import { AppError } from '../../domain/errors.ts';
import { NONE } from '../../engine/nodes.ts';
import { assignmentsGiving, heldVia, listAccess, type HeldVia } from '../../engine/queries.ts';
import type { TenantIndex } from '../../engine/tenant-index.ts';
import type { WriteTx } from '../../store/store.ts';
import { engineOf } from '../access/index.ts';
import { bulkInsert } from '../imports/index.ts';
import { scheduleJob, writeAs, type Actor } from '../kernel/index.ts';
import { sodInvolvement, type SodInvolvement } from '../sod/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { DEADLINE_JOB, REMIND_JOB, auditSeqOf } from './campaigns.ts';
import { requireManage, reviewRow, reviewView, type ItemWhy, type ReviewRow, type ReviewScope, type ReviewView, type ReviewerKind } from './model.ts';

const DAY = 86_400_000;

const ITEM_COLUMNS = [
  'id', 'tenant_id', 'review_id', 'position', 'identity_id', 'identity_name', 'account_id', 'account_name', 'application_id', 'application_name',
  'permission_id', 'permission_name', 'risk', 'why', 'observed_at', 'drift', 'sod', 'orphan', 'reviewer_id', 'assigned_reviewer_id', 'reviewer_reason', 'version',
] as const;

/** Starts a draft campaign: snapshots its items and schedules its reminders and deadline. */
export async function startReview(deps: ServiceDeps, actor: Actor, id: string): Promise<{ value: ReviewView; revision: number }> {
  requireManage(actor);
  const tenantId = actor.caller.tenantId;
  // The index must be at the revision the start writes on; a write landing between the catch-up
  // and this write's start (a job, another caller) moves it on: catch up again and retry.
  for (let attempt = 1; ; attempt += 1) {
    await engineOf(deps).syncNow(tenantId);
    try {
      const { value, revision } = await writeAs(deps, actor, async (tx) => startIn(deps, tx, await reviewRow(tx, id)));
      return { value: reviewView(value), revision };
    } catch (e) {
      if (!(e instanceof AppError && e.code === 'not_ready' && attempt < START_ATTEMPTS)) throw e;
    }
  }
}

/** How often a start is tried when writes keep landing between the index's catch-up and the start. */
const START_ATTEMPTS = 5;

interface Resolver {
  managerOf: Map<string, string | null>;
  ownersOf: Map<string, string[]>;
}

/** Inside a write: snapshots the campaign's items and marks it active. */
export async function startIn(deps: ServiceDeps, tx: WriteTx, row: ReviewRow): Promise<ReviewRow> {
  if (row.status !== 'draft') throw new AppError('conflict', `access review ${row.id} is ${row.status}; only a draft can be started`, { details: { reviewStatus: row.status } });
  const engine = engineOf(deps);
  const { index, revision } = await engine.at(tx.tenantId);
  if (revision < tx.revision - 1) throw new AppError('not_ready', `this node's access index is at revision ${revision}, behind the tenant's ${tx.revision - 1}; retry shortly`, { details: { retryAfter: 1 } });
  const now = engine.now();
  const scope = JSON.parse(row.scope) as ReviewScope;
  const reviewer = JSON.parse(row.reviewer) as { type: ReviewerKind; id?: string };
  const fallback = row.fallback_reviewer_id;

  const apps = appsInScope(index, scope);
  const units = unitsInScope(index, scope);
  const minRisk = scope.minRisk ? riskRank(scope.minRisk) : 0;
  const risks = new Map((await tx.db.selectFrom('permissions').select(['id', 'risk']).execute()).map((p) => [p.id, p.risk]));
  const resolver: Resolver = {
    managerOf: reviewer.type === 'manager' ? new Map((await tx.db.selectFrom('identities').select(['id', 'manager_id']).execute()).map((i) => [i.id, i.manager_id])) : new Map(),
    ownersOf: new Map((await tx.db.selectFrom('applications').select(['id', 'owner_ids']).execute()).map((a) => [a.id, JSON.parse(a.owner_ids) as string[]])),
  };
  const sod = await sodInvolvement(deps, tx);
  const items = bulkInsert(tx, 'review_items', ITEM_COLUMNS);
  let position = 0;

  const pickReviewer = (identityId: string | null, applicationId: string): { id: string | null; reason: string } => {
    let chosen: string | null = null;
    if (reviewer.type === 'identity') chosen = reviewer.id ?? null;
    else if (reviewer.type === 'manager') chosen = identityId === null ? null : (resolver.managerOf.get(identityId) ?? null);
    else chosen = (resolver.ownersOf.get(applicationId) ?? []).find((o) => o !== identityId) ?? null;
    if (chosen !== null && chosen !== identityId) return { id: chosen, reason: reviewer.type };
    const reason = chosen === null ? 'fallback_no_reviewer' : 'fallback_self_review';
    if (fallback !== null && fallback !== identityId) return { id: fallback, reason };
    return { id: null, reason: 'unassigned_self_review' };
  };

  // Identities in display order (name, then id), each with its access in catalog order.
  const people = index.identities.nodes.filter((n) => n.exists && (units === null || units.has(n.unit)));
  const nameOf = (n: (typeof people)[number]) => n.displayName ?? n.username ?? n.subject;
  people.sort((a, b) => cmp(nameOf(a), nameOf(b)) || cmp(a.id, b.id));
  const space = row.space === 'assigned' ? 'assigned' : 'provisioned';
  for (const person of people) {
    const involvement = sod.get(person.id);
    for (const held of listAccess(index, person.idx, now, space)) {
      const permSlot = index.perms.find(held.permissionId);
      const perm = index.perms.get(permSlot);
      if (apps !== null && !apps.has(perm.app)) continue;
      const risk = risks.get(held.permissionId) ?? 'low';
      if (riskRank(risk) < minRisk) continue;
      const connected = perm.app !== NONE && !index.apps.get(perm.app).managed;
      const assignedVia = connected && space === 'provisioned' ? assignmentsGiving(index, person.idx, permSlot, now).map((a) => viaOf(index, a)) : [];
      const accountVias = held.via.filter((v) => v.kind === 'account');
      const byAssignment = space === 'assigned' ? held.via : connected ? assignedVia : held.via;
      const drift = connected && (space === 'provisioned' ? byAssignment.length === 0 : heldVia(index, person.idx, permSlot, now, 'provisioned').length === 0);
      const why: ItemWhy = byAssignment.length
        ? { kind: 'assigned', text: byAssignment.map((v) => describeVia(index, v)).join('; '), via: space === 'provisioned' && connected ? [...byAssignment, ...accountVias] : held.via }
        : { kind: 'observed', text: `observed by import, not assigned (${accountVias.map((v) => describeVia(index, v)).join('; ')})`, via: held.via };
      const observedAt = accountVias.length ? accountVias.map((v) => (v.kind === 'account' ? v.observedAt : '')).sort().at(-1)! : null;
      const account = accountVias[0]?.kind === 'account' ? accountVias[0] : null;
      const who = pickReviewer(person.id, held.applicationId);
      position += 1;
      await items.push([
        randomUUID(), tx.tenantId, row.id, position, person.id, nameOf(person), account?.accountId ?? null, account?.accountName ?? null, held.applicationId, held.applicationName,
        held.permissionId, held.permissionName, risk, JSON.stringify(why), observedAt, drift ? 1 : 0, sodFlag(involvement, held.permissionId, held.via, assignedVia) ? 1 : 0, 0,
        who.id, who.id, who.reason, 1,
      ]);
    }
  }
  // Orphan accounts (no identity matched them): in the provisioned space of connected applications.
  if (space === 'provisioned' && units === null) {
    for (const acc of index.accounts.nodes) {
      if (!acc.exists || !acc.active || acc.identity !== NONE || acc.app === NONE) continue;
      const app = index.apps.get(acc.app);
      if (app.managed || (apps !== null && !apps.has(acc.app))) continue;
      const grants = acc.grants.filter((g) => index.perms.get(g.permission).exists && riskRank(risks.get(index.perms.get(g.permission).id) ?? 'low') >= minRisk);
      const who = pickReviewer(null, app.id);
      const text = `orphan account ${acc.name}: no identity matches it (observed by import ${acc.importId ?? 'unknown'})`;
      const rows = grants.length ? grants.map((g) => index.perms.get(g.permission)) : minRisk ? [] : [null];
      for (const perm of rows) {
        position += 1;
        const why: ItemWhy = { kind: 'orphan', text, via: [{ kind: 'account', accountId: acc.id, accountName: acc.name, observedAt: acc.observedAt, importId: acc.importId }] };
        await items.push([
          randomUUID(), tx.tenantId, row.id, position, null, null, acc.id, acc.name, app.id, app.name, perm?.id ?? null, perm?.name ?? null,
          perm ? (risks.get(perm.id) ?? 'low') : 'low', JSON.stringify(why), acc.observedAt, 0, 0, 1, who.id, who.id, who.reason, 1,
        ]);
      }
    }
  }
  await items.end();

  const startedAt = tx.now;
  const dueAt = row.due_at ?? new Date(Date.parse(startedAt) + row.due_days * DAY).toISOString();
  if (Date.parse(dueAt) <= Date.parse(startedAt)) throw new AppError('unprocessable', `the campaign's due date ${dueAt} has passed; change it before starting`, { details: { reason: 'due_date_passed' } });
  const seq = await auditSeqOf(tx);
  const updated = await tx.db
    .updateTable('access_reviews')
    .set({ status: 'active', started_at: startedAt, due_at: dueAt, item_count: position, start_revision: revision, start_audit_seq: seq, updated_at: tx.now, version: row.version + 1 })
    .where('id', '=', row.id)
    .where('status', '=', 'draft')
    .returningAll()
    .executeTakeFirst();
  if (!updated) throw new AppError('conflict', `access review ${row.id} was started meanwhile`);
  for (const days of JSON.parse(row.reminder_days) as number[]) {
    const at = Date.parse(dueAt) - days * DAY;
    if (at > Date.parse(startedAt)) await scheduleJob(tx, { kind: REMIND_JOB, subjectId: row.id, key: `${days}d`, dueAt: new Date(at).toISOString(), payload: { daysBefore: days } });
  }
  await scheduleJob(tx, { kind: DEADLINE_JOB, subjectId: row.id, dueAt });
  tx.audit({ action: 'accessReview.start', targetType: 'accessReview', targetId: row.id, before: { status: 'draft' }, after: { status: 'active', items: position, dueAt, snapshotRevision: revision } });
  tx.change('access_review', row.id, 'update');
  return updated;
}

function appsInScope(index: TenantIndex, scope: ReviewScope): Set<number> | null {
  if (!scope.applicationIds?.length) return null;
  return new Set(scope.applicationIds.map((id) => index.apps.find(id)).filter((a) => a !== NONE));
}

/** The units in scope and every unit below them; null when the scope names none. */
function unitsInScope(index: TenantIndex, scope: ReviewScope): Set<number> | null {
  if (!scope.orgUnitIds?.length) return null;
  const out = new Set<number>();
  const stack = scope.orgUnitIds.map((id) => index.units.find(id)).filter((u) => u !== NONE);
  while (stack.length) {
    const u = stack.pop()!;
    if (out.has(u)) continue;
    out.add(u);
    for (const c of index.units.get(u).children) stack.push(c);
  }
  return out;
}

function viaOf(index: TenantIndex, slot: number): HeldVia {
  const a = index.assignments.get(slot);
  return {
    kind: 'assignment',
    assignmentId: a.id,
    source: a.source,
    assignee: a.assigneeIsUnit ? { type: 'orgUnit', id: index.units.get(a.assignee).id } : { type: 'identity', id: index.identities.get(a.assignee).id },
    resource: a.resourceIsRole ? { type: 'role', id: index.roles.get(a.resource).id } : { type: 'permission', id: index.perms.get(a.resource).id },
    context: { type: a.contextType, id: a.contextId },
    delegatedFromId: a.delegatedFrom === NONE ? null : index.assignments.get(a.delegatedFrom).id,
    ruleId: a.ruleId,
  };
}

/** One line of why, for reviewers and the report: "role Payroll clerks, assigned to unit Finance (rule)". */
export function describeVia(index: TenantIndex, v: HeldVia): string {
  if (v.kind === 'account') return `account ${v.accountName}, observed ${v.observedAt}`;
  const what = v.resource.type === 'role' ? `role ${index.roles.get(index.roles.find(v.resource.id))?.name ?? v.resource.id}` : 'the permission';
  const to = v.assignee.type === 'orgUnit' ? `, assigned to unit ${index.units.get(index.units.find(v.assignee.id))?.name ?? v.assignee.id}` : ', assigned directly';
  const context = v.context.type === 'all' ? '' : ` in context ${v.context.type} ${v.context.id ?? ''}`.trimEnd();
  const extra = v.delegatedFromId ? `, delegated from assignment ${v.delegatedFromId}` : '';
  return `${what}${to} (${v.source})${context}${extra}`;
}

function sodFlag(involvement: SodInvolvement | undefined, permissionId: string, ...vias: (readonly HeldVia[])[]): boolean {
  if (!involvement) return false;
  if (involvement.permissionIds.has(permissionId)) return true;
  return vias.some((via) => via.some((v) => v.kind === 'assignment' && involvement.assignmentIds.has(v.assignmentId)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
