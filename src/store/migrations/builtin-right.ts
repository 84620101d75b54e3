/**
 * Adding a Grantory right to tenants that exist already (migrations 0009 and 0023): the
 * right becomes a permission of the built-in application and part of the system role
 * `Admin`, in one audited write per tenant.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { hashAuditEvent, type ChainedAuditEvent } from '../../domain/audit-chain.ts';
import { canonicalJson } from '../../domain/canonical-json.ts';

/** The columns adding a right reads and writes (as they are at 0009; later migrations add none it needs). */
export interface RightTables {
  tenants: { id: string; revision: number; audit_seq: number; audit_head_hash: string };
  counters: { tenant_id: string; name: string; value: number };
  applications: { id: string; tenant_id: string; name: string; builtin: number };
  permissions: {
    id: string;
    tenant_id: string;
    number: number;
    application_id: string;
    name: string;
    category: string | null;
    description: string | null;
    risk: string;
    requestable: number;
    delegable: number;
    created_at: string;
    updated_at: string;
    version: number;
  };
  roles: { id: string; tenant_id: string; name: string; system: number; updated_at: string; version: number };
  role_permissions: { tenant_id: string; role_id: string; permission_id: string };
  changes: { tenant_id: string; revision: number; entity: string; entity_id: string; op: string };
  audit_events: {
    tenant_id: string;
    seq: number;
    id: string;
    time: string;
    revision: number;
    actor_type: string;
    actor_id: string | null;
    actor_name: string | null;
    on_behalf_of_id: string | null;
    authority_id: string | null;
    action: string;
    target_type: string;
    target_id: string | null;
    before: string | null;
    after: string | null;
    request_id: string | null;
    source_ip: string | null;
    user_agent: string | null;
    origin: string | null;
    prev_hash: string;
    hash: string;
  };
}
type TypedDb = Kysely<RightTables>;

interface AuditInput {
  action: string;
  targetType: string;
  targetId: string;
  after: unknown;
}

/** A right a migration adds to existing tenants, and who the audit trail says added it. */
export interface NewRight {
  right: string;
  description: string;
  /** The audit events' actor name, e.g. `migration 0009-credential-authority`. */
  actorName: string;
  /** Runs in the same write after its change-feed rows (e.g. recording the facts' history). */
  afterWrite?: (db: Kysely<unknown>, tenantId: string, revision: number, time: string, changes: { entity: string; entityId: string }[]) => Promise<void>;
}

/**
 * Adds the permission to the tenant's built-in `grantory` application and puts it in its
 * system role `Admin` (every right), in one audited write as a service would make it
 * (revision, hash-chained events, change feed). Does nothing that is done already.
 */
