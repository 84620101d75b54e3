/**
 * Signed-in sessions: what the console's cookie (and a Checkmarx password-grant token)
 * stands for.
 *
 * - The secret (`gtys_...`, with a checksum like API keys) is given once to the client; the
 *   store keeps only its keyed hash. The CSRF token is derived from the secret (a keyed hash
 *   under its own label), so it is never stored and a reloaded page can ask for it again.
 * - Expiry: idle (`idleSeconds`, moved forward on use, at most once a minute) and absolute
 *   (`maxSeconds` after sign-in).
 * - What a session acts as: opened with an API key, exactly that key's caller (same rights,
 *   same scopes, same authority cap, re-read on every request; deleting the key deletes its
 *   sessions); opened with a password or through OIDC, the identity with its Grantory
 *   rights, on its own authority.
 * - `method`: `api_key`, `password`, `oidc` (cookie sessions) or `token` (a password-grant
 *   token, presented as `Authorization: Bearer`, not listed with the console's sessions). A
 *   token issued to a registered OAuth client (`client_id`) acts for that client's
 *   application, whoever the user is, and stops working when the client is deleted. A cookie session is not accepted as a Bearer token, nor a token as a cookie.
 */
import { randomUUID } from 'node:crypto';
import { AppError, notFound } from '../../domain/errors.ts';
import { narrowRights } from '../../domain/scopes.ts';
import { digestsEqual, generateSecret, hasValidChecksum } from '../../domain/secret-format.ts';
import type { Database } from '../../store/schema.ts';
import { writeAs, type Actor, type Caller, type RequestMeta } from '../kernel/index.ts';
import type { ServiceDeps, SessionSettings } from '../deps.ts';
import { grantoryRights } from '../access/index.ts';
import { apiKeyCaller, CredentialRejected, secretLabel } from './authentication.ts';

export const SESSION_PREFIX = 'gtys';

export type SessionMethod = 'api_key' | 'password' | 'oidc' | 'token';
export type CookieSessionMethod = Exclude<SessionMethod, 'token'>;
export const COOKIE_SESSION_METHODS: readonly CookieSessionMethod[] = ['api_key', 'password', 'oidc'];

export interface SessionView {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
  method: CookieSessionMethod;
  current: boolean;
}

export interface OpenedSession {
  id: string;
  secret: string;
  csrfToken: string;
  expiresAt: string;
}

