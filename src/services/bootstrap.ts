/**
 * First-start setup (API.md, Bootstrap): tenant `default`, the built-in application
 * `grantory` whose permissions are Grantory's own rights, the system role `Admin` holding
 * them all, an administrator identity holding `Admin`, and the bootstrap API key.
 * Idempotent: a restart changes nothing that exists.
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json.ts';
import { identifierSkeleton } from '../domain/identifiers.ts';
import { ADMIN_ROLE, GRANTORY_APPLICATION, RIGHTS, RIGHT_DESCRIPTIONS } from '../domain/rights.ts';
import { generateSecret, hashSecret } from '../domain/secret-format.ts';
import type { ServerSecrets } from '../domain/server-secrets.ts';
import { isUniqueViolation, type Store, type WriteTx } from '../store/store.ts';
import { systemActor, writeMeta } from './kernel/index.ts';
import { API_KEY_PREFIX } from './credentials/index.ts';

export const DEFAULT_TENANT = 'default';
export const ADMIN_SUBJECT = 'grantory:admin';
export const BOOTSTRAP_KEY_NAME = 'bootstrap';

export interface BootstrapResult {
  tenantId: string;
  createdTenant: boolean;
  /** Set only when a key was generated now: it must be shown once and never again. */
  generatedKey: string | null;
}

