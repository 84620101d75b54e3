/**
 * Signed checkpoints of the audit chain. {@link createCheckpoint} signs the tenant's head
 * (the newest event's sequence number and hash, and the time) with the tenant's Ed25519
 * key and keeps it; the write that stores it records an `audit.checkpoint` event after the
 * signed head. {@link listCheckpoints} returns them with the public key: saved outside
 * Grantory, that list is what `grantory audit verify --checkpoints FILE` checks against.
 */
import { CHECKPOINT_ALGORITHM, signCheckpoint, type SignedCheckpoint } from '../../domain/checkpoint.ts';
import { AppError } from '../../domain/errors.ts';
import { requireRight, systemActor, type Actor, writeAs } from '../kernel/index.ts';
import { checkpointKey, checkpointPublicKey } from './keys.ts';
import type { CheckpointFile } from './trail.ts';
import type { ServiceDeps } from '../deps.ts';

export type CheckpointList = CheckpointFile & {
  tenant: { id: string; name: string };
  publicKeys: { keyId: string; algorithm: string; publicKey: string }[];
};

/** Signs and stores a checkpoint of the tenant's current head. */
export async function createCheckpoint(deps: Pick<ServiceDeps, 'store' | 'now' | 'secrets'>, actor: Actor): Promise<{ checkpoint: SignedCheckpoint; revision: number }> {
  requireRight(actor, 'read-audit');
  const { tenantId } = actor.caller;
  const key = await checkpointKey(deps, tenantId);
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    // The tenant's row is locked by this write: the head read here is the newest event.
    const head = await tx.db.selectFrom('tenants').select(['audit_seq', 'audit_head_hash']).where('id', '=', tenantId).executeTakeFirstOrThrow();
    const checkpoint = signCheckpoint(key.privateKeyPem, key.keyId, { tenant: tenantId, seq: Number(head.audit_seq), hash: head.audit_head_hash, time: tx.now });
    await tx.db
      .insertInto('audit_checkpoints')
      .values({ tenant_id: tenantId, seq: checkpoint.seq, hash: checkpoint.hash, time: checkpoint.time, key_id: checkpoint.keyId, signature: checkpoint.signature })
      .execute();
    tx.audit({ action: 'audit.checkpoint', targetType: 'audit_checkpoint', targetId: String(checkpoint.seq), after: checkpoint });
    return checkpoint;
  });
  return { checkpoint: value, revision };
}

/**
 * Creates a checkpoint when events other than checkpoints and verifications were recorded since the last one
 * (the scheduled job; a quiet tenant gets no new checkpoint). Returns it, or null.
 */
export async function checkpointIfChanged(deps: Pick<ServiceDeps, 'store' | 'now' | 'secrets'>, tenantId: string): Promise<SignedCheckpoint | null> {
  const { db } = deps.store.read(tenantId);
  const last = await db.selectFrom('audit_checkpoints').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const fresh = await db
    .selectFrom('audit_events')
    .select('seq')
    .where('seq', '>', Number(last?.seq ?? 0))
    .where('action', 'not in', ['audit.checkpoint', 'audit.verified'])
    .limit(1)
    .executeTakeFirst();
  if (!fresh) return null;
  return (await createCheckpoint(deps, systemActor(tenantId, 'audit checkpoint job'))).checkpoint;
}

/** The newest checkpoints (newest first) with the public keys that verify them. */
export async function listCheckpoints(deps: Pick<ServiceDeps, 'store' | 'now'>, actor: Actor, input: { limit: number; beforeSeq?: number | undefined }): Promise<CheckpointList> {
  requireRight(actor, 'read-audit');
  const { tenantId } = actor.caller;
  const { db } = deps.store.read(tenantId);
  const tenant = await db.selectFrom('tenants').select(['id', 'name']).where('id', '=', tenantId).executeTakeFirst();
  if (!tenant) throw new AppError('not_found', 'tenant not found');
  let query = db.selectFrom('audit_checkpoints').selectAll();
  if (input.beforeSeq !== undefined) query = query.where('seq', '<', input.beforeSeq);
  const rows = await query.orderBy('seq', 'desc').limit(input.limit).execute();
  const key = await checkpointPublicKey(deps, tenantId);
  return {
    tenant: { id: tenant.id, name: tenant.name },
    publicKeys: key ? [{ keyId: key.keyId, algorithm: CHECKPOINT_ALGORITHM, publicKey: key.publicKeyPem }] : [],
    items: rows.map((r) => ({ tenant: tenantId, seq: Number(r.seq), hash: r.hash, time: r.time, keyId: r.key_id, signature: r.signature })),
  };
}
