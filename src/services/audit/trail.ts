/**
 * Reading and verifying the audit trail.
 *
 * - {@link listAuditEvents}: the filtered, cursor-paged query (`read-audit`).
 * - {@link iterateAuditEvents}: the same query as a stream (exports, deliveries, profiles).
 * - {@link recordDenial}: a denied request (403) becomes an `access.denied` event.
 * - {@link verifyAuditTrail}: streams each tenant's events in sequence order (constant
 *   memory), re-computes every hash, checks every link, compares the end with the head
 *   recorded on the tenant and with every signed checkpoint (the database's and, if given,
 *   an exported copy), so an edited, deleted, reordered, truncated or rewritten trail is
 *   reported with the first broken link.
 * - {@link verifyTenantAudit}: the same for the caller's tenant only (`read-audit`), what the
 *   API's verification route and the console's **Verify** button answer; it and
 *   {@link verifyAndRecordAuditTrails} (`grantory audit verify`) record each result as an
 *   `audit.verified` event, the newest of which {@link lastAuditVerification} reads.
 */
import { sql, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely';
import { ChainVerifier, type ChainProblem } from '../../domain/audit-chain.ts';
import type { AuditEventView } from '../../domain/audit-event.ts';
import { verifyCheckpointSignature, type SignedCheckpoint } from '../../domain/checkpoint.ts';
import { AppError } from '../../domain/errors.ts';
import { cursorKey, openCursor, sealCursor, type CursorBinding, requireRight, systemActor, type Actor, writeAs } from '../kernel/index.ts';
import type { Right } from '../../domain/rights.ts';
import type { Database } from '../../store/schema.ts';
import { type Store, type TenantDb } from '../../store/store.ts';
import { fromAuditRow } from '../../store/write-protocol.ts';
import type { ServiceDeps } from '../deps.ts';

export type { AuditEventView };

export interface AuditFilter {
  /** Inclusive lower bound on `time` (ISO 8601). */
  from?: string | undefined;
  /** Exclusive upper bound on `time`. */
  to?: string | undefined;
  actorId?: string | undefined;
  /** Events of credentials acting on this identity's authority for another identity. */
  authorityId?: string | undefined;
  /** An exact action, or a prefix ending in `*` (e.g. `identity.*`). */
  action?: string | undefined;
  /** Any of these actions (each exact or a prefix ending in `*`). */
  anyAction?: readonly string[] | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
}

export type AuditOrder = 'asc' | 'desc';

const parseJson = (text: string | null): unknown => (text === null ? null : (JSON.parse(text) as unknown));

export function toAuditEventView(row: Database['audit_events']): AuditEventView {
  return {
    id: row.id,
    seq: Number(row.seq),
    time: row.time,
    revision: Number(row.revision),
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
    onBehalfOfId: row.on_behalf_of_id,
    authorityId: row.authority_id,
    requestId: row.request_id,
    sourceIp: row.source_ip,
    sourcePort: row.source_port === null ? null : Number(row.source_port),
    userAgent: row.user_agent,
    origin: row.origin,
    before: parseJson(row.before),
    after: parseJson(row.after),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** Normalizes the filter's times to the stored form (ISO 8601 UTC with milliseconds). */
export function normalizeAuditFilter(filter: AuditFilter): AuditFilter {
  const time = (field: 'from' | 'to') => {
    const value = filter[field];
    if (value === undefined) return undefined;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new AppError('validation_failed', `${field} is not a date-time`, { errors: [{ field, message: 'is not an ISO 8601 date-time' }] });
    return new Date(ms).toISOString();
  };
  const out: AuditFilter = {};
  const from = time('from');
  const to = time('to');
  if (from) out.from = from;
  if (to) out.to = to;
  for (const key of ['actorId', 'authorityId', 'action', 'targetType', 'targetId'] as const) if (filter[key] !== undefined) out[key] = filter[key];
  if (filter.anyAction?.length) out.anyAction = filter.anyAction;
  return out;
}

type AuditQuery = SelectQueryBuilder<Database, 'audit_events', object>;

/** Applies a (normalized) filter to a query of one tenant's audit events. */
export function whereAuditFilter<Q extends AuditQuery>(query: Q, tenantId: string, filter: AuditFilter): Q {
  let q = query.where('audit_events.tenant_id', '=', tenantId) as Q;
  if (filter.from) q = q.where('audit_events.time', '>=', filter.from) as Q;
  if (filter.to) q = q.where('audit_events.time', '<', filter.to) as Q;
  if (filter.actorId) q = q.where('audit_events.actor_id', '=', filter.actorId) as Q;
  if (filter.authorityId) q = q.where('audit_events.authority_id', '=', filter.authorityId) as Q;
  if (filter.targetType) q = q.where('audit_events.target_type', '=', filter.targetType) as Q;
  if (filter.targetId) q = q.where('audit_events.target_id', '=', filter.targetId) as Q;
  if (filter.action) {
    const action = filter.action;
    q = q.where((eb: ExpressionBuilder<Database, 'audit_events'>) => actionMatches(eb, action)) as Q;
  }
  const anyAction = filter.anyAction;
  if (anyAction?.length) q = q.where((eb: ExpressionBuilder<Database, 'audit_events'>) => eb.or(anyAction.map((a) => actionMatches(eb, a)))) as Q;
  return q;
}

/** `action` exactly, or the prefix of a pattern ending in `*`. */
function actionMatches(eb: ExpressionBuilder<Database, 'audit_events'>, action: string) {
  if (!action.endsWith('*')) return eb('audit_events.action', '=', action);
  const prefix = action.slice(0, -1);
  return eb(sql<string>`substr(audit_events.action, 1, ${prefix.length})`, '=', prefix);
}

/**
 * Streams a tenant's events matching `filter` in sequence order, after `afterSeq`, a page
 * of `pageSize` rows at a time (constant memory).
 */
export async function* iterateAuditEvents(
  scope: TenantDb,
  filter: AuditFilter,
  options: { afterSeq?: number; pageSize?: number } = {},
): AsyncGenerator<Database['audit_events']> {
  const pageSize = options.pageSize ?? 500;
  let after = options.afterSeq ?? 0;
  for (;;) {
    const rows = await whereAuditFilter(scope.db.selectFrom('audit_events').selectAll(), scope.tenantId, filter)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    for (const row of rows) yield row;
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1]!.seq);
  }
}

export interface AuditPageInput {
  filter: AuditFilter;
  limit: number;
  cursor?: string | undefined;
  order?: AuditOrder | undefined;
}

export interface AuditPage {
  items: AuditEventView[];
  nextCursor: string | null;
}

/** Opens a cursor sealed for this tenant, list and filter; throws `invalid_cursor` otherwise. */
export async function openListCursor(deps: ServiceDeps, binding: CursorBinding, token: string): Promise<Record<string, string | number>> {
  const position = openCursor(await cursorKey(deps, binding.tenantId), binding, token);
  if (!position) throw new AppError('invalid_cursor', 'the cursor was not issued for this list, these filters or this tenant');
  return position;
}

export async function sealListCursor(deps: ServiceDeps, binding: CursorBinding, position: Record<string, string | number>): Promise<string> {
  return sealCursor(await cursorKey(deps, binding.tenantId), binding, position);
}

/**
 * One page of a tenant's audit events (oldest first unless `order` is `desc`). The cursor
 * is opaque and sealed: it only continues the same query of the same tenant.
 */
export async function readAuditPage(deps: ServiceDeps, tenantId: string, list: string, input: AuditPageInput): Promise<{ rows: Database['audit_events'][]; nextCursor: string | null }> {
  const filter = normalizeAuditFilter(input.filter);
  const order = input.order ?? 'asc';
  const binding: CursorBinding = { tenantId, list, filter: { ...filter, order } };
  let query = whereAuditFilter(deps.store.read(tenantId).db.selectFrom('audit_events').selectAll(), tenantId, filter);
  if (input.cursor) {
    const { seq } = await openListCursor(deps, binding, input.cursor);
    if (typeof seq !== 'number') throw new AppError('invalid_cursor', 'the cursor is not valid for this list');
    query = query.where('seq', order === 'asc' ? '>' : '<', seq);
  }
  const rows = await query.orderBy('seq', order).limit(input.limit + 1).execute();
  const more = rows.length > input.limit;
  const page = more ? rows.slice(0, input.limit) : rows;
  const nextCursor = more ? await sealListCursor(deps, binding, { seq: Number(page[page.length - 1]!.seq) }) : null;
  return { rows: page, nextCursor };
}

export async function listAuditEvents(deps: ServiceDeps, actor: Actor, input: AuditPageInput): Promise<AuditPage> {
  return cursorPageAuditEvents(deps, actor, 'audit-events', input);
}

export interface Denial {
  method: string;
  /** The route pattern (e.g. `/api/v1/audit-events`). */
  route: string;
  requiredRights: readonly Right[];
  /** Why it was refused (the error message), when known. */
  reason?: string | null;
}

/** Records a denied request as an `access.denied` audit event of the caller's tenant. */
export async function recordDenial(deps: ServiceDeps, actor: Actor, denial: Denial): Promise<void> {
  await writeAs(deps, actor, async (tx) => {
    tx.audit({
      action: 'access.denied',
      targetType: 'route',
      targetId: `${denial.method} ${denial.route}`.slice(0, 300),
      after: {
        method: denial.method,
        route: denial.route,
        requiredRights: [...denial.requiredRights],
        heldRights: [...actor.caller.rights].sort(),
        ...(denial.reason ? { reason: denial.reason } : {}),
      },
    });
  });
}

export interface RateLimitRefusal {
  method: string;
  route: string;
  /** Which limit: `management` or `decision` (per credential). */
  limit: string;
  max: number;
  windowSeconds: number;
}

/**
 * Records that a credential ran into its rate limit (`rate_limit.exceeded`): the first refusal
 * of a window is written; the refusals after it in the same window are counted by the
 * metrics, not written again (a flood of 429s must not become a flood of writes).
 */
export async function recordRateLimited(deps: ServiceDeps, actor: Actor, refusal: RateLimitRefusal): Promise<void> {
  await writeAs(deps, actor, async (tx) => {
    tx.audit({
      action: 'rate_limit.exceeded',
      targetType: 'route',
      targetId: `${refusal.method} ${refusal.route}`.slice(0, 300),
      after: { ...refusal },
    });
  });
}

// ---------------------------------------------------------------------------------------
// Verification

export type AuditProblem =
  | ChainProblem
  | { kind: 'checkpoint_mismatch' | 'truncated' | 'bad_checkpoint'; seq: number; message: string };

export interface TenantVerification {
  tenant: string;
  tenantId: string;
  events: number;
  /** The last event that verified and its hash. */
  headSeq: number;
  headHash: string;
  /** Checkpoints whose signature and hash were checked against the chain. */
  checkpoints: number;
  problem: AuditProblem | null;
  notes: string[];
}

/** An exported checkpoint file: what `GET /api/v1/audit-checkpoints` returns. */
export interface CheckpointFile {
  tenant: { id: string; name?: string };
  publicKeys: { keyId: string; algorithm?: string; publicKey: string }[];
  items: SignedCheckpoint[];
}

const PAGE = 1000;

interface ExpectedCheckpoint {
  checkpoint: SignedCheckpoint;
  source: string;
}

async function collectCheckpoints(store: Store, tenantId: string, files: CheckpointFile[]): Promise<{ expected: Map<number, ExpectedCheckpoint[]>; problem: AuditProblem | null; notes: string[] }> {
  const { db } = store.read(tenantId);
  const notes: string[] = [];
  const expected = new Map<number, ExpectedCheckpoint[]>();
  const add = (checkpoint: SignedCheckpoint, source: string) => {
    const list = expected.get(checkpoint.seq) ?? [];
    list.push({ checkpoint, source });
    expected.set(checkpoint.seq, list);
  };
  const keys = await db.selectFrom('audit_keys').select(['id', 'public_key']).where('tenant_id', '=', tenantId).where('purpose', '=', 'checkpoint').execute();
  const dbKeys = new Map(keys.map((k) => [k.id, k.public_key ?? '']));
  const rows = await db.selectFrom('audit_checkpoints').selectAll().where('tenant_id', '=', tenantId).orderBy('seq').execute();
  for (const row of rows) {
    const checkpoint: SignedCheckpoint = { tenant: tenantId, seq: Number(row.seq), hash: row.hash, time: row.time, keyId: row.key_id, signature: row.signature };
    const publicKey = dbKeys.get(row.key_id);
    if (!publicKey || !verifyCheckpointSignature(publicKey, checkpoint)) {
      return { expected, notes, problem: { kind: 'bad_checkpoint', seq: checkpoint.seq, message: `the stored checkpoint at event #${checkpoint.seq} has no valid signature` } };
    }
    add(checkpoint, 'database');
  }
  for (const file of files) {
    if (file.tenant.id !== tenantId) continue;
    const fileKeys = new Map(file.publicKeys.map((k) => [k.keyId, k.publicKey]));
    for (const [keyId, publicKey] of fileKeys) {
      const stored = dbKeys.get(keyId);
      if (stored === undefined) notes.push(`the exported key ${keyId} is not in the database (the signing key was replaced)`);
      else if (stored.trim() !== publicKey.trim()) notes.push(`the database's key ${keyId} differs from the exported one`);
    }
    for (const checkpoint of file.items) {
      const publicKey = fileKeys.get(checkpoint.keyId);
      const signed = { ...checkpoint, tenant: tenantId };
      if (!publicKey || !verifyCheckpointSignature(publicKey, signed)) {
        return { expected, notes, problem: { kind: 'bad_checkpoint', seq: checkpoint.seq, message: `the exported checkpoint at event #${checkpoint.seq} has no valid signature` } };
      }
      add(signed, 'export');
    }
  }
  return { expected, problem: null, notes };
}

export async function verifyAuditTrail(store: Store, options: { checkpointFiles?: CheckpointFile[] } = {}): Promise<TenantVerification[]> {
  const results: TenantVerification[] = [];
  for (const tenant of await store.listTenants()) results.push(await verifyTenantTrail(store, tenant, options.checkpointFiles ?? []));
  return results;
}

/** One tenant's chain, from its first event to its head, against its signed checkpoints. */
async function verifyTenantTrail(store: Store, tenant: { id: string; name: string }, checkpointFiles: CheckpointFile[]): Promise<TenantVerification> {
  const { db, tenantId } = store.read(tenant.id);
  const verifier = new ChainVerifier();
  const collected = await collectCheckpoints(store, tenantId, checkpointFiles);
  let problem: AuditProblem | null = collected.problem;
  let checked = 0;
  let after = 0;
  while (!problem) {
    const rows = await db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).where('seq', '>', after).orderBy('seq').limit(PAGE).execute();
    for (const row of rows) {
      const event = fromAuditRow(row);
      problem = verifier.push(event);
      if (problem) break;
      for (const { checkpoint, source } of collected.expected.get(event.seq) ?? []) {
        if (checkpoint.hash !== event.hash) {
          problem = { kind: 'checkpoint_mismatch', seq: event.seq, message: `event #${event.seq} does not have the hash signed in the ${source} checkpoint of ${checkpoint.time} (the trail was rewritten)` };
          break;
        }
        checked += 1;
      }
      if (problem) break;
    }
    if (problem || rows.length < PAGE) break;
    after = Number(rows[rows.length - 1]!.seq);
  }
  if (!problem) {
    const beyond = [...collected.expected.keys()].filter((seq) => seq > verifier.lastSeq).sort((a, b) => b - a)[0];
    if (beyond !== undefined) {
      const { checkpoint, source } = collected.expected.get(beyond)![0]!;
      problem = {
        kind: 'truncated',
        seq: verifier.lastSeq + 1,
        message: `the ${source} checkpoint of ${checkpoint.time} covers event #${beyond} but the trail ends at event #${verifier.lastSeq} (newest events were deleted)`,
      };
    }
  }
  if (!problem) {
    const head = await db.selectFrom('tenants').select(['audit_seq', 'audit_head_hash']).where('id', '=', tenantId).executeTakeFirstOrThrow();
    if (Number(head.audit_seq) !== verifier.lastSeq || head.audit_head_hash !== verifier.headHash) {
      problem = {
        kind: 'gap',
        seq: verifier.lastSeq + 1,
        message: `the trail ends at event #${verifier.lastSeq} but the tenant's head is event #${head.audit_seq} (newest events were deleted)`,
      };
    }
  }
  return { tenant: tenant.name, tenantId, events: verifier.count, headSeq: verifier.lastSeq, headHash: verifier.headHash, checkpoints: checked, problem, notes: collected.notes };
}

