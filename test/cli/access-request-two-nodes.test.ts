/**
 * Two server processes on one database (the run's backend; on PostgreSQL a throwaway
 * database): two approvers deciding the same one-approver step at the same moment, one
 * through each node. Exactly one decision counts (200), the other is refused (409), and the
 * request's assignment is written once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllServers, PROCESS_TIMEOUT, startServer, tempDir, type ServerProcess } from '../support/cli.ts';
import { ADMIN_KEY, createThrowawayDatabase, TEST_BACKEND, TEST_SECRET_KEY, type ThrowawayDatabase } from '../support/harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are read loosely

const dir = tempDir('two-nodes');
let database: ThrowawayDatabase | null = null;
let a: ServerProcess;
let b: ServerProcess;

async function call(node: ServerProcess, method: string, path: string, body: unknown, key = ADMIN_KEY): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${node.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Json };
}
async function made(node: ServerProcess, path: string, body: unknown, key = ADMIN_KEY): Promise<Json> {
  const res = await call(node, 'POST', path, body, key);
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json;
}

beforeAll(async () => {
  database = TEST_BACKEND === 'postgres' ? await createThrowawayDatabase() : null;
  const env = {
    GRANTORY_DATA_DIR: dir.path,
    GRANTORY_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
    GRANTORY_SECRET_KEY: TEST_SECRET_KEY,
    ...(database ? { DATABASE_URL: database.url } : {}),
  };
  a = await startServer(env);
  b = await startServer(env);
}, 120_000);
afterAll(async () => {
  await killAllServers();
  await database?.drop();
  dir.remove();
});

describe('two nodes, two approvers, one step', PROCESS_TIMEOUT, () => {
  it('counts exactly one decision each time; the other gets 409', async () => {
    const person = async (username: string) => (await made(a, '/identities', { username })).id as string;
    const keyOf = async (identityId: string) => (await made(a, '/api-keys', { name: `key ${identityId}`, identityId })).secret as string;
    const [eve, ann, ben] = [await person('eve'), await person('ann'), await person('ben')];
    const [eveKey, annKey, benKey] = [await keyOf(eve), await keyOf(ann), await keyOf(ben)];
    const app = (await made(a, '/applications', { name: 'Payroll', kind: 'managed' })).id as string;
    const role = (await made(a, '/roles', { name: 'Reviewers' })).id as string;
    for (const id of [ann, ben]) await made(a, '/assignments', { assignee: { type: 'identity', id }, resource: { type: 'role', id: role } });
    await made(a, '/approval-policies', { name: 'Reviewers', appliesTo: { applicationIds: [app] }, steps: [{ name: 'Reviewer', approver: 'role_holders', id: role }] });

    for (let i = 0; i < 5; i += 1) {
      const permission = (await made(a, `/applications/${app}/permissions`, { name: `p${i}` })).id as string;
      const request = await made(b, '/access-requests', { action: 'add', targetIdentityId: eve, resource: { type: 'permission', id: permission } }, eveKey);
      const [viaA, viaB] = await Promise.all([call(a, 'POST', `/access-requests/${request.id}/approve`, {}, annKey), call(b, 'POST', `/access-requests/${request.id}/approve`, {}, benKey)]);
      expect([viaA.status, viaB.status].sort(), JSON.stringify([viaA.json, viaB.json])).toEqual([200, 409]);
      const assignments = await call(a, 'GET', `/assignments?assigneeId=${eve}&resourceId=${permission}`, undefined);
      expect(assignments.json.items).toHaveLength(1);
      expect((await call(b, 'GET', `/access-requests/${request.id}`, undefined)).json.status).toBe('completed');
    }
  });
});