export async function grantNewRight(untyped: Kysely<unknown>, tenantId: string, spec: NewRight): Promise<void> {
  const db = untyped as unknown as TypedDb;
  const { right: RIGHT, description: DESCRIPTION } = spec;
  const app = await db
    .selectFrom('applications')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('name', '=', 'grantory')
    .where('builtin', '=', 1)
    .executeTakeFirst();
  if (!app) return;
  const now = new Date().toISOString();
  const audits: AuditInput[] = [];
  const changes: { entity: string; id: string; op: string }[] = [];

  let permission = await db
    .selectFrom('permissions')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('application_id', '=', app.id)
    .where('name', '=', RIGHT)
    .executeTakeFirst();
  if (!permission) {
    const counter = await db
      .insertInto('counters')
      .values({ tenant_id: tenantId, name: 'permissions', value: 1 })
      .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet((eb) => ({ value: eb('counters.value', '+', 1) })))
      .returning('value')
      .executeTakeFirstOrThrow();
    permission = { id: randomUUID() };
    await db
      .insertInto('permissions')
      .values({
        id: permission.id,
        tenant_id: tenantId,
        number: Number(counter.value),
        application_id: app.id,
        name: RIGHT,
        category: null,
        description: DESCRIPTION,
        risk: 'high',
        requestable: 0,
        delegable: 0,
        created_at: now,
        updated_at: now,
        version: 1,
      })
      .execute();
    audits.push({ action: 'permission.create', targetType: 'application', targetId: app.id, after: { permissions: [RIGHT] } });
    changes.push({ entity: 'permission', id: permission.id, op: 'create' });
  }

  const admin = await db.selectFrom('roles').select('id').where('tenant_id', '=', tenantId).where('name', '=', 'Admin').where('system', '=', 1).executeTakeFirst();
  if (admin) {
    const held = await db
      .selectFrom('role_permissions')
      .select('permission_id')
      .where('tenant_id', '=', tenantId)
      .where('role_id', '=', admin.id)
      .where('permission_id', '=', permission.id)
      .executeTakeFirst();
    if (!held) {
      await db.insertInto('role_permissions').values({ tenant_id: tenantId, role_id: admin.id, permission_id: permission.id }).execute();
      await db
        .updateTable('roles')
        .set((eb) => ({ updated_at: now, version: eb('version', '+', 1) }))
        .where('tenant_id', '=', tenantId)
        .where('id', '=', admin.id)
        .execute();
      audits.push({ action: 'role.update', targetType: 'role', targetId: admin.id, after: { name: 'Admin', addedPermissions: [{ id: permission.id, name: RIGHT }] } });
      changes.push({ entity: 'role', id: admin.id, op: 'update' });
    }
  }
  if (audits.length) await appendWrite(db, tenantId, now, audits, changes, spec);
}

/** What `Store.write` does around a change: a new revision, chained audit events, change-feed rows. */
async function appendWrite(db: TypedDb, tenantId: string, now: string, audits: AuditInput[], changes: { entity: string; id: string; op: string }[], spec: NewRight): Promise<void> {
  const head = await db
    .updateTable('tenants')
    .set((eb) => ({ revision: eb('revision', '+', 1) }))
    .where('id', '=', tenantId)
    .returning(['revision', 'audit_seq', 'audit_head_hash'])
    .executeTakeFirstOrThrow();
  const revision = Number(head.revision);
  let seq = Number(head.audit_seq);
  let prevHash = head.audit_head_hash;
  for (const a of audits) {
    seq += 1;
    const event: ChainedAuditEvent = {
      tenantId,
      seq,
      id: randomUUID(),
      time: now,
      revision,
      actorType: 'system',
      actorId: null,
      actorName: spec.actorName,
      onBehalfOfId: null,
      authorityId: null,
      action: a.action,
      targetType: a.targetType,
      targetId: a.targetId,
      before: null,
      after: canonicalJson(a.after),
      requestId: null,
      sourceIp: null,
      sourcePort: null,
      userAgent: null,
      origin: null,
      prevHash,
    };
    const hash = hashAuditEvent(event);
    await db
      .insertInto('audit_events')
      .values({
        tenant_id: tenantId,
        seq,
        id: event.id,
        time: now,
        revision,
        actor_type: event.actorType,
        actor_id: null,
        actor_name: spec.actorName,
        on_behalf_of_id: null,
        authority_id: null,
        action: event.action,
        target_type: event.targetType,
        target_id: event.targetId,
        before: null,
        after: event.after,
        request_id: null,
        source_ip: null,
        user_agent: null,
        origin: null,
        prev_hash: prevHash,
        hash,
      })
      .execute();
    prevHash = hash;
  }
  await db
    .insertInto('changes')
    .values(changes.map((c) => ({ tenant_id: tenantId, revision, entity: c.entity, entity_id: c.id, op: c.op })))
    .execute();
  await db.updateTable('tenants').set({ audit_seq: seq, audit_head_hash: prevHash }).where('id', '=', tenantId).execute();
  await spec.afterWrite?.(db as unknown as Kysely<unknown>, tenantId, revision, now, changes.map((c) => ({ entity: c.entity, entityId: c.id })));
}
