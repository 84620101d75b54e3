import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

/** The hash that precedes the first event of every tenant's chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields of an audit event that the chain protects (everything but `hash`). */
export interface ChainedAuditEvent {
  tenantId: string;
  seq: number;
  id: string;
  time: string;
  revision: number;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  onBehalfOfId: string | null;
  /**
   * The identity on whose authority a credential acted, when it is not `onBehalfOfId`
   * (added by migration 0009). Hashed only when set, so events without one — every event
   * written before it existed — hash exactly as they always did.
   */
  authorityId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  before: string | null;
  after: string | null;
  requestId: string | null;
  sourceIp: string | null;
  /**
   * The caller's TCP source port (added by migration 0020). Like `authorityId`, hashed only
   * when set, so events without one — every event written before it existed — hash as before.
   */
  sourcePort: number | null;
  userAgent: string | null;
  origin: string | null;
  prevHash: string;
}

/**
 * SHA-256 over the previous hash and the event in canonical JSON, hex encoded. A null
 * `authorityId` or `sourcePort` is left out of the JSON (see
 * {@link ChainedAuditEvent.authorityId}), so older events keep their hashes.
 */
export function hashAuditEvent(event: ChainedAuditEvent): string {
  const hashed: Partial<ChainedAuditEvent> = { ...event };
  if (event.authorityId === null) delete hashed.authorityId;
  if (event.sourcePort === null) delete hashed.sourcePort;
  return createHash('sha256').update(event.prevHash).update('\n').update(canonicalJson(hashed)).digest('hex');
}

export type ChainProblem =
  | { kind: 'hash_mismatch'; seq: number; message: string }
  | { kind: 'broken_link'; seq: number; message: string }
  | { kind: 'gap'; seq: number; message: string };

/**
 * Walks events in `seq` order and reports the first broken link: an edited event (its hash
 * no longer matches), a deleted or reordered one (sequence gap or a `prevHash` that is not
 * the previous event's hash). Returns `null` when the chain is intact.
 */
export class ChainVerifier {
  private expectedSeq = 1;
  private lastHash = GENESIS_HASH;
  count = 0;

  /** Feeds the next event; returns the first problem found, or null. */
  push(event: ChainedAuditEvent & { hash: string }): ChainProblem | null {
    const { hash, ...rest } = event;
    if (event.seq !== this.expectedSeq) {
      // The first broken link is the missing event, as for a truncated tail.
      return {
        kind: 'gap',
        seq: this.expectedSeq,
        message: `event #${this.expectedSeq} is missing: the next event is #${event.seq} (an event was deleted or reordered)`,
      };
    }
    if (event.prevHash !== this.lastHash) {
      return {
        kind: 'broken_link',
        seq: event.seq,
        message: `event #${event.seq} does not link to the hash of event #${event.seq - 1}`,
      };
    }
    if (hashAuditEvent(rest) !== hash) {
      return { kind: 'hash_mismatch', seq: event.seq, message: `event #${event.seq} was altered after it was written` };
    }
    this.expectedSeq += 1;
    this.lastHash = hash;
    this.count += 1;
    return null;
  }

  get headHash(): string {
    return this.lastHash;
  }

  get lastSeq(): number {
    return this.expectedSeq - 1;
  }
}
