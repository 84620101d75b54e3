/**
 * Streamed exports: the audit trail (with the checkpoints that cover it), the permission
 * configuration (enough to rebuild the catalog), and effective permissions of the
 * assigned or provisioned space (from the access engine). Each returns the chunks to send and their content type; nothing is
 * collected in memory.
 */
import { contextKey, type AccessSpace } from '../../domain/access.ts';
import { AppError, notFound } from '../../domain/errors.ts';
import { CHECKPOINT_ALGORITHM } from '../../domain/checkpoint.ts';
import { EXPORT_CONTENT_TYPES, renderExport, renderExportBatches, type Column, type ExportFormat } from '../../domain/export-format.ts';
import { NONE } from '../../engine/nodes.ts';
import { listAccess, type HeldVia } from '../../engine/queries.ts';
import { AccessHistory } from '../../engine/history.ts';
import type { IndexChanges, TenantIndex } from '../../engine/tenant-index.ts';
import type { Database } from '../../store/schema.ts';
import type { TenantDb } from '../../store/store.ts';
import { requireRight, type Actor } from '../kernel/index.ts';
import { engineOf } from '../access/index.ts';
import { checkpointPublicKey } from './keys.ts';
import { iterateAuditEvents, normalizeAuditFilter, toAuditEventView, type AuditEventView, type AuditFilter } from './trail.ts';
import type { ServiceDeps } from '../deps.ts';

export interface ExportStream {
  contentType: string;
  /** A file name for Content-Disposition. */
  filename: string;
  chunks: AsyncIterable<string>;
  /** The tenant revision the export reflects, when it is read at one. */
  revision?: number;
}

const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

const AUDIT_COLUMNS: Column<AuditEventView>[] = [
  { name: 'seq', value: (e) => e.seq },
  { name: 'id', value: (e) => e.id },
  { name: 'time', value: (e) => e.time },
  { name: 'action', value: (e) => e.action },
  { name: 'targetType', value: (e) => e.targetType },
  { name: 'targetId', value: (e) => e.targetId },
  { name: 'actorType', value: (e) => e.actor.type },
  { name: 'actorId', value: (e) => e.actor.id },
  { name: 'actorName', value: (e) => e.actor.name },
  { name: 'onBehalfOfId', value: (e) => e.onBehalfOfId },
  { name: 'authorityId', value: (e) => e.authorityId },
  { name: 'requestId', value: (e) => e.requestId },
  { name: 'sourceIp', value: (e) => e.sourceIp },
  { name: 'sourcePort', value: (e) => e.sourcePort },
  { name: 'userAgent', value: (e) => e.userAgent },
  { name: 'origin', value: (e) => e.origin },
  { name: 'revision', value: (e) => e.revision },
  { name: 'before', value: (e) => json(e.before) },
  { name: 'after', value: (e) => json(e.after) },
  { name: 'prevHash', value: (e) => e.prevHash },
  { name: 'hash', value: (e) => e.hash },
];

async function* views(rows: AsyncIterable<Database['audit_events']>, seen: { first: number | null }): AsyncGenerator<AuditEventView> {
  for await (const row of rows) {
    seen.first ??= Number(row.seq);
    yield toAuditEventView(row);
  }
}

/** Checkpoints at or after the first exported event, oldest first, with the public key. */
async function checkpointsFrom(deps: ServiceDeps, scope: TenantDb, firstSeq: number | null) {
  const rows =
    firstSeq === null
      ? []
      : await scope.db.selectFrom('audit_checkpoints').selectAll().where('seq', '>=', firstSeq).orderBy('seq').limit(10000).execute();
  const key = await checkpointPublicKey(deps, scope.tenantId);
  return {
    publicKeys: key ? [{ keyId: key.keyId, algorithm: CHECKPOINT_ALGORITHM, publicKey: key.publicKeyPem }] : [],
    checkpoints: rows.map((r) => ({ tenant: scope.tenantId, seq: Number(r.seq), hash: r.hash, time: r.time, keyId: r.key_id, signature: r.signature })),
  };
}

/**
 * The audit events of a time range (and filters) in `format`. NDJSON lines carry
 * `recordType` `event`, then `checkpoint` lines (with the public key); JSON is
 * `{tenant, filter, events: [...], checkpoints, publicKeys}`; CSV holds the events only.
 */
