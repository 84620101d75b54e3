/**
 * Idempotent POSTs. A client that sends `Idempotency-Key` gets, for a retry with the same
 * key and the same request, the first response again; the same key with a different request
 * is refused (`idempotency_mismatch`). Keys are scoped to the tenant and the credential and
 * kept for 24 hours.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical-json.ts';
import { AppError } from '../../domain/errors.ts';
import type { Store } from '../../store/store.ts';
import type { Caller } from './actor.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface StoredResponse {
  status: number;
  body: string;
  contentType: string;
}

export function requestFingerprint(method: string, url: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${url}\n${canonicalJson(body ?? null)}`).digest('hex');
}

export function validIdempotencyKey(key: string): boolean {
  return /^[\x21-\x7e]{1,255}$/.test(key);
}

/** The stored response for this key, or null when the key is new (or expired). */
export async function findIdempotentResponse(
  store: Store,
  caller: Caller,
  key: string,
  fingerprint: string,
  now: Date,
): Promise<StoredResponse | null> {
  const { db } = store.read(caller.tenantId);
  const row = await db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('caller_id', '=', caller.id)
    .where('key', '=', key)
    .executeTakeFirst();
  if (!row || Date.parse(row.created_at) < now.getTime() - IDEMPOTENCY_TTL_MS) return null;
  if (row.request_hash !== fingerprint) {
    throw new AppError('idempotency_mismatch', 'this Idempotency-Key was already used with a different request');
  }
  return JSON.parse(row.response) as StoredResponse;
}

export async function saveIdempotentResponse(
  store: Store,
  caller: Caller,
  key: string,
  fingerprint: string,
  response: StoredResponse,
  now: Date,
): Promise<void> {
  const { db, tenantId } = store.read(caller.tenantId);
  const expired = new Date(now.getTime() - IDEMPOTENCY_TTL_MS).toISOString();
  await db
    .deleteFrom('idempotency_keys')
    .where('caller_id', '=', caller.id)
    .where('key', '=', key)
    .where('created_at', '<', expired)
    .execute();
  await db
    .insertInto('idempotency_keys')
    .values({
      tenant_id: tenantId,
      caller_id: caller.id,
      key,
      request_hash: fingerprint,
      status: response.status,
      response: JSON.stringify(response),
      created_at: now.toISOString(),
    })
    // A concurrent request with the same key stored its response first; keep that one.
    .onConflict((oc) => oc.columns(['tenant_id', 'caller_id', 'key']).doNothing())
    .execute();
}