export async function bootstrap(store: Store, options: { adminKey?: string | undefined; secrets: ServerSecrets }): Promise<BootstrapResult> {
  const now = new Date().toISOString();
  let tenant = await store.findTenantByName(DEFAULT_TENANT);
  let createdTenant = false;
  if (!tenant) {
    // Two nodes starting at once on one database may both get here: the loser of the
    // unique name uses the winner's tenant.
    try {
      await store.createTenant(DEFAULT_TENANT, now);
      createdTenant = true;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
    tenant = await store.findTenantByName(DEFAULT_TENANT);
    if (!tenant) throw new Error(`tenant ${DEFAULT_TENANT} was neither created nor found`);
  }
  const tenantId = tenant.id;
  const scope = store.read(tenantId);
  const findAdmin = () =>
    scope.db.selectFrom('identities').select('id').where('subject', '=', ADMIN_SUBJECT).executeTakeFirst();
  // Creating the tenant and seeding it are two transactions (a write needs its tenant row),
  // so a start that stopped between them left a tenant without its seed: seed it now.
  let admin = await findAdmin();
  if (!admin) {
    try {
      await store.write(tenantId, writeMeta(systemActor(tenantId, 'bootstrap')), (tx) => seedTenant(tx));
    } catch (e) {
      // Another node seeded it meanwhile (the built-in application's name is unique).
      if (!isUniqueViolation(e)) throw e;
    }
    admin = await findAdmin();
    if (!admin) throw new Error(`tenant ${DEFAULT_TENANT} has no administrator identity`);
  }
  const adminId = admin.id;

  let generatedKey: string | null = null;
  let key = options.adminKey;
  if (key) {
    // Already registered (also as a key stored before hashes were keyed).
    if ((await store.findApiKeyByHash(options.secrets.hashCredential(key))) || (await store.findApiKeyByHash(hashSecret(key)))) key = undefined;
  } else {
    const existing = await scope.db
      .selectFrom('api_keys')
      .select('id')
      .where('name', '=', BOOTSTRAP_KEY_NAME)
      .executeTakeFirst();
    if (!existing) key = generatedKey = generateSecret(API_KEY_PREFIX);
  }
  if (key) {
    const secret = key;
    await store.write(tenantId, writeMeta(systemActor(tenantId, 'bootstrap')), async (tx) => {
      const id = randomUUID();
      const row = {
        id,
        tenant_id: tenantId,
        name: BOOTSTRAP_KEY_NAME,
        identity_id: adminId,
        key_hash: options.secrets.hashCredential(secret),
        hash_scheme: 'hmac-sha256',
        prefix: secret.slice(0, 8),
        scopes: null,
        expires_at: null,
        last_used_at: null,
        created_at: tx.now,
        created_by: null,
        // Made by the system: acts as the administrator with no cap beyond its rights.
        authority_id: null,
      };
      await tx.db.insertInto('api_keys').values(row).execute();
      tx.audit({
        action: 'api_key.create',
        targetType: 'api_key',
        targetId: id,
        after: { id, name: BOOTSTRAP_KEY_NAME, identityId: adminId, prefix: row.prefix },
      });
      tx.change('api_key', id, 'create');
    }).catch((e: unknown) => {
      // The operator's key was registered by another node starting at the same time.
      if (generatedKey || !isUniqueViolation(e)) throw e;
    });
  }
  return { tenantId, createdTenant, generatedKey };
}

/** Seeds a new tenant: the `grantory` application and its rights, the Admin role, an administrator. */
export async function seedTenant(tx: WriteTx): Promise<void> {
  const { db, tenantId, now } = tx;
  const stamps = { created_at: now, updated_at: now, version: 1 };

  const appId = randomUUID();
  await db
    .insertInto('applications')
    .values({
      id: appId,
      tenant_id: tenantId,
      number: await tx.nextNumber('applications'),
      name: GRANTORY_APPLICATION,
      kind: 'managed',
      description: "Grantory's own administrative rights",
      owner_ids: '[]',
      priority: 'Critical',
      archived: 0,
      builtin: 1,
      connector: null,
      ...stamps,
    })
    .execute();
  tx.audit({ action: 'application.create', targetType: 'application', targetId: appId, after: { name: GRANTORY_APPLICATION, builtin: true } });
  tx.change('application', appId, 'create');

  const permissionIds: string[] = [];
  for (const right of RIGHTS) {
    const id = randomUUID();
    permissionIds.push(id);
    await db
      .insertInto('permissions')
      .values({
        id,
        tenant_id: tenantId,
        number: await tx.nextNumber('permissions'),
        application_id: appId,
        name: right,
        category: null,
        description: RIGHT_DESCRIPTIONS[right],
        risk: 'high',
        requestable: 0,
        delegable: 0,
        ...stamps,
      })
      .execute();
    tx.change('permission', id, 'create');
  }
  tx.audit({ action: 'permission.create', targetType: 'application', targetId: appId, after: { permissions: [...RIGHTS] } });

  const roleId = randomUUID();
  await db
    .insertInto('roles')
    .values({
      id: roleId,
      tenant_id: tenantId,
      number: await tx.nextNumber('roles'),
      name: ADMIN_ROLE,
      description: 'Every Grantory right',
      system: 1,
      ...stamps,
    })
    .execute();
  await db
    .insertInto('role_permissions')
    .values(permissionIds.map((permission_id) => ({ tenant_id: tenantId, role_id: roleId, permission_id })))
    .execute();
  tx.audit({ action: 'role.create', targetType: 'role', targetId: roleId, after: { name: ADMIN_ROLE, system: true, permissionIds } });
  tx.change('role', roleId, 'create');

  const adminId = randomUUID();
  await db
    .insertInto('identities')
    .values({
      id: adminId,
      tenant_id: tenantId,
      number: await tx.nextNumber('identities'),
      subject: ADMIN_SUBJECT,
      username: 'admin',
      username_skeleton: identifierSkeleton('admin'),
      email: null,
      first_name: null,
      last_name: null,
      display_name: 'Grantory administrator',
      employee_number: null,
      type: 'service',
      status: 'active',
      manager_id: null,
      org_unit_id: null,
      attributes: canonicalJson({}),
      ...stamps,
    })
    .execute();
  tx.audit({ action: 'identity.create', targetType: 'identity', targetId: adminId, after: { subject: ADMIN_SUBJECT, username: 'admin' } });
  tx.change('identity', adminId, 'create');

  const assignmentId = randomUUID();
  await db
    .insertInto('assignments')
    .values({
      id: assignmentId,
      tenant_id: tenantId,
      assignee_type: 'identity',
      assignee_id: adminId,
      resource_type: 'role',
      resource_id: roleId,
      context_type: 'all',
      context_id: null,
      source: 'direct',
      state: 'active',
      valid_from: null,
      valid_to: null,
      delegated_from_id: null,
      rule_id: null,
      reason: 'bootstrap administrator',
      created_by: null,
      ...stamps,
    })
    .execute();
  tx.audit({
    action: 'assignment.create',
    targetType: 'assignment',
    targetId: assignmentId,
    after: { assignee: { type: 'identity', id: adminId }, resource: { type: 'role', id: roleId } },
  });
  tx.change('assignment', assignmentId, 'create');
}
