/** An audit event as read back and served: the stored event with parsed before/after. */
export interface AuditEventView {
  id: string;
  seq: number;
  time: string;
  revision: number;
  action: string;
  targetType: string;
  targetId: string | null;
  actor: { type: string; id: string | null; name: string | null };
  /** The identity the credential acts for. */
  onBehalfOfId: string | null;
  /** The identity on whose authority the credential acted, when it is not `onBehalfOfId`. */
  authorityId: string | null;
  requestId: string | null;
  sourceIp: string | null;
  /** The caller's TCP source port, when known (events before migration 0020 have none). */
  sourcePort: number | null;
  userAgent: string | null;
  /** The caller-supplied origin label (`cxOrigin`). */
  origin: string | null;
  before: unknown;
  after: unknown;
  prevHash: string;
  hash: string;
}
