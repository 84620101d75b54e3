/**
 * Turns a presented credential into a {@link Caller}. The tenant always comes from the
 * credential, never from the request.
 *
 * - `Bearer <API key>`: an identity's key (`gty_...`). Keys Grantory generated carry a
 *   checksum, so a mistyped or invented key is refused without a store lookup; the key is
 *   found by its keyed hash (HMAC with the server secret), checked for expiry, and gives its
 *   identity's rights narrowed by its scopes and capped by its authority's current rights
 *   (credential-authority.ts).
 * - `AppKey <application key>`: bound to one application (`gtya_...`); see application-keys.ts.
 * - `Bearer <JWT>`: an access token from `POST /oauth/token` (see oauth-tokens.ts) or from
 *   the configured external issuer (see external-tokens.ts).
 *
 * Every refusal is a {@link CredentialRejected} (401) and is recorded as an `auth.failure`
 * audit event, without the secret.
 */
import { AppError } from '../../domain/errors.ts';
import { narrowRights } from '../../domain/scopes.ts';
import { digestsEqual, hasValidChecksum, hashSecret } from '../../domain/secret-format.ts';
import type { Database } from '../../store/schema.ts';
import { credentialUsageIsStale, type WithTenantRevision } from '../../store/store.ts';
import { systemActor, type Caller } from '../kernel/index.ts';
import type { AuthFailure } from './auth-failures.ts';
import { capByAuthority } from './authority.ts';
import type { ServiceDeps } from '../deps.ts';
import { grantoryRights } from '../access/index.ts';

export { narrowRights };

export const API_KEY_PREFIX = 'gty';

/** A refused credential: 401, with what is known about it for the audit trail. */
export class CredentialRejected extends AppError {
  readonly failure: Omit<AuthFailure, 'meta'>;
  /** The `WWW-Authenticate` challenge (RFC 6750 §3). */
  readonly challenge: string;

  constructor(message: string, failure: Omit<AuthFailure, 'meta' | 'reason'>, scheme: 'Bearer' | 'AppKey' = 'Bearer') {
    super('unauthenticated', message);
    this.failure = { ...failure, reason: message };
    const description = message.replace(/["\\]/g, "'");
    this.challenge = failure.credentialType === 'none'
      ? `${scheme} realm="grantory"`
      : `${scheme} realm="grantory", error="invalid_token", error_description="${description}"`;
  }
}

/** A short, non-secret label for a presented secret: its prefix as stored with the key. */
export function secretLabel(presented: string): string {
  return presented.slice(0, 8);
}

export async function authenticateApiKey(deps: ServiceDeps, presented: string): Promise<Caller> {
  const label = secretLabel(presented);
  const reject = (message: string, tenantId: string | null = null, credentialId: string | null = null): never => {
    throw new CredentialRejected(message, { tenantId, credentialType: 'api_key', credentialId, label });
  };
  // Keys Grantory generated carry a checksum: a wrong one is refused without a lookup.
  // The bootstrap key may be any 32+ character string chosen by the operator.
  if (presented.startsWith(`${API_KEY_PREFIX}_`) && !hasValidChecksum(presented, API_KEY_PREFIX)) reject('the API key is not valid');
  if (presented.length < 32 || presented.length > 512) reject('the API key is not valid');

  // The cache is keyed by a plain hash of the key: found there, the keyed hash is not needed.
  const cache = deps.credentialCache;
  const plainHash = hashSecret(presented);
  const cacheKey = `api_key\u0000${plainHash}`;
  const cached = await cache?.fresh<Database['api_keys']>(cacheKey, (row) => row.tenant_id);
  let key: WithTenantRevision<Database['api_keys']> | undefined = cached && { ...cached.value, tenant_revision: cached.revision };
  if (!key) {
    const digest = deps.secrets.hashCredential(presented);
    key = await deps.store.findApiKeyByHash(digest);
    if (key && !digestsEqual(key.key_hash, digest)) key = undefined;
    if (!key) {
      // A key stored before hashes were keyed: accept it once more and re-hash it.
      const legacy = await deps.store.findApiKeyByHash(plainHash);
      if (legacy && legacy.hash_scheme === 'sha256' && digestsEqual(legacy.key_hash, plainHash)) {
        key = await upgradeLegacyHash(deps, legacy, digest);
      }
    }
  }
  if (!key) return reject('the API key is not valid');
  const nowIso = deps.now().toISOString();
  if (key.expires_at && key.expires_at <= nowIso) reject('the API key has expired', key.tenant_id, key.id);
  if (credentialUsageIsStale(key.last_used_at, nowIso)) {
    await deps.store.touchCredential('api_keys', key.tenant_id, key.id, nowIso);
    key = { ...key, last_used_at: nowIso };
  }
  if (cache && (!cached || key.last_used_at !== cached.value.last_used_at)) {
    const { tenant_revision: revision, ...row } = key;
    cache.set(cacheKey, row, revision);
  }
  return apiKeyCaller(deps, key, nowIso, key.tenant_revision);
}

/**
 * The caller an API key acts as: its identity's rights narrowed by its scopes and capped by
 * its authority (also what a session opened with the key acts as).
 */
export async function apiKeyCaller(deps: ServiceDeps, key: Database['api_keys'], nowIso: string, knownRevision?: number): Promise<Caller> {
  const scopes = key.scopes === null ? null : (JSON.parse(key.scopes) as string[]);
  const narrowed = narrowRights(await grantoryRights(deps, key.tenant_id, key.identity_id, nowIso, knownRevision), scopes);
  const credential = { identityId: key.identity_id, authorityId: key.authority_id };
  const rights = await capByAuthority(deps, key.tenant_id, narrowed, credential, nowIso, knownRevision);
  return {
    tenantId: key.tenant_id,
    kind: 'api_key',
    id: key.id,
    name: apiTokenActorName(key.name),
    identityId: key.identity_id,
    authorityId: key.authority_id,
    scopes,
    rights,
    applicationId: null,
  };
}

async function upgradeLegacyHash<K extends Database['api_keys']>(deps: ServiceDeps, key: K, digest: string): Promise<K> {
  await deps.store.write(key.tenant_id, { ...writeMetaOfSystem(key.tenant_id) }, async (tx) => {
    await tx.db
      .updateTable('api_keys')
      .set({ key_hash: digest, hash_scheme: 'hmac-sha256' })
      .where('id', '=', key.id)
      .execute();
    tx.audit({ action: 'api_key.rehash', targetType: 'api_key', targetId: key.id, after: { hashScheme: 'hmac-sha256' } });
  });
  return { ...key, key_hash: digest, hash_scheme: 'hmac-sha256' };
}

function writeMetaOfSystem(tenantId: string) {
  const { caller } = systemActor(tenantId, 'credential hash upgrade');
  return { actorType: 'system' as const, actorId: null, actorName: caller.name };
}

const API_TOKEN_ACTOR = 'API Token - ';

/**
 * The actor name of what an API key does, as Permission Assist shows it: "API Token - HR
 * Integration" for the key "HR Integration" (a name that already reads so is kept as it is).
 * The same name is recorded in the audit trail, workflow journals and import records.
 */
export function apiTokenActorName(keyName: string): string {
  return keyName.startsWith(API_TOKEN_ACTOR) ? keyName : `${API_TOKEN_ACTOR}${keyName}`;
}
