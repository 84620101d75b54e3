/**
 * Fixtures for the security tests: identities holding chosen Grantory rights, applications,
 * a second tenant, and credentials for them — written through the store's audited write,
 * as the directory services will once they exist.
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../../src/domain/canonical-json.ts';
import { GRANTORY_APPLICATION, type Right } from '../../src/domain/rights.ts';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { createApiKey } from '../../src/services/credentials/api-keys.ts';
import { createApplicationKey } from '../../src/services/credentials/application-keys.ts';
import { seedTenant } from '../../src/services/bootstrap.ts';
import { createClient } from '../../src/services/credentials/oauth-clients.ts';
import type { Services } from '../../src/services/index.ts';
import type { Store } from '../../src/store/store.ts';

const sys = (_tenantId: string) => ({ actorType: 'system' as const, actorId: null, actorName: 'test fixture' });

/** An active identity holding exactly `rights` (direct assignments of the grantory permissions). */
export async function createIdentityWithRights(
  store: Store,
  tenantId: string,
  subject: string,
  rights: readonly Right[],
  options: { orgUnitId?: string | null } = {},
): Promise<string> {
  const { value } = await store.write(tenantId, sys(tenantId), async (tx) => {
    const id = randomUUID();
    const stamps = { created_at: tx.now, updated_at: tx.now, version: 1 };
    await tx.db
      .insertInto('identities')
      .values({
        id,
        tenant_id: tenantId,
        number: await tx.nextNumber('identities'),
        subject,
        username: subject,
        email: `${subject.replace(/[^a-z0-9]/gi, '')}@example.test`,
        first_name: null,
        last_name: null,
        display_name: subject,
        employee_number: null,
        type: 'service',
        status: 'active',
        manager_id: null,
        org_unit_id: options.orgUnitId ?? null,
        attributes: canonicalJson({}),
        ...stamps,
      })
      .execute();
    tx.audit({ action: 'identity.create', targetType: 'identity', targetId: id, after: { subject } });
    tx.change('identity', id, 'create');
    if (rights.length) {
      const perms = await tx.db
        .selectFrom('permissions')
        .innerJoin('applications', 'applications.id', 'permissions.application_id')
        .select(['permissions.id', 'permissions.name'])
        .where('permissions.tenant_id', '=', tenantId)
        .where('applications.name', '=', GRANTORY_APPLICATION)
        .where('permissions.name', 'in', [...rights])
        .execute();
      for (const p of perms) {
        const assignmentId = randomUUID();
        await tx.db
          .insertInto('assignments')
          .values({
            id: assignmentId,
            tenant_id: tenantId,
            assignee_type: 'identity',
            assignee_id: id,
            resource_type: 'permission',
            resource_id: p.id,
            context_type: 'all',
            context_id: null,
            source: 'direct',
            state: 'active',
            valid_from: null,
            valid_to: null,
            delegated_from_id: null,
            rule_id: null,
            reason: 'test',
            created_by: null,
            ...stamps,
          })
          .execute();
        tx.audit({ action: 'assignment.create', targetType: 'assignment', targetId: assignmentId, after: { permission: p.name } });
        tx.change('assignment', assignmentId, 'create');
      }
    }
    return id;
  });
  return value;
}

export async function createApplication(store: Store, tenantId: string, name: string): Promise<string> {
  const { value } = await store.write(tenantId, sys(tenantId), async (tx) => {
    const id = randomUUID();
    await tx.db
      .insertInto('applications')
      .values({
        id,
        tenant_id: tenantId,
        number: await tx.nextNumber('applications'),
        name,
        kind: 'connected',
        description: null,
        owner_ids: '[]',
        priority: 'None',
        archived: 0,
        builtin: 0,
        connector: null,
        created_at: tx.now,
        updated_at: tx.now,
        version: 1,
      })
      .execute();
    tx.audit({ action: 'application.create', targetType: 'application', targetId: id, after: { name } });
    tx.change('application', id, 'create');
    return id;
  });
  return value;
}

/** A second tenant with its own grantory application, Admin role and administrator. */
export async function createOtherTenant(store: Store, name = 'other'): Promise<{ tenantId: string; adminId: string }> {
  const tenantId = await store.createTenant(name, new Date().toISOString());
  await store.write(tenantId, sys(tenantId), (tx) => seedTenant(tx));
  const admin = await store
    .read(tenantId)
    .db.selectFrom('identities')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('subject', '=', 'grantory:admin')
    .executeTakeFirstOrThrow();
  return { tenantId, adminId: admin.id };
}

export async function apiKeyFor(services: Services, tenantId: string, identityId: string, options: { scopes?: string[] | null; expiresAt?: string | null } = {}): Promise<{ id: string; secret: string }> {
  const { key } = await createApiKey(services.deps, systemActor(tenantId), { name: `key-${randomUUID().slice(0, 8)}`, identityId, ...options });
  return { id: key.id, secret: key.secret };
}

export async function clientFor(
  services: Services,
  tenantId: string,
  input: { identityId?: string | null; applicationId?: string | null; scopes?: string[] },
): Promise<{ id: string; clientId: string; clientSecret: string }> {
  const { client } = await createClient(services.deps, systemActor(tenantId), { name: `client-${randomUUID().slice(0, 8)}`, ...input });
  return { id: client.id, clientId: client.clientId, clientSecret: client.clientSecret };
}

export async function appKeyFor(services: Services, tenantId: string, applicationId: string, options: { scopes?: string[] | null; expiresAt?: string | null } = {}): Promise<{ id: string; secret: string }> {
  const { key } = await createApplicationKey(services.deps, systemActor(tenantId), applicationId, { name: `appkey-${randomUUID().slice(0, 8)}`, ...options });
  return { id: key.id, secret: key.secret };
}

/** Waits (bounded) until the audit trail of `tenantId` has an event matching `match`. */
export async function waitForAudit(
  store: Store,
  services: Services,
  tenantId: string,
  action: string,
): Promise<{ actor_name: string | null; after: string | null; target_type: string; source_ip: string | null }[]> {
  await services.authFailures.flush();
  return store
    .read(tenantId)
    .db.selectFrom('audit_events')
    .select(['actor_name', 'after', 'target_type', 'source_ip'])
    .where('tenant_id', '=', tenantId)
    .where('action', '=', action)
    .orderBy('seq')
    .execute();
}

export const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