/** The result of verifying the caller's tenant's whole trail (`GET /api/v1/audit-verification`). */
export type AuditVerification = Omit<TenantVerification, 'tenant' | 'tenantId'> & { ok: boolean; verifiedAt: string; durationMs: number };

/** Where a verification ran: the API's route (and the console's button) or `grantory audit verify`. */
export type VerificationSource = 'api' | 'cli';

/** What an `audit.verified` event records (its `after`). */
export interface RecordedVerification {
  source: VerificationSource;
  ok: boolean;
  events: number;
  headSeq: number;
  headHash: string;
  checkpoints: number;
  problem: AuditProblem | null;
  durationMs: number;
}

/** The newest recorded verification with who ran it (`GET /api/v1/audit-verification/last`). */
export interface LastAuditVerification extends RecordedVerification {
  /** The `audit.verified` event that recorded it. */
  eventSeq: number;
  verifiedAt: string;
  actor: AuditEventView['actor'];
  onBehalfOfId: string | null;
}

/**
 * Records a verification's result as an `audit.verified` event, so the last verification (when,
 * by whom, its result) can be shown and audited. The event is appended after the head that was
 * verified; it changes no data, so the checkpoint job does not count it.
 */
async function recordVerification(deps: Pick<ServiceDeps, 'store'>, actor: Actor, recorded: RecordedVerification): Promise<void> {
  await writeAs(deps, actor, async (tx) => {
    tx.audit({ action: 'audit.verified', targetType: 'audit_trail', targetId: null, after: recorded });
  });
}

