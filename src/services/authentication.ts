/**
 * Turns a presented credential into a {@link Caller}. API keys are looked up by their hash
 * (the tenant comes from the credential, never from the request), compared in constant
 * time, checked for expiry, and give the rights of the identity they act as, narrowed by
 * the key's scopes.
 */
import { AppError } from '../domain/errors.ts';
import { RIGHTS, type Right } from '../domain/rights.ts';
import { digestsEqual, hasValidChecksum, hashSecret } from '../domain/secret-format.ts';
import type { Store } from '../store/store.ts';
import type { Caller } from './actor.ts';
import { resolveGrantoryRights } from './rights.ts';

export const API_KEY_PREFIX = 'gty';

/** Scopes narrow rights: `grantory:<right>` keeps that right; `grantory:*` keeps all. */
export function narrowRights(rights: ReadonlySet<Right>, scopes: readonly string[] | null): Set<Right> {
  if (scopes === null || scopes.includes('grantory:*')) return new Set(rights);
  return new Set(RIGHTS.filter((r) => rights.has(r) && scopes.includes(`grantory:${r}`)));
}

export async function authenticateApiKey(store: Store, presented: string, now: Date): Promise<Caller> {
  // Keys Grantory generated carry a checksum: a wrong one is refused without a lookup.
  // The bootstrap key may be any 32+ character string chosen by the operator.
  if (presented.startsWith(`${API_KEY_PREFIX}_`) && !hasValidChecksum(presented, API_KEY_PREFIX)) {
    throw new AppError('unauthenticated', 'the API key is not valid');
  }
  if (presented.length < 32 || presented.length > 512) throw new AppError('unauthenticated', 'the API key is not valid');
  const digest = hashSecret(presented);
  const key = await store.findApiKeyByHash(digest);
  if (!key || !digestsEqual(key.key_hash, digest)) throw new AppError('unauthenticated', 'the API key is not valid');
  const nowIso = now.toISOString();
  if (key.expires_at && key.expires_at <= nowIso) throw new AppError('unauthenticated', 'the API key has expired');
  const scope = store.read(key.tenant_id);
  const scopes = key.scopes === null ? null : (JSON.parse(key.scopes) as string[]);
  const rights = narrowRights(await resolveGrantoryRights(scope, key.identity_id, nowIso), scopes);
  await store.touchApiKey(key.tenant_id, key.id, nowIso);
  return {
    tenantId: key.tenant_id,
    kind: 'api_key',
    id: key.id,
    name: `API key ${key.name}`,
    identityId: key.identity_id,
    scopes,
    rights,
    applicationId: null,
  };
}