/** The CSRF token of the session whose secret is `secret`. */
export function csrfTokenOf(deps: Pick<ServiceDeps, 'secrets'>, secret: string): string {
  return Buffer.from(deps.secrets.hashCredential(`csrf\u0000${secret}`), 'hex').toString('base64url');
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfTokenMatches(deps: Pick<ServiceDeps, 'secrets'>, secret: string, presented: string | undefined): boolean {
  if (!presented || presented.length > 100) return false;
  const expected = Buffer.from(csrfTokenOf(deps, secret));
  const given = Buffer.from(presented);
  return expected.length === given.length && digestsEqual(expected.toString('hex'), given.toString('hex'));
}

/**
 * Opens a session for an identity already authenticated (by API key, password or OIDC).
 * Audited as `session.create` in the identity's tenant, with the request's origin.
 */
export async function openSession(
  deps: ServiceDeps,
  settings: SessionSettings,
  input: {
    tenantId: string;
    identityId: string;
    apiKeyId: string | null;
    method: SessionMethod;
    actorName: string;
    lifetimeSeconds?: number;
    scopes?: string[] | null;
    /** A password-grant token's OAuth client (row id): the token acts for its application. */
    clientId?: string | null;
  },
  meta: RequestMeta,
): Promise<OpenedSession> {
  const secret = generateSecret(SESSION_PREFIX);
  const now = deps.now();
  const nowIso = now.toISOString();
  const absolute = new Date(now.getTime() + (input.lifetimeSeconds ?? settings.maxSeconds) * 1000);
  const idle = input.lifetimeSeconds === undefined ? new Date(Math.min(now.getTime() + settings.idleSeconds * 1000, absolute.getTime())) : absolute;
  const id = randomUUID();
  await deps.store.write(
    input.tenantId,
    {
      actorType: input.apiKeyId ? 'api_key' : 'identity',
      actorId: input.apiKeyId ?? input.identityId,
      actorName: input.actorName,
      onBehalfOfId: input.identityId,
      requestId: meta.requestId,
      sourceIp: meta.sourceIp,
      sourcePort: meta.sourcePort,
      userAgent: meta.userAgent,
      origin: meta.origin,
    },
    async (tx) => {
      // Sessions past their absolute expiry are of no further use.
      await tx.db.deleteFrom('sessions').where('absolute_expires_at', '<=', nowIso).execute();
      await tx.db
        .insertInto('sessions')
        .values({
          id,
          tenant_id: tx.tenantId,
          identity_id: input.identityId,
          api_key_id: input.apiKeyId,
          method: input.method,
          scopes: input.scopes ? JSON.stringify(input.scopes) : null,
          client_id: input.clientId ?? null,
          secret_hash: deps.secrets.hashCredential(secret),
          created_at: nowIso,
          last_seen_at: nowIso,
          expires_at: idle.toISOString(),
          absolute_expires_at: absolute.toISOString(),
          user_agent: meta.userAgent,
          ip: meta.sourceIp,
        })
        .execute();
      tx.audit({ action: 'session.create', targetType: 'session', targetId: id, after: { method: input.method, identityId: input.identityId, apiKeyId: input.apiKeyId, ...(input.clientId ? { clientId: input.clientId } : {}), expiresAt: idle.toISOString() } });
    },
  );
  return { id, secret, csrfToken: csrfTokenOf(deps, secret), expiresAt: idle.toISOString() };
}

export interface AuthenticatedSession {
  caller: Caller;
  session: { id: string; method: string; expiresAt: string };
}

/**
 * Authenticates a session secret: from the cookie (`channel: 'cookie'`) or a Checkmarx
 * token (`channel: 'bearer'`). Moves the idle expiry forward.
 */
export async function authenticateSession(deps: ServiceDeps, settings: SessionSettings, secret: string, channel: 'cookie' | 'bearer'): Promise<AuthenticatedSession> {
  const label = secretLabel(secret);
  const reject = (message: string, tenantId: string | null = null, id: string | null = null): never => {
    throw new CredentialRejected(message, { tenantId, credentialType: 'session', credentialId: id, label });
  };
  if (!hasValidChecksum(secret, SESSION_PREFIX)) reject('the session is not valid; sign in again');
  const digest = deps.secrets.hashCredential(secret);
  const session = await deps.store.findSessionByHash(digest);
  if (!session || !digestsEqual(session.secret_hash, digest)) return reject('the session is not valid; sign in again');
  const wanted = channel === 'cookie' ? COOKIE_SESSION_METHODS.includes(session.method as CookieSessionMethod) : session.method === 'token';
  if (!wanted) return reject('the session is not valid; sign in again', session.tenant_id, session.id);
  const now = deps.now();
  const nowIso = now.toISOString();
  if (session.expires_at <= nowIso || session.absolute_expires_at <= nowIso) return reject('the session has expired; sign in again', session.tenant_id, session.id);

  let base: Caller;
  const read = deps.store.read(session.tenant_id).db;
  if (session.api_key_id) {
    const key = await read.selectFrom('api_keys').selectAll().where('id', '=', session.api_key_id).executeTakeFirst();
    if (!key) return reject('the API key of the session no longer exists', session.tenant_id, session.id);
    if (key.expires_at && key.expires_at <= nowIso) return reject('the API key of the session has expired', session.tenant_id, session.id);
    base = await apiKeyCaller(deps, key, nowIso, session.tenant_revision);
  } else {
    const identity = await read
      .selectFrom('identities')
      .select(['id', 'subject', 'display_name', 'status'])
      .where('id', '=', session.identity_id)
      .executeTakeFirst();
    if (!identity || identity.status !== 'active') return reject('the identity of the session is not active', session.tenant_id, session.id);
    const scopes = session.scopes === null ? null : (JSON.parse(session.scopes) as string[]);
    // A password-grant token issued to an OAuth client acts for the client's application.
    let applicationId: string | null = null;
    if (session.client_id) {
      const client = await read.selectFrom('oauth_clients').select(['application_id']).where('tenant_id', '=', session.tenant_id).where('id', '=', session.client_id).executeTakeFirst();
      if (!client) return reject('the OAuth client the token was issued to no longer exists', session.tenant_id, session.id);
      applicationId = client.application_id;
    }
    base = {
      tenantId: session.tenant_id,
      kind: 'identity',
      id: identity.id,
      name: identity.display_name ?? identity.subject,
      identityId: identity.id,
      // The identity answers for itself.
      authorityId: identity.id,
      scopes,
      rights: narrowRights(await grantoryRights(deps, session.tenant_id, identity.id, nowIso, session.tenant_revision), scopes),
      applicationId,
    };
  }
  let expiresAt = session.expires_at;
  if (session.method !== 'token') {
    const idle = new Date(Math.min(now.getTime() + settings.idleSeconds * 1000, Date.parse(session.absolute_expires_at))).toISOString();
    if (await deps.store.touchSession(session.tenant_id, session.id, nowIso, idle)) expiresAt = idle;
  }
  const via = session.method === 'api_key' ? `${base.name} (session)` : session.method === 'token' ? `${base.name} (${session.client_id ? 'password-grant token' : 'Checkmarx token'})` : `${base.name} (session)`;
  return {
    caller: {
      ...base,
      kind: 'session',
      id: session.id,
      name: via,
      ...(session.method === 'token' ? {} : { signedIn: { name: base.name, method: session.method as CookieSessionMethod } }),
    },
    session: { id: session.id, method: session.method, expiresAt },
  };
}

function toSessionView(row: Database['sessions'], currentId: string | null): SessionView {
  return {
    id: row.id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    userAgent: row.user_agent,
    ip: row.ip,
    method: row.method as CookieSessionMethod,
    current: row.id === currentId,
  };
}

/** The caller's identity's console sessions that have not expired, newest first. */
export async function listSessions(deps: ServiceDeps, actor: Actor): Promise<SessionView[]> {
  const { caller } = actor;
  if (!caller.identityId) return [];
  const nowIso = deps.now().toISOString();
  const rows = await deps.store
    .read(caller.tenantId)
    .db.selectFrom('sessions')
    .selectAll()
    .where('identity_id', '=', caller.identityId)
    .where('method', 'in', COOKIE_SESSION_METHODS)
    .where('expires_at', '>', nowIso)
    .where('absolute_expires_at', '>', nowIso)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(1000)
    .execute();
  return rows.map((r) => toSessionView(r, caller.kind === 'session' ? caller.id : null));
}

/**
 * Ends a session: one of the caller's identity's own, or any of the tenant's with
 * `manage-users`. Audited as `session.delete`.
 */
export async function endSession(deps: ServiceDeps, actor: Actor, id: string): Promise<{ revision: number }> {
  const { caller } = actor;
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const row = await tx.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    const own = row && caller.identityId !== null && row.identity_id === caller.identityId;
    if (!row || (!own && !caller.rights.has('manage-users'))) throw notFound('session', id);
    await tx.db.deleteFrom('sessions').where('id', '=', id).execute();
    tx.audit({ action: 'session.delete', targetType: 'session', targetId: id, before: { method: row.method, identityId: row.identity_id, self: own } });
  });
  return { revision };
}

/** A session that is not of the expected kind (e.g. `GET /sessions/current` without a cookie). */
export function noSession(): AppError {
  return new AppError('unauthenticated', 'there is no signed-in session: sign in with POST /api/v1/sessions');
}
