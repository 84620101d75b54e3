/**
 * `grantory audit verify --remote`: checks the audit trail over the API instead of the database.
 * Streams `GET /api/v1/exports/audit-events` (NDJSON, in sequence order) through the same chain
 * check the server's own verification uses (domain/audit-chain.ts), and compares the chain with
 * every signed checkpoint: the server's (`GET /api/v1/audit-checkpoints`, signatures checked
 * with its public keys) and those of exported checkpoint files (`--checkpoints FILE`), which
 * also catch a trail rewritten together with the server's own checkpoints.
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { ChainVerifier, type ChainedAuditEvent } from '../../domain/audit-chain.ts';
import type { AuditEventView } from '../../domain/audit-event.ts';
import { canonicalJson } from '../../domain/canonical-json.ts';
import { verifyCheckpointSignature, type SignedCheckpoint } from '../../domain/checkpoint.ts';
import type { Io } from '../io.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { ApiClient } from './http.ts';
import { resolveConnection, type ConnectionFlags } from './profiles.ts';

interface CheckpointList {
  tenant: { id: string; name?: string };
  publicKeys: { keyId: string; publicKey: string }[];
  items: SignedCheckpoint[];
}

const PAGE = 500;

/** Every checkpoint the server has (newest first, paged by `beforeSeq`). */
async function serverCheckpoints(client: ApiClient): Promise<CheckpointList> {
  let list: CheckpointList | undefined;
  let beforeSeq: number | undefined;
  for (;;) {
    const page = await client.json<CheckpointList>({ method: 'GET', path: '/api/v1/audit-checkpoints', query: { limit: String(PAGE), ...(beforeSeq ? { beforeSeq: String(beforeSeq) } : {}) } });
    list = list ? { ...list, items: [...list.items, ...page.items] } : page;
    if (page.items.length < PAGE) return list;
    beforeSeq = Math.min(...page.items.map((c) => c.seq));
  }
}

/** The stored form of an exported event: `before`/`after` as the canonical JSON they were hashed as. */
const chained = (tenantId: string, e: AuditEventView): ChainedAuditEvent & { hash: string } => ({
  tenantId,
  seq: e.seq,
  id: e.id,
  time: e.time,
  revision: e.revision,
  actorType: e.actor.type,
  actorId: e.actor.id,
  actorName: e.actor.name,
  onBehalfOfId: e.onBehalfOfId,
  authorityId: e.authorityId,
  action: e.action,
  targetType: e.targetType,
  targetId: e.targetId,
  before: e.before === null || e.before === undefined ? null : canonicalJson(e.before),
  after: e.after === null || e.after === undefined ? null : canonicalJson(e.after),
  requestId: e.requestId,
  sourceIp: e.sourceIp,
  sourcePort: e.sourcePort ?? null,
  userAgent: e.userAgent,
  origin: e.origin,
  prevHash: e.prevHash,
  hash: e.hash,
});

/**
 * Feeds one event. The export shows a stored JSON `null` and an absent value both as null, so
 * when the hash does not match as exported, the other readings of a null `before`/`after` are
 * tried (a failed push leaves the verifier as it was).
 */
function pushEvent(verifier: ChainVerifier, event: ChainedAuditEvent & { hash: string }) {
  const first = verifier.push(event);
  if (!first || first.kind !== 'hash_mismatch') return first;
  const readings = (value: string | null) => (value === null ? [null, 'null'] : [value]);
  for (const before of readings(event.before)) {
    for (const after of readings(event.after)) {
      if (before === event.before && after === event.after) continue;
      if (!verifier.push({ ...event, before, after })) return null;
    }
  }
  return first;
}

/** Exit 0 intact, 1 broken (with the first broken link on stdout). */
export async function verifyRemote(flags: ConnectionFlags, files: CheckpointList[], io: Io): Promise<number> {
  const client = new ApiClient(resolveConnection(flags));
  const server = await serverCheckpoints(client);
  const tenant = { id: server.tenant.id, name: server.tenant.name ?? server.tenant.id };
  const broken = (message: string) => {
    io.out(`tenant ${tenant.name}: BROKEN ${message}`);
    return EXIT.negative;
  };
  // The checkpoints every event must match, by sequence number, with where each came from.
  const expected = new Map<number, { hash: string; source: string }[]>();
  for (const [source, list] of [['server', server] as const, ...files.map((f, i) => [`--checkpoints #${i + 1}`, f] as const)]) {
    if (list.tenant.id !== tenant.id) return broken(`: ${source} names tenant ${list.tenant.name ?? list.tenant.id}, not this server's tenant`);
    const keys = new Map(list.publicKeys.map((k) => [k.keyId, k.publicKey]));
    for (const checkpoint of list.items) {
      const key = keys.get(checkpoint.keyId);
      if (!key || !verifyCheckpointSignature(key, { ...checkpoint, tenant: tenant.id })) return broken(`at event #${checkpoint.seq}: the ${source} checkpoint has no valid signature`);
      expected.set(checkpoint.seq, [...(expected.get(checkpoint.seq) ?? []), { hash: checkpoint.hash, source }]);
    }
  }
  const response = await client.request({ method: 'GET', path: '/api/v1/exports/audit-events', query: { format: 'ndjson' }, accept: 'application/x-ndjson' });
  if (!response.body) throw new CliFailure('the audit export answered without a body', EXIT.server);
  const verifier = new ChainVerifier();
  let head = '';
  let matched = 0;
  const lines = createInterface({ input: Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as AuditEventView & { recordType?: string };
    // The export interleaves the checkpoints as they were made; they are among the server's, checked above.
    if (event.recordType !== undefined && event.recordType !== 'event') continue;
    const problem = pushEvent(verifier, chained(tenant.id, event));
    if (problem) return broken(`at event #${problem.seq}: ${problem.message}`);
    head = event.hash;
    for (const checkpoint of expected.get(event.seq) ?? []) {
      if (checkpoint.hash !== event.hash) return broken(`at event #${event.seq}: the ${checkpoint.source} checkpoint signed another hash (the trail was rewritten)`);
      matched += 1;
    }
  }
  const last = Math.max(0, ...expected.keys());
  if (last > verifier.count) return broken(`at event #${verifier.count + 1}: the trail ends before the checkpoint at event #${last} (events were deleted from its end)`);
  io.out(`tenant ${tenant.name}: ok, ${verifier.count} events, ${matched} checkpoints matched, head ${head || '(none)'}`);
  return EXIT.ok;
}
