import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('Idempotency-Key on POST', () => {
  it('replays the first response for the same key and body', async () => {
    const headers = { ...t.auth, 'idempotency-key': 'create-key-1' };
    const first = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers, payload: { name: 'ci' } });
    expect(first.statusCode).toBe(201);
    const again = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers, payload: { name: 'ci' } });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: t.auth });
    expect(list.json().items.filter((k: { name: string }) => k.name === 'ci')).toHaveLength(1);
  });

  it('refuses the same key with a different body', async () => {
    const headers = { ...t.auth, 'idempotency-key': 'create-key-2' };
    await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers, payload: { name: 'a' } });
    const other = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers, payload: { name: 'b' } });
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('idempotency_mismatch');
  });
});
