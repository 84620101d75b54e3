/**
 * Test fixtures for the access tests: directory and catalog rows written straight through
 * `store.write` (with an audit event and a change-feed entry, as services do), so access
 * tests do not depend on the directory routes. Upserts: calling again with the same id
 * changes the row.
 */
import { randomUUID } from 'node:crypto';
import type { Store, WriteMeta, WriteTx } from '../../src/store/store.ts';

const META: WriteMeta = { actorType: 'system', actorId: null, actorName: 'test fixtures' };

export interface UnitInput {
  id?: string;
  number?: number;
  name?: string;
  parentId?: string | null;
  externalId?: string | null;
}
export interface IdentityInput {
  id?: string;
  number?: number;
  subject?: string;
  username?: string | null;
  email?: string | null;
  status?: string;
  unitId?: string | null;
  attributes?: Record<string, string>;
  firstName?: string | null;
}
export interface AssignmentInput {
  id?: string;
  assigneeType?: 'identity' | 'orgUnit';
  assigneeId: string;
  resourceType?: 'permission' | 'role';
  resourceId: string;
  contextType?: string;
  contextId?: string | null;
  source?: string;
  state?: string;
  validFrom?: string | null;
  validTo?: string | null;
  delegatedFromId?: string | null;
  delegatorId?: string | null;
  ruleId?: string | null;
}

export class AccessFixtures {
  constructor(
    readonly store: Store,
    readonly tenantId: string,
  ) {}

  /** Runs several fixture writes in one transaction (one revision). */
  async batch<T>(fn: (tx: WriteTx) => Promise<T>): Promise<{ value: T; revision: number }> {
    return this.store.write(this.tenantId, META, async (tx) => {
      tx.audit({ action: 'test.fixture', targetType: 'test', targetId: null });
      return fn(tx);
    });
  }

  async unit(input: UnitInput, tx?: WriteTx): Promise<string> {
    return this.run(tx, async (t) => {
      const id = input.id ?? randomUUID();
      const existing = await t.db.selectFrom('org_units').select(['id', 'name', 'parent_id', 'external_id']).where('id', '=', id).executeTakeFirst();
      if (existing) {
        await t.db
          .updateTable('org_units')
          .set({
            name: input.name ?? existing.name,
            parent_id: input.parentId === undefined ? existing.parent_id : input.parentId,
            external_id: input.externalId === undefined ? existing.external_id : input.externalId,
            updated_at: t.now,
          })
          .where('id', '=', id)
          .execute();
      } else {
        await t.db
          .insertInto('org_units')
          .values({
            id,
            tenant_id: t.tenantId,
            number: input.number ?? (await t.nextNumber('org_units')),
            name: input.name ?? `unit ${id.slice(0, 6)}`,
            parent_id: input.parentId ?? null,
            external_id: input.externalId ?? null,
            path: '/',
            created_at: t.now,
            updated_at: t.now,
            version: 1,
          })
          .execute();
      }
      t.change('org_unit', id, existing ? 'update' : 'create');
      return id;
    });
  }

  async identity(input: IdentityInput, tx?: WriteTx): Promise<string> {
    return this.run(tx, async (t) => {
      const id = input.id ?? randomUUID();
      const existing = await t.db.selectFrom('identities').selectAll().where('id', '=', id).executeTakeFirst();
      if (existing) {
        await t.db
          .updateTable('identities')
          .set({
            status: input.status ?? existing.status,
            org_unit_id: input.unitId === undefined ? existing.org_unit_id : input.unitId,
            attributes: input.attributes ? JSON.stringify(input.attributes) : existing.attributes,
            email: input.email === undefined ? existing.email : input.email,
            updated_at: t.now,
          })
          .where('id', '=', id)
          .execute();
      } else {
        const number = input.number ?? (await t.nextNumber('identities'));
        await t.db
          .insertInto('identities')
          .values({
            id,
            tenant_id: t.tenantId,
            number,
            subject: input.subject ?? `c1s:${id}`,
            username: input.username === undefined ? `user-${id}` : input.username,
            email: input.email ?? null,
            first_name: input.firstName ?? null,
            last_name: null,
            display_name: null,
            employee_number: null,
            type: 'employee',
            status: input.status ?? 'active',
            manager_id: null,
            org_unit_id: input.unitId ?? null,
            attributes: JSON.stringify(input.attributes ?? {}),
            created_at: t.now,
            updated_at: t.now,
            version: 1,
          })
          .execute();
      }
      t.change('identity', id, existing ? 'update' : 'create');
      return id;
    });
  }

