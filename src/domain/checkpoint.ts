/**
 * Signed checkpoints of the audit chain: an Ed25519 signature over the head of a tenant's
 * chain (`{tenant, seq, hash, time}` in canonical JSON). A checkpoint kept outside the
 * database (an export) lets a verifier detect a truncated or rewritten chain even when the
 * database, its keys and its checkpoints were all replaced.
 *
 * ```ts
 * const keys = generateCheckpointKey();
 * const cp = signCheckpoint(keys.privateKeyPem, keys.keyId, { tenant, seq: 10, hash, time });
 * verifyCheckpointSignature(keys.publicKeyPem, cp); // true
 * ```
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

export const CHECKPOINT_ALGORITHM = 'Ed25519';

export interface CheckpointHead {
  /** The tenant id. */
  tenant: string;
  seq: number;
  hash: string;
  time: string;
}

export interface SignedCheckpoint extends CheckpointHead {
  keyId: string;
  /** Base64 Ed25519 signature over {@link checkpointPayload}. */
  signature: string;
}

export interface CheckpointKey {
  keyId: string;
  publicKeyPem: string;
  privateKeyPem: string;
}

/** The exact bytes a checkpoint signature covers. */
export function checkpointPayload(head: CheckpointHead): Buffer {
  return Buffer.from(canonicalJson({ hash: head.hash, seq: head.seq, tenant: head.tenant, time: head.time }), 'utf8');
}

/** A key id derived from the public key (its SHA-256, first 16 hex characters). */
export function keyIdOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

export function generateCheckpointKey(): CheckpointKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { keyId: keyIdOf(publicKeyPem), publicKeyPem, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

export function signCheckpoint(privateKeyPem: string, keyId: string, head: CheckpointHead): SignedCheckpoint {
  const signature = sign(null, checkpointPayload(head), createPrivateKey(privateKeyPem)).toString('base64');
  return { ...head, keyId, signature };
}

export function verifyCheckpointSignature(publicKeyPem: string, checkpoint: SignedCheckpoint): boolean {
  try {
    return verify(null, checkpointPayload(checkpoint), createPublicKey(publicKeyPem), Buffer.from(checkpoint.signature, 'base64'));
  } catch {
    return false;
  }
}
