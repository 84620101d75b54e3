/**
 * The audit trail's per-tenant keys, created on first use: the Ed25519 key that signs
 * checkpoints and the HMAC key that seals list cursors. Created through an audited write
 * (`audit_key.create`, recording the public key id, never the secret).
 *
 * The secrets are stored in `audit_keys.secret` encrypted with the server secret
 * (GRANTORY_SECRET_KEY); migration 0008 encrypted rows written before that.
 */
import { randomBytes } from 'node:crypto';
import { generateCheckpointKey, type CheckpointKey } from '../../domain/checkpoint.ts';
import type { Database } from '../../store/schema.ts';
import { systemActor, writeMeta } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';

type Purpose = 'checkpoint' | 'cursor';

type KeyDeps = Pick<ServiceDeps, 'store' | 'now' | 'secrets'>;

/** The plaintext secret of a stored key; a clear error when the server secret changed. */
function reveal(deps: KeyDeps, row: Database['audit_keys']): string {
  try {
    return deps.secrets.decrypt(row.secret);
  } catch {
    throw new Error(`the ${row.purpose} key of tenant ${row.tenant_id} cannot be decrypted: GRANTORY_SECRET_KEY is not the one it was stored with`);
  }
}

async function findKey(deps: Pick<ServiceDeps, 'store'>, tenantId: string, purpose: Purpose): Promise<Database['audit_keys'] | undefined> {
  const { db } = deps.store.read(tenantId);
  return db.selectFrom('audit_keys').selectAll().where('purpose', '=', purpose).executeTakeFirst();
}

/** The tenant's key for `purpose` (created on first use), its secret decrypted. */
async function ensureKey(deps: KeyDeps, tenantId: string, purpose: Purpose): Promise<Database['audit_keys']> {
  const row = await findOrCreateKey(deps, tenantId, purpose);
  return { ...row, secret: reveal(deps, row) };
}

async function findOrCreateKey(deps: KeyDeps, tenantId: string, purpose: Purpose): Promise<Database['audit_keys']> {
  const existing = await findKey(deps, tenantId, purpose);
  if (existing) return existing;
  const { value } = await deps.store.write(tenantId, writeMeta(systemActor(tenantId, 'audit')), async (tx) => {
    // Writes of a tenant are serialized: a key created by a concurrent first use is seen here.
    const again = await tx.db.selectFrom('audit_keys').selectAll().where('purpose', '=', purpose).executeTakeFirst();
    if (again) {
      tx.audit({ action: 'audit_key.use', targetType: 'audit_key', targetId: again.id });
      return again;
    }
    let row: Database['audit_keys'];
    if (purpose === 'checkpoint') {
      const key = generateCheckpointKey();
      row = { tenant_id: tenantId, purpose, id: key.keyId, public_key: key.publicKeyPem, secret: deps.secrets.encrypt(key.privateKeyPem), created_at: tx.now };
    } else {
      const secret = randomBytes(32);
      row = { tenant_id: tenantId, purpose, id: randomBytes(8).toString('hex'), public_key: null, secret: deps.secrets.encrypt(secret.toString('base64')), created_at: tx.now };
    }
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
  return Buffer.from((await ensureKey(deps, tenantId, 'cursor')).secret, 'base64');
}

/** The tenant's checkpoint signing key. */
export async function checkpointKey(deps: KeyDeps, tenantId: string): Promise<CheckpointKey> {
  const row = await ensureKey(deps, tenantId, 'checkpoint');
  return { keyId: row.id, publicKeyPem: row.public_key ?? '', privateKeyPem: row.secret };
}

/** The tenant's checkpoint public key, if one was created (verification never creates one). */
export async function checkpointPublicKey(deps: Pick<ServiceDeps, 'store'>, tenantId: string): Promise<{ keyId: string; publicKeyPem: string } | null> {
  const row = await findKey(deps, tenantId, 'checkpoint');
  return row?.public_key ? { keyId: row.id, publicKeyPem: row.public_key } : null;
}