  async application(input: { id?: string; name: string; kind?: 'managed' | 'connected' }, tx?: WriteTx): Promise<string> {
    return this.run(tx, async (t) => {
      const id = input.id ?? randomUUID();
      await t.db
        .insertInto('applications')
        .values({
          id,
          tenant_id: t.tenantId,
          number: await t.nextNumber('applications'),
          name: input.name,
          kind: input.kind ?? 'managed',
          description: null,
          owner_ids: '[]',
          priority: 'None',
          archived: 0,
          builtin: 0,
          connector: null,
          created_at: t.now,
          updated_at: t.now,
          version: 1,
        })
        .execute();
      t.change('application', id, 'create');
      return id;
    });
  }

  async permission(input: { id?: string; applicationId: string; name: string; delegable?: boolean }, tx?: WriteTx): Promise<string> {
    return this.run(tx, async (t) => {
      const id = input.id ?? randomUUID();
      await t.db
        .insertInto('permissions')
        .values({
          id,
          tenant_id: t.tenantId,
          number: await t.nextNumber('permissions'),
          application_id: input.applicationId,
          name: input.name,
          category: null,
          description: null,
          risk: 'low',
          requestable: 1,
          delegable: input.delegable ? 1 : 0,
          created_at: t.now,
          updated_at: t.now,
          version: 1,
        })
        .execute();
      t.change('permission', id, 'create');
      return id;
    });
  }

  /** Creates or replaces a role with exactly these permissions and included roles. */
  async role(input: { id?: string; name?: string; permissionIds?: string[]; includedRoleIds?: string[] }, tx?: WriteTx): Promise<string> {
    return this.run(tx, async (t) => {
      const id = input.id ?? randomUUID();
      const existing = await t.db.selectFrom('roles').select('id').where('id', '=', id).executeTakeFirst();
      if (!existing) {
        await t.db
          .insertInto('roles')
          .values({
            id,
            tenant_id: t.tenantId,
            number: await t.nextNumber('roles'),
            name: input.name ?? `role ${id}`,
            description: null,
            system: 0,
            created_at: t.now,
            updated_at: t.now,
            version: 1,
          })
          .execute();
      }
      await t.db.deleteFrom('role_permissions').where('tenant_id', '=', t.tenantId).where('role_id', '=', id).execute();
      await t.db.deleteFrom('role_includes').where('tenant_id', '=', t.tenantId).where('role_id', '=', id).execute();
      const perms = [...new Set(input.permissionIds ?? [])];
      const includes = [...new Set(input.includedRoleIds ?? [])];
      if (perms.length) await t.db.insertInto('role_permissions').values(perms.map((permission_id) => ({ tenant_id: t.tenantId, role_id: id, permission_id }))).execute();
      if (includes.length) await t.db.insertInto('role_includes').values(includes.map((included_role_id) => ({ tenant_id: t.tenantId, role_id: id, included_role_id }))).execute();
      t.change('role', id, existing ? 'update' : 'create');
      return id;
    });
  }

  async assignment(input: AssignmentInput, tx?: WriteTx): Promise<string> {
    return this.run(tx, async (t) => {
      const id = input.id ?? randomUUID();
      const row = {
        assignee_type: input.assigneeType ?? 'identity',
        assignee_id: input.assigneeId,
        resource_type: input.resourceType ?? 'permission',
        resource_id: input.resourceId,
        context_type: input.contextType ?? 'all',
        context_id: input.contextId ?? null,
        source: input.source ?? (input.delegatedFromId ? 'delegation' : 'direct'),
        state: input.state ?? 'active',
        valid_from: input.validFrom ?? null,
        valid_to: input.validTo ?? null,
        delegated_from_id: input.delegatedFromId ?? null,
        delegator_id: input.delegatorId ?? null,
        rule_id: input.ruleId ?? null,
        reason: null,
        updated_at: t.now,
      };
      const existing = await t.db.selectFrom('assignments').select('id').where('id', '=', id).executeTakeFirst();
      if (existing) await t.db.updateTable('assignments').set(row).where('id', '=', id).execute();
      else await t.db.insertInto('assignments').values({ ...row, id, tenant_id: t.tenantId, created_by: null, created_at: t.now, version: 1 }).execute();
      t.change('assignment', id, existing ? 'update' : 'create');
      return id;
    });
  }

  async setAssignmentState(id: string, state: string, tx?: WriteTx): Promise<void> {
    await this.run(tx, async (t) => {
      await t.db.updateTable('assignments').set({ state, updated_at: t.now }).where('id', '=', id).execute();
      t.change('assignment', id, 'update');
    });
  }

  private async run<T>(tx: WriteTx | undefined, fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    if (tx) return fn(tx);
    return (await this.batch(fn)).value;
  }
}
