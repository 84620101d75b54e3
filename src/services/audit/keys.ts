/**
 * The audit trail's per-tenant signing key, created on first use: the Ed25519 key that signs
 * checkpoints, through an audited write (`audit_key.create`, recording the public key id,
 * never the secret). The key that seals cursors is the kernel's (`cursorKey`), shared by
 * every list.
 *
 * The secrets are stored in `audit_keys.secret` encrypted with the server secret
 * (GRANTORY_SECRET_KEY); migration 0008 encrypted rows written before that.
 */
import { generateCheckpointKey, type CheckpointKey } from '../../domain/checkpoint.ts';
import { findOrCreateKey, revealKey } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';

type KeyDeps = Pick<ServiceDeps, 'store' | 'now' | 'secrets'>;

/** The tenant's checkpoint signing key. */
export async function checkpointKey(deps: KeyDeps, tenantId: string): Promise<CheckpointKey> {
  const row = await findOrCreateKey(deps, tenantId, 'checkpoint', (now) => {
    const key = generateCheckpointKey();
    return { tenant_id: tenantId, purpose: 'checkpoint', id: key.keyId, public_key: key.publicKeyPem, secret: deps.secrets.encrypt(key.privateKeyPem), created_at: now };
  });
  return { keyId: row.id, publicKeyPem: row.public_key ?? '', privateKeyPem: revealKey(deps.secrets, row) };
}

/** The tenant's checkpoint public key, if one was created (verification never creates one). */
export async function checkpointPublicKey(deps: Pick<ServiceDeps, 'store'>, tenantId: string): Promise<{ keyId: string; publicKeyPem: string } | null> {
  const row = await deps.store.read(tenantId).db.selectFrom('audit_keys').selectAll().where('purpose', '=', 'checkpoint').executeTakeFirst();
  return row?.public_key ? { keyId: row.id, publicKeyPem: row.public_key } : null;
}
