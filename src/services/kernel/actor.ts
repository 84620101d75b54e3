/**
 * Who is acting: the authenticated caller plus where the request came from. Every service
 * takes an Actor, checks its rights itself (so the HTTP API, the CLI and jobs all get the
 * same checks), and records it on the audit event of each write.
 */
import { AppError } from '../../domain/errors.ts';
import { RIGHTS, type Right } from '../../domain/rights.ts';
import type { WriteMeta } from '../../store/store.ts';

/**
 * `identity`: a person or service account signed in through the configured external issuer.
 * `session`: a signed-in session (console cookie or a Checkmarx password-grant token).
 */
export type CallerKind = 'api_key' | 'client' | 'app_key' | 'identity' | 'session' | 'system';

export interface Caller {
  tenantId: string;
  kind: CallerKind;
  /** The credential's id (API key id, client id, ...); `system` for the local operator. */
  id: string;
  /** Human-readable name recorded as the actor (e.g. "API Token - bootstrap"). */
  name: string;
  /** The identity whose rights the caller uses, if any. */
  identityId: string | null;
  /**
   * The identity on whose authority the credential was created, whose current rights cap
   * the caller's (see credential-authority.ts); `null` when nothing caps it beyond its own
   * identity (a credential the system made, an external token, an application key).
   */
  authorityId: string | null;
  /** The credential's scopes; `null` means not narrowed. */
  scopes: readonly string[] | null;
  /** Grantory rights the caller effectively holds (identity rights narrowed by scopes). */
  rights: ReadonlySet<Right>;
  /** The application an application key or client is bound to. */
  applicationId: string | null;
  /**
   * A console session only: who signed in — the identity's display name (or subject) for a
   * password or single sign-on, the API key's name for a key — and how.
   */
  signedIn?: { name: string; method: 'api_key' | 'password' | 'oidc' } | undefined;
}

export interface RequestMeta {
  requestId: string | null;
  sourceIp: string | null;
  /** The caller's TCP source port, when the connection comes from the caller itself. */
  sourcePort: number | null;
  userAgent: string | null;
  /** A caller-supplied origin label (the Checkmarx `cxOrigin` header). */
  origin: string | null;
}

export interface Actor {
  caller: Caller;
  meta: RequestMeta;
}

/** The local operator (CLI, bootstrap, jobs): every right, in one tenant. */
export function systemActor(tenantId: string, name = 'system'): Actor {
  return {
    caller: {
      tenantId,
      kind: 'system',
      id: 'system',
      name,
      identityId: null,
      authorityId: null,
      scopes: null,
      rights: new Set(RIGHTS),
      applicationId: null,
    },
    meta: { requestId: null, sourceIp: null, sourcePort: null, userAgent: null, origin: null },
  };
}

/** Throws `forbidden` unless the actor holds at least one of `rights`. */
export function requireRight(actor: Actor, ...rights: Right[]): void {
  if (rights.some((r) => actor.caller.rights.has(r))) return;
  throw new AppError('forbidden', `this action needs the right ${rights.map((r) => `"${r}"`).join(' or ')}`, {
    details: { requiredRights: rights },
  });
}

export function writeMeta(actor: Actor): WriteMeta {
  const { caller, meta } = actor;
  return {
    actorType: caller.kind === 'system' ? 'system' : caller.kind,
    actorId: caller.kind === 'system' ? null : caller.id,
    actorName: caller.name,
    onBehalfOfId: caller.identityId,
    // Named only when someone other than the identity acted for answers for the act.
    authorityId: caller.authorityId !== caller.identityId ? caller.authorityId : null,
    requestId: meta.requestId,
    sourceIp: meta.sourceIp,
    sourcePort: meta.sourcePort,
    userAgent: meta.userAgent,
    origin: meta.origin,
  };
}
