import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { hashAuditEvent, type ChainedAuditEvent } from '../../domain/audit-chain.ts';
import { canonicalJson } from '../../domain/canonical-json.ts';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/** The columns this migration reads and writes, as they are at 0009. */
interface Tables {
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
  identities: { id: string; tenant_id: string };
  api_keys: { id: string; tenant_id: string; identity_id: string; created_by: string | null; authority_id: string | null };
  oauth_clients: { id: string; tenant_id: string; identity_id: string | null; created_by: string | null; authority_id: string | null };
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
type TypedDb = Kysely<Tables>;

const RIGHT = 'manage-credentials-of-others';
const DESCRIPTION = "Create API keys and OAuth clients that act as another identity (besides manage-clients); their rights stay capped by the creator's own";
const ACTOR_NAME = 'migration 0009-credential-authority';

/**
 * Credentials that act as someone else (issue 12).
 *
 * 1. `api_keys.authority_id` and `oauth_clients.authority_id`: the identity on whose
 *    authority a credential was made; its current rights cap the credential's. No foreign
 *    key: an authority that is deleted leaves its credentials with no right, rather than
 *    blocking the deletion or lifting the cap.
 * 2. `audit_events.authority_id`: who answers for an act when a credential acts for another
 *    identity (hashed only when set, so the existing chain verifies unchanged), indexed for
 *    the audit filter.
 * 3. The new right `manage-credentials-of-others` becomes a permission of every tenant's
 *    built-in `grantory` application and part of its system role `Admin`, in one audited
 *    write per tenant (revision, change feed, hash-chained events), as a service would.
 * 4. Existing credentials get the authority that can be known from `created_by`: the
 *    creating credential's own authority, else that credential's identity (recursively, so a
 *    chain of keys is answered for by its first identity); an identity id (a caller signed in
 *    through the external issuer) is that identity. Left null — not capped, as before —
 *    when it cannot be known: made by the system (`system`, or no creator: the bootstrap
 *    key), or by a credential that has since been deleted.
 */
export async function up(db: Db): Promise<void> {
  for (const table of ['api_keys', 'oauth_clients', 'audit_events']) {
    await db.schema.alterTable(table).addColumn('authority_id', 'text').execute();
  }
  await db.schema.createIndex('audit_events_authority').on('audit_events').columns(['tenant_id', 'authority_id', 'seq']).execute();

  const typed = db as unknown as TypedDb;
  const tenants = await typed.selectFrom('tenants').select('id').orderBy('id').execute();
  for (const { id } of tenants) await grantNewRight(typed, id);
  await fillAuthorities(typed);
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}

interface AuditInput {
  action: string;
  targetType: string;
  targetId: string;
  after: unknown;
}

/** Adds the permission and puts it in the Admin role of one tenant, with its audit events. */
async function grantNewRight(db: TypedDb, tenantId: string): Promise<void> {
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
  if (audits.length) await appendWrite(db, tenantId, now, audits, changes);
}

/** What `Store.write` does around a change: a new revision, chained audit events, change-feed rows. */
async function appendWrite(db: TypedDb, tenantId: string, now: string, audits: AuditInput[], changes: { entity: string; id: string; op: string }[]): Promise<void> {
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
      actorName: ACTOR_NAME,
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
        actor_name: ACTOR_NAME,
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
}

interface Credential {
  table: 'api_keys' | 'oauth_clients';
  id: string;
  tenantId: string;
  identityId: string | null;
  createdBy: string | null;
}

/** Sets the authority of existing credentials where `created_by` tells it (see {@link up}). */
async function fillAuthorities(db: TypedDb): Promise<void> {
  const keys = await db.selectFrom('api_keys').select(['id', 'tenant_id', 'identity_id', 'created_by']).execute();
  const clients = await db.selectFrom('oauth_clients').select(['id', 'tenant_id', 'identity_id', 'created_by']).execute();
  const credentials: Credential[] = [
    ...keys.map((r) => ({ table: 'api_keys' as const, id: r.id, tenantId: r.tenant_id, identityId: r.identity_id, createdBy: r.created_by })),
    ...clients.map((r) => ({ table: 'oauth_clients' as const, id: r.id, tenantId: r.tenant_id, identityId: r.identity_id, createdBy: r.created_by })),
  ];
  const at = (tenantId: string, id: string) => `${tenantId}\u0000${id}`;
  const byId = new Map(credentials.map((c) => [at(c.tenantId, c.id), c]));

  // Creators that are no credential may be identities (callers of the external issuer).
  const identityCreators = new Set<string>();
  const candidates = credentials.filter((c) => c.createdBy !== null && c.createdBy !== 'system' && !byId.has(at(c.tenantId, c.createdBy)));
  for (let i = 0; i < candidates.length; i += 500) {
    const chunk = candidates.slice(i, i + 500);
    const found = await db
      .selectFrom('identities')
      .select(['tenant_id', 'id'])
      .where('id', 'in', chunk.map((c) => c.createdBy!))
      .execute();
    for (const r of found) identityCreators.add(at(r.tenant_id, r.id));
  }

  const memo = new Map<Credential, string | null>();
  const authorityOf = (c: Credential, path: Set<Credential>): string | null => {
    if (memo.has(c)) return memo.get(c)!;
    let authority: string | null = null;
    const creatorId = c.createdBy;
    if (creatorId !== null && creatorId !== 'system') {
      const creator = byId.get(at(c.tenantId, creatorId));
      if (creator && !path.has(creator)) authority = authorityOf(creator, new Set([...path, c])) ?? creator.identityId;
      else if (identityCreators.has(at(c.tenantId, creatorId))) authority = creatorId;
    }
    memo.set(c, authority);
    return authority;
  };
  for (const c of credentials) {
    const authority = authorityOf(c, new Set());
    if (authority !== null) await db.updateTable(c.table).set({ authority_id: authority }).where('tenant_id', '=', c.tenantId).where('id', '=', c.id).execute();
  }
}
