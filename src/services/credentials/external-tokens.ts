/**
 * Access tokens from an external identity provider (Keycloak, Entra ID, Okta, ...), so a
 * deployment can let callers use the IdP it already has. A token is accepted when it is
 * signed by a key of the configured JWKS (URL or file; asymmetric algorithms only), has the
 * configured issuer and audience and is within its validity (with the clock tolerance). Its
 * subject claim (`sub` by default) names an identity by `subject` in the configured tenant;
 * the caller gets that identity's rights, narrowed by the token's Grantory scopes (`scope`,
 * or Entra's `scp`) when it carries any; other scopes (`openid`, `profile`) are ignored.
 *
 * The client the user signed in with — the token's `azp` (OpenID Connect's authorized
 * party), else its `client_id` (RFC 9068) — is the caller's application when an application
 * of the tenant has that id or name (exact name first, then ignoring case when exactly one
 * matches): CoreOne's `/api/permission/myapplication` then answers for that application,
 * whoever the user is (the user still needs read-permissions-my-application).
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { sql } from 'kysely';
import { isKnownScope, narrowRights, parseScopeParam } from '../../domain/scopes.ts';
import type { Caller } from '../kernel/index.ts';
import type { TenantDb } from '../../store/store.ts';
import { CredentialRejected } from './authentication.ts';
import type { ExternalIssuerSettings, ServiceDeps } from '../deps.ts';
import { grantoryRights } from '../access/index.ts';


export const EXTERNAL_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export interface ExternalTokenVerifier {
  readonly issuer: string;
  authenticate(token: string): Promise<Caller>;
}

type KeySet = ReturnType<typeof createLocalJWKSet> | ReturnType<typeof createRemoteJWKSet>;

export function createExternalTokenVerifier(deps: ServiceDeps, settings: ExternalIssuerSettings, clockToleranceSeconds: number): ExternalTokenVerifier {
  let keys: KeySet;
  if (settings.jwksFile) {
    keys = createLocalJWKSet(JSON.parse(readFileSync(settings.jwksFile, 'utf8')) as JSONWebKeySet);
  } else if (settings.jwksUrl) {
    keys = createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  } else {
    throw new Error('the external issuer needs a JWKS URL or a JWKS file');
  }
  let tenantId: string | null = null;

  return {
    issuer: settings.issuer,
    async authenticate(token) {
      const reject = (reason: string, credentialId: string | null = null): never => {
        throw new CredentialRejected(reason, { tenantId, credentialType: 'external_token', credentialId, label: settings.issuer.slice(0, 100) });
      };
      tenantId ??= (await deps.store.findTenantByName(settings.tenant))?.id ?? null;
      if (!tenantId) return reject(`the tenant "${settings.tenant}" of the external issuer does not exist`);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: settings.issuer,
          audience: settings.audience,
          algorithms: settings.algorithms,
          clockTolerance: clockToleranceSeconds,
          currentDate: deps.now(),
          requiredClaims: ['exp', settings.subjectClaim],
        }));
      } catch (e) {
        const code = (e as { code?: string }).code ?? '';
        return reject(code === 'ERR_JWT_EXPIRED' ? 'the token has expired' : `the token from the external issuer is not valid (${code || 'unverifiable'})`);
      }
      const subject = payload[settings.subjectClaim];
      if (typeof subject !== 'string' || subject.length === 0 || subject.length > 300) return reject('the token has no usable subject');
      const identity = await findIdentityBySubject(deps, tenantId, subject);
      if (!identity) return reject('the token names no known identity');
      const scopes = scopesOf(payload);
      const applicationId = await applicationOfClient(deps.store.read(tenantId), clientOf(payload));
      const rights = narrowRights(await grantoryRights(deps, tenantId, identity.id, deps.now().toISOString()), scopes);
      return {
        tenantId,
        kind: 'identity',
        id: identity.id,
        name: identity.display_name ?? identity.subject,
        identityId: identity.id,
        authorityId: null,
        scopes,
        rights,
        applicationId,
      };
    },
  };
}

/** The token's Grantory scopes; `null` (not narrowed) when it carries none Grantory knows (e.g. only `openid profile`). */
function scopesOf(payload: JWTPayload): string[] | null {
  const raw = payload.scope ?? payload.scp;
  const all = typeof raw === 'string' ? parseScopeParam(raw) : Array.isArray(raw) ? raw.filter((s): s is string => typeof s === 'string') : [];
  const known = all.filter(isKnownScope);
  return known.length ? known : null;
}

/**
 * The identity an external provider's subject names: the one whose `subject` it is, in
 * `tenantId` (external tokens and console OIDC sign-in map subjects alike).
 */
export async function findIdentityBySubject(deps: Pick<ServiceDeps, 'store'>, tenantId: string, subject: string) {
  return deps.store
    .read(tenantId)
    .db.selectFrom('identities')
    .select(['id', 'subject', 'display_name', 'status'])
    // Subjects are stored in NFC (domain/identifiers.ts); one stored before that is found as written.
    .where('subject', 'in', [...new Set([subject, subject.normalize('NFC')])])
    .orderBy(sql`case when subject = ${subject.normalize('NFC')} then 0 else 1 end`)
    .executeTakeFirst();
}

/** The OAuth client the token was issued to: `azp`, else `client_id`; null when it names none. */
function clientOf(payload: JWTPayload): string | null {
  for (const claim of [payload.azp, payload.client_id]) if (typeof claim === 'string' && claim.length > 0 && claim.length <= 300) return claim;
  return null;
}

/** The application a client id names: by id, by exact name, or by name ignoring case when only one matches. */
async function applicationOfClient(scope: TenantDb, client: string | null): Promise<string | null> {
  if (client === null) return null;
  const rows = await scope.db
    .selectFrom('applications')
    .select(['id', 'name'])
    .where((eb) => eb.or([eb('id', '=', client), eb(eb.fn('lower', ['name']), '=', client.toLowerCase())]))
    .execute();
  const exact = rows.find((r) => r.id === client) ?? rows.find((r) => r.name === client);
  if (exact) return exact.id;
  return rows.length === 1 ? rows[0]!.id : null;
}
