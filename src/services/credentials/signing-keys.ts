/**
 * The token-signing key ring. Keys are ES256 (P-256) key pairs kept in the store — the
 * private half encrypted with the server secret — so they survive restarts and every node
 * sharing the database signs and verifies with the same keys. The newest `active` key signs;
 * every key not yet dropped verifies and is published at `/.well-known/jwks.json`.
 *
 * Rotation: {@link rotateSigningKey} (the `grantory keys rotate` command, or automatically
 * when the signing key is older than `rotationDays`) adds a new active key and retires the
 * others; retired keys stay published until every token they signed has expired, then are
 * dropped. Nodes reload the ring on an unknown `kid` (at most every few seconds) and
 * periodically, so a key made on one node is used by all.
 *
 * Why ES256 rather than Ed25519: every JOSE library and API gateway verifies ES256; EdDSA
 * support is still missing in several resource servers and SIEM tools that check tokens.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { AppError } from '../../domain/errors.ts';
import type { Database } from '../../store/schema.ts';
import { requireRight, systemActor, type Actor, writeAs } from '../kernel/index.ts';
import { DEFAULT_TENANT_NAME } from './auth-failures.ts';
import type { KeyRingSettings, ServiceDeps } from '../deps.ts';

export const SIGNING_ALG = 'ES256';


interface LoadedKey {
  row: Database['signing_keys'];
  publicKey: CryptoKey;
  /** Null when the private key cannot be decrypted (the server secret changed). */
  privateKey: CryptoKey | null;
}

export interface KeyRing {
  /** The key new tokens are signed with; creates or rotates it when needed. */
  signingKey(): Promise<{ kid: string; key: CryptoKey }>;
  /** The public key for a `kid`, or undefined when no such key exists. */
  verificationKey(kid: string): Promise<CryptoKey | undefined>;
  /** The published key set. */
  jwks(): Promise<{ keys: JWK[] }>;
  /** Forgets the cached keys (after a rotation on this node). */
  invalidate(): void;
}

export function createKeyRing(deps: ServiceDeps, settings: KeyRingSettings): KeyRing {
  let keys: LoadedKey[] | null = null;
  let loadedAt = 0;
  let lastMissReload = 0;
  let creating: Promise<void> | null = null;

  async function load(): Promise<LoadedKey[]> {
    const rows = await deps.store.listSigningKeys();
    const loaded: LoadedKey[] = [];
    for (const row of rows) {
      const publicKey = (await importJWK(JSON.parse(row.public_jwk) as JWK, row.alg)) as CryptoKey;
      let privateKey: CryptoKey | null = null;
      try {
        privateKey = (await importJWK(JSON.parse(deps.secrets.decrypt(row.private_key)) as JWK, row.alg)) as CryptoKey;
      } catch {
        // Encrypted under another server secret: the key still verifies, it can no longer sign.
        privateKey = null;
      }
      loaded.push({ row, publicKey, privateKey });
    }
    keys = loaded;
    loadedAt = Date.now();
    return loaded;
  }

  async function current(): Promise<LoadedKey[]> {
    if (!keys || Date.now() - loadedAt > settings.reloadSeconds * 1000) return load();
    return keys;
  }

  function usable(ring: LoadedKey[]): LoadedKey | undefined {
    const now = deps.now().getTime();
    const maxAge = settings.rotationDays * 86_400_000;
    return ring
      .filter((k) => k.row.state === 'active' && k.privateKey)
      .filter((k) => maxAge <= 0 || now - Date.parse(k.row.created_at) < maxAge)
      .at(-1);
  }

  return {
    async signingKey() {
      let key = usable(await current());
      if (!key) {
        creating ??= (async () => {
          const tenant = await deps.store.findTenantByName(DEFAULT_TENANT_NAME);
          if (!tenant) throw new AppError('not_ready', 'the default tenant does not exist yet');
          await addSigningKey(deps, systemActor(tenant.id, 'key rotation'), settings);
        })().finally(() => {
          creating = null;
        });
        await creating;
        key = usable(await load());
      }
      if (!key?.privateKey) throw new AppError('internal_error', 'no signing key is available');
      return { kid: key.row.kid, key: key.privateKey };
    },
    async verificationKey(kid) {
      const found = (await current()).find((k) => k.row.kid === kid);
      if (found) return found.publicKey;
      // A key made by another node since the last load: reload, but not on every unknown kid.
      if (Date.now() - lastMissReload < 2000) return undefined;
      lastMissReload = Date.now();
      return (await load()).find((k) => k.row.kid === kid)?.publicKey;
    },
    async jwks() {
      const ring = await current();
      return {
        keys: ring.map((k) => ({ ...(JSON.parse(k.row.public_jwk) as JWK), kid: k.row.kid, alg: k.row.alg, use: 'sig' })),
      };
    },
    invalidate() {
      keys = null;
    },
  };
}

/**
 * Makes a new signing key the active one; earlier keys are retired (still verify) and keys
 * retired longer than the retired-key lifetime are dropped. Signing keys serve every tenant,
 * so only the default tenant's operators (or the local system) may rotate them.
 */
export async function rotateSigningKey(deps: ServiceDeps, actor: Actor, settings: Pick<KeyRingSettings, 'retiredKeyTtlSeconds'>): Promise<{ kid: string; revision: number }> {
  requireRight(actor, 'manage-system-settings');
  const home = await deps.store.findTenantByName(DEFAULT_TENANT_NAME);
  if (!home || home.id !== actor.caller.tenantId) {
    throw new AppError('forbidden', 'signing keys serve every tenant: only the default tenant may rotate them');
  }
  return addSigningKey(deps, actor, settings);
}

async function addSigningKey(deps: ServiceDeps, actor: Actor, settings: Pick<KeyRingSettings, 'retiredKeyTtlSeconds'>): Promise<{ kid: string; revision: number }> {
  const pair = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  const privateJwk = await exportJWK(pair.privateKey);
  const kid = randomUUID();
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const dropBefore = new Date(Date.parse(tx.now) - settings.retiredKeyTtlSeconds * 1000).toISOString();
    const dropped = await tx.db
      .deleteFrom('signing_keys')
      .where('state', '=', 'retired')
      .where('retired_at', '<', dropBefore)
      .returning('kid')
      .execute();
    const retired = await tx.db
      .updateTable('signing_keys')
      .set({ state: 'retired', retired_at: tx.now })
      .where('state', '=', 'active')
      .returning('kid')
      .execute();
    await tx.db
      .insertInto('signing_keys')
      .values({
        kid,
        alg: SIGNING_ALG,
        public_jwk: JSON.stringify(publicJwk),
        private_key: deps.secrets.encrypt(JSON.stringify(privateJwk)),
        state: 'active',
        created_at: tx.now,
        retired_at: null,
      })
      .execute();
    tx.audit({
      action: 'signing_key.rotate',
      targetType: 'signing_key',
      targetId: kid,
      after: { kid, alg: SIGNING_ALG, retired: retired.map((r) => r.kid), dropped: dropped.map((r) => r.kid) },
    });
  });
  return { kid, revision };
}
