/**
 * The write protocol (docs/architecture.md): one transaction that bumps the tenant's
 * revision first (serializing the tenant's writes), runs the use case, refuses a write
 * without an audit event, appends the events to the tenant's hash chain and the change feed,
 * and commits.
 */
import { randomUUID } from 'node:crypto';
import {
  Kysely,
} from 'kysely';
import { canonicalJson } from '../domain/canonical-json.ts';
import { hashAuditEvent, type ChainedAuditEvent } from '../domain/audit-chain.ts';
import { AppError } from '../domain/errors.ts';
import { TenantScopePlugin } from './tenant-scope.ts';
import { recordFacts } from './fact-history.ts';
import type { Database } from './schema.ts';
import type { AuditInput, SqliteStatements, WriteMeta, WriteTx } from './store.ts';


/** Runs `fn` as one write of `tenantId` (see {@link Store.write}). */
export function runWrite<T>(
  db: Kysely<Database>,
  statements: SqliteStatements | null,
  tenantId: string,
  meta: WriteMeta,
  fn: (tx: WriteTx) => Promise<T>,
): Promise<{ value: T; revision: number }> {
return db.transaction().execute(async (trx) => {
    // Bumping the tenant's revision first takes the tenant's row lock (PostgreSQL) or the
    // write lock (SQLite): writes of one tenant are serialized, so revisions, numbers and
    // the audit chain advance without gaps or forks.
    const head = await trx
      .updateTable('tenants')
      .set((eb) => ({ revision: eb('revision', '+', 1) }))
      .where('id', '=', tenantId)
      .returning(['revision', 'audit_seq', 'audit_head_hash'])
      .executeTakeFirst();
    if (!head) throw new AppError('not_found', `tenant ${tenantId} does not exist`);
    const now = new Date().toISOString();
    const audits: AuditInput[] = [];
    const changes = new Map<string, { entity: string; entityId: string; op: string }>();
    const changedEntities = new Set<string>();
    const tx: WriteTx = {
      tenantId,
      db: trx.withPlugin(new TenantScopePlugin(tenantId)),
      revision: head.revision,
      now,
      audit: (e) => void audits.push(e),
      change: (entity, entityId, op) => {
        changes.set(`${entity}\u0000${entityId}`, { entity, entityId, op });
        changedEntities.add(entity);
      },
      hasChanged: (entities) => entities.some((e) => changedEntities.has(e)),
      nextNumber: async (name) => {
        const row = await trx
          .insertInto('counters')
          .values({ tenant_id: tenantId, name, value: 1 })
          .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet((eb) => ({ value: eb('counters.value', '+', 1) })))
          .returning('value')
          .executeTakeFirstOrThrow();
        return row.value;
      },
      sqlite: statements,
    };
    const value = await fn(tx);
    if (audits.length === 0) throw new Error('every write must record an audit event');

    let seq = head.audit_seq;
    let prevHash = head.audit_head_hash;
    const rows = audits.map((a) => {
      seq += 1;
      const event: ChainedAuditEvent = {
        tenantId,
        seq,
        id: randomUUID(),
        time: now,
        revision: head.revision,
        actorType: meta.actorType,
        actorId: meta.actorId,
        actorName: meta.actorName,
        onBehalfOfId: meta.onBehalfOfId ?? null,
        authorityId: meta.authorityId ?? null,
        action: a.action,
        targetType: a.targetType,
        targetId: a.targetId,
        before: a.before === undefined ? null : canonicalJson(a.before),
        after: a.after === undefined ? null : canonicalJson(a.after),
        requestId: meta.requestId ?? null,
        sourceIp: meta.sourceIp ?? null,
        sourcePort: meta.sourcePort ?? null,
        userAgent: meta.userAgent ?? null,
        origin: meta.origin ?? null,
        prevHash,
      };
      const hash = hashAuditEvent(event);
      prevHash = hash;
      return toAuditRow(event, hash);
    });
    // Inserted in chunks: a large write (an import touching 100k accounts) would exceed
    // the bound-parameter limits of both backends in one statement.
    for (let i = 0; i < rows.length; i += 500) await trx.insertInto('audit_events').values(rows.slice(i, i + 500)).execute();
    const changeRows = [...changes.values()].map((c) => ({
      tenant_id: tenantId,
      revision: head.revision,
      entity: c.entity,
      entity_id: c.entityId,
      op: c.op,
    }));
    for (let i = 0; i < changeRows.length; i += 2000) await trx.insertInto('changes').values(changeRows.slice(i, i + 2000)).execute();
    // Access history: the new versions of the facts this write changed, in the same transaction.
    await recordFacts(tx.db, tenantId, head.revision, changes.values());
    await trx
      .updateTable('tenants')
      .set({ audit_seq: seq, audit_head_hash: prevHash })
      .where('id', '=', tenantId)
      .execute();
    return { value, revision: head.revision };
  });
}

function toAuditRow(e: ChainedAuditEvent, hash: string): Database['audit_events'] {
  return {
    tenant_id: e.tenantId,
    seq: e.seq,
    id: e.id,
    time: e.time,
    revision: e.revision,
    actor_type: e.actorType,
    actor_id: e.actorId,
    actor_name: e.actorName,
    on_behalf_of_id: e.onBehalfOfId,
    authority_id: e.authorityId,
    action: e.action,
    target_type: e.targetType,
    target_id: e.targetId,
    before: e.before,
    after: e.after,
    request_id: e.requestId,
    source_ip: e.sourceIp,
    source_port: e.sourcePort,
    user_agent: e.userAgent,
    origin: e.origin,
    prev_hash: e.prevHash,
    hash,
  };
}

/** Maps a stored audit row back to the chained event (for verification and reads). */
export function fromAuditRow(r: Database['audit_events']): ChainedAuditEvent & { hash: string } {
  return {
    tenantId: r.tenant_id,
    seq: Number(r.seq),
    id: r.id,
    time: r.time,
    revision: Number(r.revision),
    actorType: r.actor_type,
    actorId: r.actor_id,
    actorName: r.actor_name,
    onBehalfOfId: r.on_behalf_of_id,
    authorityId: r.authority_id,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    before: r.before,
    after: r.after,
    requestId: r.request_id,
    sourceIp: r.source_ip,
    sourcePort: r.source_port === null || r.source_port === undefined ? null : Number(r.source_port),
    userAgent: r.user_agent,
    origin: r.origin,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** True when `e` is a unique-constraint violation on either backend. */