const recordedOf = (source: VerificationSource, result: TenantVerification, durationMs: number): RecordedVerification => ({
  source,
  ok: result.problem === null,
  events: result.events,
  headSeq: result.headSeq,
  headHash: result.headHash,
  checkpoints: result.checkpoints,
  problem: result.problem,
  durationMs,
});

/**
 * Verifies the caller's tenant's whole audit trail (read-audit): every hash re-computed,
 * every link, the head recorded on the tenant and every signed checkpoint in the database,
 * as `grantory audit verify` does (which can also compare an exported checkpoint file).
 * The result is recorded as an `audit.verified` event.
 */
export async function verifyTenantAudit(deps: Pick<ServiceDeps, 'store' | 'now'>, actor: Actor): Promise<AuditVerification> {
  requireRight(actor, 'read-audit');
  const started = performance.now();
  const tenantId = actor.caller.tenantId;
  const tenant = (await deps.store.listTenants()).find((t) => t.id === tenantId);
  if (!tenant) throw new AppError('not_found', `tenant ${tenantId} does not exist`);
  const result = await verifyTenantTrail(deps.store, tenant, []);
  const durationMs = Math.round(performance.now() - started);
  await recordVerification(deps, actor, recordedOf('api', result, durationMs));
  const { tenant: _name, tenantId: _id, ...verified } = result;
  return { ok: result.problem === null, ...verified, verifiedAt: deps.now().toISOString(), durationMs };
}

