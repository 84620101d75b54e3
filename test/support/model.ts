/**
 * Seeds a small access model straight through the store's write protocol (the directory
 * and access routes are other issues): units, identities, an application with permissions,
 * roles and assignments. Returns the ids by name.
 */
import { randomUUID } from 'node:crypto';
import { systemActor, writeMeta } from '../../src/services/kernel/actor.ts';
import type { Store, WriteTx } from '../../src/store/store.ts';

export interface Model {
  units: Record<string, string>;
  identities: Record<string, string>;
  applicationId: string;
  permissions: Record<string, string>;
  roles: Record<string, string>;
  assignments: Record<string, string>;
}

type Assign = {
  name: string;
  assignee: ['identity' | 'orgUnit', string];
  resource: ['permission' | 'role', string];
  context?: ['all' | 'orgUnit' | 'identity' | 'object', string | null];
  state?: string;
  validTo?: string;
  delegatedFrom?: string;
};

export interface ModelSpec {
  units: [name: string, parent: string | null][];
  identities: { name: string; unit?: string; status?: string; email?: string }[];
  application: string;
  permissions: string[];
  roles: { name: string; permissions: string[]; includes?: string[] }[];
  assignments: Assign[];
}

export async function seedModel(store: Store, tenantId: string, spec: ModelSpec): Promise<Model> {
  const model: Model = { units: {}, identities: {}, applicationId: '', permissions: {}, roles: {}, assignments: {} };
  const { value } = await store.write(tenantId, writeMeta(systemActor(tenantId, 'test seed')), async (tx: WriteTx) => {
    const stamps = { created_at: tx.now, updated_at: tx.now, version: 1 };
    for (const [name, parent] of spec.units) {
      const id = randomUUID();
      const parentId = parent ? model.units[parent]! : null;
      const path = parent ? `${(await tx.db.selectFrom('org_units').select('path').where('id', '=', parentId!).executeTakeFirstOrThrow()).path}/${name}` : `/${name}`;
      await tx.db.insertInto('org_units').values({ id, tenant_id: tenantId, number: await tx.nextNumber('org_units'), name, parent_id: parentId, external_id: null, path, ...stamps }).execute();
      tx.change('org_unit', id, 'create');
      model.units[name] = id;
    }
    for (const i of spec.identities) {
      const id = randomUUID();
      await tx.db
        .insertInto('identities')
        .values({
          id,
          tenant_id: tenantId,
          number: await tx.nextNumber('identities'),
          subject: `test:${i.name}`,
          username: i.name,
          email: i.email ?? `${i.name}@example.com`,
          first_name: i.name,
          last_name: 'Test',
          display_name: `${i.name} Test`,
          employee_number: null,
          type: 'employee',
          status: i.status ?? 'active',
          manager_id: null,
          org_unit_id: i.unit ? model.units[i.unit]! : null,
          attributes: '{}',
          ...stamps,
        })
        .execute();
      model.identities[i.name] = id;
      tx.change('identity', id, 'create');
    }
    model.applicationId = randomUUID();
    await tx.db
      .insertInto('applications')
      .values({ id: model.applicationId, tenant_id: tenantId, number: await tx.nextNumber('applications'), name: spec.application, kind: 'managed', description: null, owner_ids: '[]', priority: 'High', archived: 0, builtin: 0, connector: null, ...stamps })
      .execute();
    tx.change('application', model.applicationId, 'create');
    for (const name of spec.permissions) {
      const id = randomUUID();
      await tx.db
        .insertInto('permissions')
        .values({ id, tenant_id: tenantId, number: await tx.nextNumber('permissions'), application_id: model.applicationId, name, category: 'test', description: null, risk: 'low', requestable: 1, delegable: 1, ...stamps })
        .execute();
      model.permissions[name] = id;
      tx.change('permission', id, 'create');
    }
    for (const r of spec.roles) {
      const id = randomUUID();
      await tx.db.insertInto('roles').values({ id, tenant_id: tenantId, number: await tx.nextNumber('roles'), name: r.name, description: null, system: 0, ...stamps }).execute();
      model.roles[r.name] = id;
      tx.change('role', id, 'create');
      for (const p of r.permissions) await tx.db.insertInto('role_permissions').values({ tenant_id: tenantId, role_id: id, permission_id: model.permissions[p]! }).execute();
    }
    for (const r of spec.roles) {
      for (const inc of r.includes ?? []) await tx.db.insertInto('role_includes').values({ tenant_id: tenantId, role_id: model.roles[r.name]!, included_role_id: model.roles[inc]! }).execute();
    }
    for (const a of spec.assignments) {
      const id = randomUUID();
      const [assigneeType, assigneeName] = a.assignee;
      const [resourceType, resourceName] = a.resource;
      const [contextType, contextName] = a.context ?? ['all', null];
      // A delegation is made by the holder of its source assignment.
      const source = a.delegatedFrom ? spec.assignments.find((s) => s.name === a.delegatedFrom) : undefined;
      const delegatorId = source?.assignee[0] === 'identity' ? model.identities[source.assignee[1]]! : null;
      await tx.db
        .insertInto('assignments')
        .values({
          id,
          tenant_id: tenantId,
          assignee_type: assigneeType,
          assignee_id: assigneeType === 'identity' ? model.identities[assigneeName]! : model.units[assigneeName]!,
          resource_type: resourceType,
          resource_id: resourceType === 'permission' ? model.permissions[resourceName]! : model.roles[resourceName]!,
          context_type: contextType,
          context_id: contextName === null ? null : contextType === 'orgUnit' ? model.units[contextName]! : contextType === 'identity' ? model.identities[contextName]! : contextName,
          source: a.delegatedFrom ? 'delegation' : 'direct',
          state: a.state ?? 'active',
          valid_from: null,
          valid_to: a.validTo ?? null,
          delegated_from_id: a.delegatedFrom ? model.assignments[a.delegatedFrom]! : null,
          delegator_id: delegatorId,
          rule_id: null,
          reason: null,
          created_by: null,
          ...stamps,
        })
        .execute();
      model.assignments[a.name] = id;
      tx.change('assignment', id, 'create');
    }
    tx.audit({ action: 'test.seed', targetType: 'tenant', targetId: tenantId, after: { units: spec.units.length, identities: spec.identities.length } });
    return model;
  });
  return value;
}

