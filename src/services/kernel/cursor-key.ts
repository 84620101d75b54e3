/**
 * The tenant's one key for sealing list cursors (every cursor-paged list, the audit trail's
 * included): 32 random bytes, stored in `audit_keys` (purpose `cursor`) encrypted with the
 * server secret (GRANTORY_SECRET_KEY), created on first use by an audited write
 * (`audit_key.create`, recording the key id, never the secret). Migration 0025 moved the
 * plaintext key the lists used before (`tenant_secrets`) here.
 */
import { randomBytes } from 'node:crypto';
import type { ServerSecrets } from '../../domain/server-secrets.ts';
import type { Database } from '../../store/schema.ts';
import { systemActor, writeMeta } from './actor.ts';
import type { ServiceDeps } from '../deps.ts';

export type KeyDeps = Pick<ServiceDeps, 'store' | 'secrets'>;

/** Decrypted keys by server secret and tenant: a key never changes once created. */
const known = new WeakMap<ServerSecrets, Map<string, Buffer>>();

/** The plaintext secret of a stored audit key; a clear error when the server secret changed. */
export function revealKey(secrets: ServerSecrets, row: Database['audit_keys']): string {
  try {
    return secrets.decrypt(row.secret);
  } catch {
    throw new Error(`the ${row.purpose} key of tenant ${row.tenant_id} cannot be decrypted: GRANTORY_SECRET_KEY is not the one it was stored with`);
  }
}

/**
 * The tenant's audit key for `purpose`, created by `make` on first use through an audited
 * write (a key created meanwhile by another node's first use is returned instead).
 */
export async function findOrCreateKey(
  deps: Pick<ServiceDeps, 'store'>,
  tenantId: string,
  purpose: string,
  make: (now: string) => Database['audit_keys'],
): Promise<Database['audit_keys']> {
  const { db } = deps.store.read(tenantId);
  const existing = await db.selectFrom('audit_keys').selectAll().where('purpose', '=', purpose).executeTakeFirst();
  if (existing) return existing;
  const { value } = await deps.store.write(tenantId, writeMeta(systemActor(tenantId, 'audit')), async (tx) => {
    // Writes of a tenant are serialized: a key created by a concurrent first use is seen here.
    const again = await tx.db.selectFrom('audit_keys').selectAll().where('purpose', '=', purpose).executeTakeFirst();
    if (again) {
      tx.audit({ action: 'audit_key.use', targetType: 'audit_key', targetId: again.id });
      return again;
    }
    const row = make(tx.now);
    await tx.db.insertInto('audit_keys').values(row).execute();
    tx.audit({
      action: 'audit_key.create',
      targetType: 'audit_key',
      targetId: row.id,
      after: { purpose, keyId: row.id, ...(row.public_key ? { publicKey: row.public_key } : {}) },
    });
    return row;
  });
  return value;
}

/** The tenant's HMAC key for sealing cursors. */
export async function cursorKey(deps: KeyDeps, tenantId: string): Promise<Buffer> {
  let keys = known.get(deps.secrets);
  if (!keys) known.set(deps.secrets, (keys = new Map()));
  const cached = keys.get(tenantId);
  if (cached) return cached;
  const row = await findOrCreateKey(deps, tenantId, 'cursor', (now) => ({
    tenant_id: tenantId,
    purpose: 'cursor',
    id: randomBytes(8).toString('hex'),
    public_key: null,
    secret: deps.secrets.encrypt(randomBytes(32).toString('base64')),
    created_at: now,
  }));
  const key = Buffer.from(revealKey(deps.secrets, row), 'base64');
  keys.set(tenantId, key);
  return key;
}
