/**
 * Helpers for the escalation tests: callers holding chosen rights, the HTTP calls they make,
 * and what a refused request must leave unchanged (the object and its audit trail).
 */
import { expect } from 'vitest';
import { RIGHTS, type Right } from '../../src/domain/rights.ts';
import { resolveGrantoryRights } from '../../src/services/access/rights.ts';
import type { TestApp } from './harness.ts';
import { apiKeyFor, createIdentityWithRights } from './security-fixtures.ts';

export interface Caller {
  identityId: string;
  auth: string;
}

/** A new identity holding `rights` (direct assignments) and an API key acting as it. */
export async function callerWith(t: TestApp, subject: string, rights: readonly Right[], options: { orgUnitId?: string | null } = {}): Promise<Caller> {
  const identityId = await createIdentityWithRights(t.store, t.tenantId, subject, rights, options);
  const { secret } = await apiKeyFor(t.services, t.tenantId, identityId);
  return { identityId, auth: `Bearer ${secret}` };
}

/** An HTTP call as `auth`; a POST without a body sends `{}` (state changes take an optional body). */
export function call(t: TestApp, auth: string, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, given?: unknown) {
  const body = given === undefined && method === 'POST' ? {} : given;
  return t.app.inject({
    method,
    url,
    headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}

export async function permissionIdOf(t: TestApp, right: Right): Promise<string> {
  const row = await t.store
    .read(t.tenantId)
    .db.selectFrom('permissions')
    .innerJoin('applications', 'applications.id', 'permissions.application_id')
    .select('permissions.id')
    .where('permissions.tenant_id', '=', t.tenantId)
    .where('applications.builtin', '=', 1)
    .where('permissions.name', '=', right)
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function bootstrapAdmin(t: TestApp): Promise<{ identityId: string; number: number; assignmentId: string; roleId: string }> {
  const { db } = t.store.read(t.tenantId);
  const admin = await db.selectFrom('identities').select(['id', 'number']).where('tenant_id', '=', t.tenantId).where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow();
  const assignment = await db
    .selectFrom('assignments')
    .select(['id', 'resource_id'])
    .where('tenant_id', '=', t.tenantId)
    .where('assignee_id', '=', admin.id)
    .where('resource_type', '=', 'role')
    .executeTakeFirstOrThrow();
  return { identityId: admin.id, number: Number(admin.number), assignmentId: assignment.id, roleId: assignment.resource_id };
}

/** The Grantory rights an identity holds now (SQL, the credential check's answer). */
export async function rightsOf(t: TestApp, identityId: string): Promise<Set<Right>> {
  return resolveGrantoryRights(t.store.read(t.tenantId), identityId, new Date().toISOString());
}

/** The audit events recorded about an object, other than denials. */
export async function writeEventsAbout(t: TestApp, targetId: string): Promise<string[]> {
  const rows = await t.store
    .read(t.tenantId)
    .db.selectFrom('audit_events')
    .select('action')
    .where('tenant_id', '=', t.tenantId)
    .where('target_id', '=', targetId)
    .where('action', '!=', 'access.denied')
    .orderBy('seq')
    .execute();
  return rows.map((r) => r.action);
}

type Watched = 'identities' | 'assignments' | 'org_units' | 'roles' | 'assignment_rules';

/** An object's row (every watched table has `tenant_id` and `id`; typed as one of them for Kysely). */
export async function row(t: TestApp, table: Watched, id: string): Promise<Record<string, unknown> | undefined> {
  return t.store
    .read(t.tenantId)
    .db.selectFrom(table as 'roles')
    .selectAll()
    .where('tenant_id', '=', t.tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/**
 * Runs a request that must be refused with `status`, and checks it changed nothing: the
 * watched objects' rows and their audit events are the same after it.
 */
export async function expectRefusedUnchanged(
  t: TestApp,
  watched: { table: Watched; id: string }[],
  request: () => Promise<{ statusCode: number; json(): unknown }>,
  status: 403 | 409,
): Promise<Record<string, unknown>> {
  const before = await Promise.all(watched.map(async (w) => ({ row: await row(t, w.table, w.id), events: await writeEventsAbout(t, w.id) })));
  const res = await request();
  expect(res.statusCode, JSON.stringify(res.json())).toBe(status);
  const after = await Promise.all(watched.map(async (w) => ({ row: await row(t, w.table, w.id), events: await writeEventsAbout(t, w.id) })));
  expect(after).toEqual(before);
  return res.json() as Record<string, unknown>;
}

export const ALL_RIGHTS: readonly Right[] = RIGHTS;