/**
 * `grantory audit verify`: verifies every tenant's trail ({@link verifyAuditTrail}) and records
 * each tenant's result as an `audit.verified` event by the command.
 */
export async function verifyAndRecordAuditTrails(store: Store, options: { checkpointFiles?: CheckpointFile[] } = {}): Promise<TenantVerification[]> {
  const results: TenantVerification[] = [];
  for (const tenant of await store.listTenants()) {
    const started = performance.now();
    const result = await verifyTenantTrail(store, tenant, options.checkpointFiles ?? []);
    await recordVerification({ store }, systemActor(tenant.id, 'grantory audit verify'), recordedOf('cli', result, Math.round(performance.now() - started)));
    results.push(result);
  }
  return results;
}

/** The newest recorded verification of the caller's tenant's trail, or null when it was never verified (read-audit). */
export async function lastAuditVerification(deps: Pick<ServiceDeps, 'store'>, actor: Actor): Promise<LastAuditVerification | null> {
  requireRight(actor, 'read-audit');
  const { db } = deps.store.read(actor.caller.tenantId);
  const row = await db.selectFrom('audit_events').selectAll().where('action', '=', 'audit.verified').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  if (!row) return null;
  const event = toAuditEventView(row);
  return { ...(event.after as RecordedVerification), eventSeq: event.seq, verifiedAt: event.time, actor: event.actor, onBehalfOfId: event.onBehalfOfId };
}