export async function exportAuditEvents(deps: ServiceDeps, actor: Actor, input: { filter: AuditFilter; format: ExportFormat }): Promise<ExportStream> {
  requireRight(actor, 'read-audit');
  const filter = normalizeAuditFilter(input.filter);
  const scope = deps.store.read(actor.caller.tenantId);
  const seen = { first: null as number | null };
  const rows = views(iterateAuditEvents(scope, filter), seen);
  const chunks = renderExport(rows, input.format, {
    columns: AUDIT_COLUMNS,
    toJson: (e) => (input.format === 'ndjson' ? { recordType: 'event', ...e } : e),
    envelope: { arrayKey: 'events', head: { tenant: scope.tenantId, filter }, tail: () => checkpointsFrom(deps, scope, seen.first) },
    ndjsonTail: async function* () {
      const { publicKeys, checkpoints } = await checkpointsFrom(deps, scope, seen.first);
      for (const c of checkpoints) yield { recordType: 'checkpoint', ...c, publicKey: publicKeys.find((k) => k.keyId === c.keyId)?.publicKey ?? null };
    },
  });
  return { contentType: EXPORT_CONTENT_TYPES[input.format], filename: `audit-events.${extension(input.format)}`, chunks };
}

const extension = (format: ExportFormat) => (format === 'ndjson' ? 'ndjson' : format);

type ConfigRecord = { recordType: string } & Record<string, unknown>;

const PAGE = 500;

async function* pages<R extends { id: string }>(fetch: (after: string) => Promise<R[]>): AsyncGenerator<R> {
  let after = '';
  for (;;) {
    const rows = await fetch(after);
    yield* rows;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.id;
  }
}

const parseOr = (text: string | null, fallback: unknown): unknown => (text === null ? fallback : (JSON.parse(text) as unknown));

async function* configurationRecords(scope: TenantDb): AsyncGenerator<ConfigRecord> {
  const { db } = scope;
  for await (const a of pages((after) => db.selectFrom('applications').selectAll().where('id', '>', after).orderBy('id').limit(PAGE).execute())) {
    yield {
      recordType: 'application',
      id: a.id,
      number: Number(a.number),
      name: a.name,
      kind: a.kind,
      description: a.description,
      ownerIds: parseOr(a.owner_ids, []),
      priority: a.priority,
      archived: a.archived === 1,
      builtin: a.builtin === 1,
      connector: parseOr(a.connector, null),
    };
  }
  for await (const p of pages((after) => db.selectFrom('permissions').selectAll().where('id', '>', after).orderBy('id').limit(PAGE).execute())) {
    yield {
      recordType: 'permission',
      id: p.id,
      number: Number(p.number),
      applicationId: p.application_id,
      name: p.name,
      category: p.category,
      description: p.description,
      risk: p.risk,
      requestable: p.requestable === 1,
      delegable: p.delegable === 1,
    };
  }
  let after = '';
  for (;;) {
    const roles = await db.selectFrom('roles').selectAll().where('id', '>', after).orderBy('id').limit(PAGE).execute();
    if (!roles.length) break;
    const ids = roles.map((r) => r.id);
    const perms = await db.selectFrom('role_permissions').select(['role_id', 'permission_id']).where('role_id', 'in', ids).orderBy('permission_id').execute();
    const includes = await db.selectFrom('role_includes').select(['role_id', 'included_role_id']).where('role_id', 'in', ids).orderBy('included_role_id').execute();
    for (const r of roles) {
      yield {
        recordType: 'role',
        id: r.id,
        number: Number(r.number),
        name: r.name,
        description: r.description,
        system: r.system === 1,
        permissionIds: perms.filter((p) => p.role_id === r.id).map((p) => p.permission_id),
        includedRoleIds: includes.filter((i) => i.role_id === r.id).map((i) => i.included_role_id),
      };
    }
    if (roles.length < PAGE) break;
    after = roles[roles.length - 1]!.id;
  }
  yield* assignmentRules(scope);
}