/** The model most export and profile tests use. */
export const LEDGER_MODEL: ModelSpec = {
  units: [
    ['Acme', null],
    ['Finance', 'Acme'],
  ],
  identities: [{ name: 'alice', unit: 'Finance' }, { name: 'bob' }, { name: 'carol', unit: 'Finance', status: 'on_leave' }],
  application: 'ledger',
  permissions: ['read', 'write', 'approve', '=SUM(A1)'],
  roles: [
    { name: 'Clerk', permissions: ['write'] },
    { name: 'Accountant', permissions: ['read'], includes: ['Clerk'] },
  ],
  assignments: [
    { name: 'acme-accountant', assignee: ['orgUnit', 'Acme'], resource: ['role', 'Accountant'] },
    { name: 'bob-approve', assignee: ['identity', 'bob'], resource: ['permission', 'approve'], context: ['orgUnit', 'Finance'] },
    { name: 'alice-approve-delegated', assignee: ['identity', 'alice'], resource: ['permission', 'approve'], context: ['orgUnit', 'Finance'], delegatedFrom: 'bob-approve' },
    { name: 'bob-formula', assignee: ['identity', 'bob'], resource: ['permission', '=SUM(A1)'] },
    { name: 'bob-write-paused', assignee: ['identity', 'bob'], resource: ['permission', 'write'], state: 'paused' },
    { name: 'bob-read-expired', assignee: ['identity', 'bob'], resource: ['permission', 'read'], validTo: '2020-01-01T00:00:00.000Z' },
    { name: 'carol-read', assignee: ['identity', 'carol'], resource: ['permission', 'read'] },
  ],
};