// ---------------------------------------------------------------------------------------
// Numbered pages (vendor profiles that page by number) and authentication events

/** A numbered page of the filtered trail (oldest first), with the total count. */
export async function pageAuditEvents(deps: ServiceDeps, actor: Actor, input: { filter: AuditFilter; pageNumber: number; pageSize: number }): Promise<{ items: AuditEventView[]; totalCount: number }> {
  requireRight(actor, 'read-audit');
  const tenantId = actor.caller.tenantId;
  const filter = normalizeAuditFilter(input.filter);
  const { db } = deps.store.read(tenantId);
  const total = await whereAuditFilter(db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')), tenantId, filter).executeTakeFirstOrThrow();
  const rows = await whereAuditFilter(db.selectFrom('audit_events').selectAll(), tenantId, filter)
    .orderBy('seq')
    .limit(input.pageSize)
    .offset(input.pageNumber * input.pageSize)
    .execute();
  return { items: rows.map(toAuditEventView), totalCount: Number(total.n) };
}

/** A cursor page of the filtered trail for a vendor profile's own list (`list` binds the cursor). */
export async function cursorPageAuditEvents(deps: ServiceDeps, actor: Actor, list: string, input: AuditPageInput): Promise<AuditPage> {
  requireRight(actor, 'read-audit');
  const { rows, nextCursor } = await readAuditPage(deps, actor.caller.tenantId, list, input);
  return { items: rows.map(toAuditEventView), nextCursor };
}

export interface AuthenticationEventView {
  time: string;
  action: string;
  success: boolean;
  /** The credential type (api_key, client, app_key, access_token...). */
  credentialType: string;
  /** The e-mail of the identity the credential acts for, when known. */
  email: string | null;
}

/** The audit actions of the login history: `auth.*` (failures: `auth.failure`) and access tokens issued. */
export const AUTHENTICATION_ACTIONS = ['auth.*', 'oauth_token.issue'] as const;

/**
 * Authentication events of the trail (`auth.*` — failed authentications are recorded as
 * `auth.failure`, sign-ins as other `auth.` actions — and `oauth_token.issue`), oldest
 * first, a numbered page at a time, with the total count.
 */
export async function pageAuthenticationEvents(deps: ServiceDeps, actor: Actor, input: { filter: AuditFilter; pageNumber: number; pageSize: number }): Promise<{ items: AuthenticationEventView[]; totalCount: number }> {
  requireRight(actor, 'read-audit');
  const { items, totalCount } = await pageAuditEvents(deps, actor, { ...input, filter: { ...input.filter, anyAction: AUTHENTICATION_ACTIONS } });
  const { db, tenantId } = deps.store.read(actor.caller.tenantId);
  const keyIds = [...new Set(items.map((e) => e.actor.id).filter((id): id is string => !!id))];
  const emails = new Map<string, string | null>();
  if (keyIds.length) {
    const keys = await db
      .selectFrom('api_keys')
      .innerJoin('identities', 'identities.id', 'api_keys.identity_id')
      .select(['api_keys.id as keyId', 'identities.email as email'])
      .where('api_keys.tenant_id', '=', tenantId)
      .where('api_keys.id', 'in', keyIds)
      .execute();
    const clients = await db
      .selectFrom('oauth_clients')
      .innerJoin('identities', 'identities.id', 'oauth_clients.identity_id')
      .select(['oauth_clients.id as keyId', 'identities.email as email'])
      .where('oauth_clients.tenant_id', '=', tenantId)
      .where('oauth_clients.id', 'in', keyIds)
      .execute();
    const people = await db.selectFrom('identities').select(['id as keyId', 'email']).where('tenant_id', '=', tenantId).where('id', 'in', keyIds).execute();
    for (const r of [...keys, ...clients, ...people]) emails.set(r.keyId, r.email);
  }
  return {
    totalCount,
    items: items.map((e) => {
      const after = (e.after ?? {}) as { credentialType?: unknown };
      return {
        time: e.time,
        action: e.action,
        success: !/fail/.test(e.action),
        credentialType: typeof after.credentialType === 'string' ? after.credentialType : e.targetType,
        email: (e.actor.id && emails.get(e.actor.id)) ?? null,
      };
    }),
  };
}