/** Assignment rules: exported column by column in camelCase, JSON text columns parsed. */
async function* assignmentRules(scope: TenantDb): AsyncGenerator<ConfigRecord> {
  const rows: Record<string, unknown>[] = await scope.db.selectFrom('assignment_rules').selectAll().orderBy('id').execute();
  for (const row of rows) {
    const record: ConfigRecord = { recordType: 'assignmentRule' };
    for (const [column, value] of Object.entries(row)) {
      if (column === 'tenant_id') continue;
      const key = column.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
      record[key] = typeof value === 'string' && /^[[{]/.test(value) ? parseOr(value, value) : value;
    }
    yield record;
  }
}

/**
 * The permission configuration: applications, permissions, roles (with `permissionIds`
 * and `includedRoleIds`) and assignment rules, as NDJSON records with a `recordType`, or
 * one JSON array. CSV does not fit records of different shapes and is refused.
 */
export async function exportPermissionConfiguration(deps: ServiceDeps, actor: Actor, input: { format: ExportFormat }): Promise<ExportStream> {
  requireRight(actor, 'read-permissions-any-application', 'manage-roles', 'manage-applications');
  if (input.format === 'csv') throw new AppError('not_acceptable', 'the permission configuration is exported as NDJSON or JSON');
  const scope = deps.store.read(actor.caller.tenantId);
  const chunks = renderExport(configurationRecords(scope), input.format, { toJson: (r) => r, envelope: { arrayKey: 'records', head: { tenant: scope.tenantId } } });
  return { contentType: EXPORT_CONTENT_TYPES[input.format], filename: `permission-configuration.${extension(input.format)}`, chunks };
}

/** Which identities and applications an effective-permission export covers (ids). */
export interface AccessFilter {
  identityId?: string | undefined;
  /** Identities that are members of this unit or its descendants. */
  orgUnitId?: string | undefined;
  applicationId?: string | undefined;
}

/** One exported row: an identity holds a permission in a context, and why. */
export interface EffectiveAccessRow {
  identityId: string;
  subject: string;
  username: string | null;
  email: string | null;
  displayName: string | null;
  /** The identity's organization unit, as the names from the root down (`Acme/Finance`). */
  unitPath: string | null;
  applicationId: string;
  application: string;
  permissionId: string;
  permission: string;
  contextType: string;
  contextId: string | null;
  /** The context's name: a unit's path, an application's name. */
  contextName: string | null;
  /** The assignments (or, in the provisioned space of a connected application, the accounts) behind it. */
  via: string[];
  /** What each of `via` is, in words: `role Finance approver`, `unit Acme/Finance`, `delegated by ada.lovelace`, `account alovelace`. */
  viaNames: string[];
}

const ACCESS_COLUMNS: Column<EffectiveAccessRow>[] = [
  { name: 'identityId', value: (r) => r.identityId },
  { name: 'subject', value: (r) => r.subject },
  { name: 'username', value: (r) => r.username },
  { name: 'email', value: (r) => r.email },
  { name: 'displayName', value: (r) => r.displayName },
  { name: 'unitPath', value: (r) => r.unitPath },
  { name: 'applicationId', value: (r) => r.applicationId },
  { name: 'application', value: (r) => r.application },
  { name: 'permissionId', value: (r) => r.permissionId },
  { name: 'permission', value: (r) => r.permission },
  { name: 'contextType', value: (r) => r.contextType },
  { name: 'contextId', value: (r) => r.contextId },
  { name: 'contextName', value: (r) => r.contextName },
  { name: 'via', value: (r) => r.via.join(' ') },
  { name: 'viaNames', value: (r) => r.viaNames.join('; ') },
];

/** The items of `items`, then `close()` — also when the consumer stops early or fails. */
async function* closing<T>(items: AsyncIterable<T>, close: () => void): AsyncGenerator<T> {
  try {
    yield* items;
  } finally {
    close();
  }
}

const viaId = (v: HeldVia): string => (v.kind === 'assignment' ? v.assignmentId : v.accountId);

/** A unit's path of names from the root (`Acme/Finance/Payables`). */
function unitPathOf(index: TenantIndex, unit: number): string | null {
  if (unit === NONE) return null;
  const names: string[] = [];
  for (let u = unit, depth = 0; u !== NONE && depth < 256; u = index.units.get(u).parent, depth += 1) names.unshift(index.units.get(u).name);
  return names.join('/');
}

function contextNameOf(index: TenantIndex, context: { type: string; id: string | null }): string | null {
  if (context.id === null) return null;
  if (context.type === 'orgUnit') {
    const unit = index.units.find(context.id);
    return unit === NONE ? null : unitPathOf(index, unit);
  }
  if (context.type === 'application') {
    const app = index.apps.find(context.id);
    return app === NONE ? null : index.apps.get(app).name;
  }
  return null;
}

/** What an assignment or account is, in words: the role, the unit it comes through, its delegator, its rule. */
function viaName(index: TenantIndex, via: HeldVia): string {
  if (via.kind === 'account') return `account ${via.accountName}`;
  const parts: string[] = [];
  if (via.resource.type === 'role') {
    const role = index.roles.find(via.resource.id);
    parts.push(`role ${role === NONE ? via.resource.id : index.roles.get(role).name}`);
  } else {
    parts.push('direct');
  }
  if (via.assignee.type === 'orgUnit') parts.push(`unit ${unitPathOf(index, index.units.find(via.assignee.id)) ?? via.assignee.id}`);
  if (via.delegatedFromId !== null) {
    const source = index.assignments.find(via.assignmentId);
    const delegator = source === NONE ? NONE : index.assignments.get(source).delegator;
    const who = delegator === NONE ? null : index.identities.get(delegator);
    parts.push(`delegated by ${who ? (who.username ?? who.subject) : 'another identity'}`);
  }
  if (via.ruleId !== null) parts.push('by assignment rule');
  return parts.join(', ');
}

/** The rows of one identity: its held permissions, one row per distinct context. */
function identityRows(index: TenantIndex, slot: number, now: number, space: AccessSpace, app: number): EffectiveAccessRow[] {
  const identity = index.identities.get(slot);
  const rows: EffectiveAccessRow[] = [];
  for (const held of listAccess(index, slot, now, space, app)) {
    const byContext = new Map<string, EffectiveAccessRow>();
    for (const via of held.via) {
      const key = contextKey(via.context);
      const row = byContext.get(key);
      if (row) {
        if (!row.via.includes(viaId(via))) {
          row.via.push(viaId(via));
          row.viaNames.push(viaName(index, via));
        }
        continue;
      }
      const created: EffectiveAccessRow = {
        identityId: identity.id,
        subject: identity.subject,
        username: identity.username,
        email: identity.email,
        displayName: identity.displayName,
        unitPath: unitPathOf(index, identity.unit),
        applicationId: held.applicationId,
        application: held.applicationName,
        permissionId: held.permissionId,
        permission: held.permissionName,
        contextType: via.context.type,
        contextId: via.context.id,
        contextName: contextNameOf(index, via.context),
        via: [viaId(via)],
        viaNames: [viaName(index, via)],
      };
      byContext.set(key, created);
      rows.push(created);
    }
  }
  return rows;
}

/** The export's view of the index: the engine's snapshot at the revision it announces. */
interface AccessSnapshot {
  tenantId: string;
  index: TenantIndex;
  revision: number;
  changes: IndexChanges;
}

/** Identities read together: from the live index between two awaits, or from the history. */
const IDENTITY_BATCH = 64;

/** Whether the identity is in the export's scope (the unit filter) in `index`. */
function inScope(index: TenantIndex, slot: number, unit: number): boolean {
  const node = index.identities.get(slot);
  return node.exists && (unit === NONE || (node.unit !== NONE && index.unitWithin(node.unit, unit)));
}

/**
 * The rows of identities the index has changed for since the snapshot, as they were at its
 * revision: their facts at that revision are read from the history into a small index of
 * their own, which the same queries answer.
 */
async function rowsAtRevision(
  history: AccessHistory,
  snap: AccessSnapshot,
  ids: string[],
  filter: { unitId: string | null; appId: string | null },
  now: number,
  space: AccessSpace,
): Promise<Map<string, EffectiveAccessRow[]>> {
  const facts = await history.identityFacts(snap.tenantId, snap.revision, ids);
  const index = (await history.contextFacts(snap.tenantId, snap.revision, facts)).index(snap.tenantId);
  const unit = filter.unitId === null ? NONE : index.units.find(filter.unitId);
  const app = filter.appId === null ? NONE : index.apps.find(filter.appId);
  const out = new Map<string, EffectiveAccessRow[]>();
  for (const id of ids) {
    const slot = index.identities.find(id);
    // A unit filter whose unit is in none of the identities' unit chains holds none of them.
    if (slot === NONE || (filter.unitId !== null && unit === NONE) || !inScope(index, slot, unit)) continue;
    // An application the identity holds nothing of at the revision is not among its facts.
    if (filter.appId !== null && app === NONE) continue;
    out.set(id, identityRows(index, slot, now, space, app));
  }
  return out;
}

/**
 * Streams the effective permissions the access engine answers for, as they were at the
 * snapshot's revision: each identity in turn (only the filtered one, or the members of the
 * unit subtree), its held permissions in the space. An identity the index has not changed
 * for since the snapshot is read from the index; one it has (a write landed during the
 * export) from the history at the revision. Memory holds one batch of identities' rows.
 */
async function* iterateEffectiveAccess(
  history: AccessHistory,
  snap: AccessSnapshot,
  scope: { identity: number; unit: number; app: number },
  now: number,
  space: AccessSpace,
): AsyncGenerator<EffectiveAccessRow[]> {
  const { index, changes } = snap;
  // Identities created after the snapshot have later slots.
  const slots = scope.identity === NONE ? index.identities.nodes.length : 1;
  const filter = {
    unitId: scope.unit === NONE ? null : index.units.get(scope.unit).id,
    appId: scope.app === NONE ? null : index.apps.get(scope.app).id,
  };
  for (let start = 0; start < slots; start += IDENTITY_BATCH) {
    const batch: (EffectiveAccessRow[] | string)[] = [];
    for (let i = start; i < Math.min(start + IDENTITY_BATCH, slots); i += 1) {
      const slot = scope.identity === NONE ? i : scope.identity;
      if (changes.all || changes.identities.has(slot)) batch.push(index.identities.get(slot).id);
      else if (inScope(index, slot, scope.unit)) batch.push(identityRows(index, slot, now, space, scope.app));
    }
    const changed = batch.filter((b): b is string => typeof b === 'string');
    const past = changed.length ? await rowsAtRevision(history, snap, changed, filter, now, space) : null;
    for (const b of batch) {
      const rows = typeof b === 'string' ? (past!.get(b) ?? []) : b;
      if (rows.length) yield rows;
    }
  }
}

/**
 * Effective permissions, one row per identity, permission and context, in the assigned or
 * the provisioned space, read from the access engine: the same answers as the check API.
 * Unknown filter ids are refused (404) before anything is sent.
 */
export async function exportEffectivePermissions(
  deps: ServiceDeps,
  actor: Actor,
  input: { filter: AccessFilter; space: AccessSpace; format: ExportFormat; minRevision?: number | undefined },
): Promise<ExportStream> {
  requireRight(actor, 'read-permissions-any-application');
  const engine = engineOf(deps);
  const snapshot = await engine.snapshot(actor.caller.tenantId, input.minRevision);
  const { index, revision } = snapshot;
  const { identityId, orgUnitId, applicationId } = input.filter;
  const found = (table: { find(id: string): number; get(slot: number): { exists: boolean } }, id: string | undefined, what: string): number => {
    if (id === undefined) return NONE;
    const slot = table.find(id);
    if (slot === NONE || !table.get(slot).exists) throw notFound(what, id);
    return slot;
  };
  let scope;
  try {
    scope = {
      identity: found(index.identities, identityId, 'identity'),
      unit: found(index.units, orgUnitId, 'organization unit'),
      app: found(index.apps, applicationId, 'application'),
    };
  } catch (err) {
    snapshot.close();
    throw err;
  }
  const snap = { tenantId: actor.caller.tenantId, ...snapshot };
  const batches = closing(iterateEffectiveAccess(new AccessHistory(deps.store), snap, scope, engine.now(), input.space), snapshot.close);
  const chunks = renderExportBatches(batches, input.format, { columns: ACCESS_COLUMNS, toJson: (r) => r });
  return { contentType: EXPORT_CONTENT_TYPES[input.format], filename: `effective-permissions-${input.space}.${extension(input.format)}`, chunks, revision };
}
