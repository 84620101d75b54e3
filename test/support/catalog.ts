/**
 * Helpers for the catalog tests: callers with narrowed rights (real API keys, narrowed by
 * scopes through the API), and assignments written through the store (the assignments
 * API comes with the access engine).
 */
import { randomUUID } from 'node:crypto';
import type { Right } from '../../src/domain/rights.ts';
import { systemActor, writeMeta } from '../../src/services/kernel/actor.ts';
import type { Database } from '../../src/store/schema.ts';
import type { WriteTx } from '../../src/store/store.ts';
import type { TestApp } from './harness.ts';

/** Sends a request as `auth` (the administrator by default). */
export async function call(
  t: TestApp,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  return t.app.inject({
    method,
    url,
    headers: { ...t.auth, ...headers },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

type Headers = Record<string, string>;

/**
 * `get`, `post`, `patch` and `del` on `/api/v1`, as the administrator unless `headers` say
 * otherwise; `app` is read at each call (test apps are made in `beforeAll`).
 */
export function v1Calls(app: () => TestApp) {
  const at = (url: string) => `/api/v1${url}`;
  return {
    get: (url: string, headers: Headers = {}) => call(app(), 'GET', at(url), undefined, headers),
    post: (url: string, payload: unknown, headers: Headers = {}) => call(app(), 'POST', at(url), payload, headers),
    patch: (url: string, payload: unknown, headers: Headers = {}) => call(app(), 'PATCH', at(url), payload, headers),
    del: (url: string, headers: Headers = {}) => call(app(), 'DELETE', at(url), undefined, headers),
  };
}

/** An API key of the administrator narrowed to `rights` (none: a key with no right at all). */
export async function callerWith(t: TestApp, rights: Right[]): Promise<{ authorization: string }> {
  const scopes = rights.length ? rights.map((r) => `grantory:${r}`) : [];
  const res = await call(t, 'POST', '/api/v1/api-keys', { name: `key ${randomUUID()}`, scopes });
  if (res.statusCode !== 201) throw new Error(`creating a key failed: ${res.body}`);
  return { authorization: `Bearer ${res.json().secret as string}` };
}

/** Writes an assignment of a permission or role to the bootstrap administrator. */
export async function assignToAdmin(
  t: TestApp,
  resource: { type: 'permission' | 'role'; id: string },
  state: 'active' | 'paused' | 'revoked' = 'active',
): Promise<string> {
  const { value } = await t.store.write(t.tenantId, writeMeta(systemActor(t.tenantId, 'test')), async (tx) => {
    const admin = await tx.db.selectFrom('identities').select('id').where('tenant_id', '=', tx.tenantId).where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow();
    const row = directAssignmentRow(tx, admin.id, resource, state);
    await tx.db.insertInto('assignments').values({ ...row, reason: 'test' }).execute();
    const { id } = row;
    tx.audit({ action: 'assignment.create', targetType: 'assignment', targetId: id });
    tx.change('assignment', id, 'create');
    return id;
  });
  return value;
}

/** A direct assignment of a permission or role to an identity in context All, as the store holds it. */
export function directAssignmentRow(
  tx: WriteTx,
  identityId: string,
  resource: { type: 'permission' | 'role'; id: string },
  state: 'active' | 'paused' | 'revoked' = 'active',
): Database['assignments'] {
  return {
    id: randomUUID(),
    tenant_id: tx.tenantId,
    assignee_type: 'identity',
    assignee_id: identityId,
    resource_type: resource.type,
    resource_id: resource.id,
    context_type: 'all',
    context_id: null,
    source: 'direct',
    state,
    valid_from: null,
    valid_to: null,
    delegated_from_id: null,
    delegator_id: null,
    rule_id: null,
    reason: null,
    created_by: null,
    created_at: tx.now,
    updated_at: tx.now,
    version: 1,
  };
}

/** Every Grantory right as a permission of the built-in application: name → id. */
export async function rightIds(t: TestApp): Promise<Map<string, string>> {
  const res = await call(t, 'GET', '/api/v1/permissions?limit=500');
  const items = res.json().items as { id: string; name: string; builtin: boolean }[];
  return new Map(items.filter((p) => p.builtin).map((p) => [p.name, p.id]));
}
