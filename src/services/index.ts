/**
 * The service layer, assembled from its dependencies. Routes, the CLI and jobs call these;
 * nothing above this layer touches the store directly.
 */
import { decodeJwt } from 'jose';
import { AppError } from '../domain/errors.ts';
import type { JobFailureHandler, JobHandler, SecuritySettings, ServiceDeps, SessionSettings } from './deps.ts';
import { RULE_DIRECTORY_HOOKS } from './access/index.ts';
import { warmDriftSummary } from '../engine/drift-summary.ts';
import { warmSodViolations } from './sod/index.ts';
import { ACCESS_REQUEST_OUTCOMES, REQUEST_JOB_HANDLERS, verifyProvisioning } from './requests/index.ts';
import { APPROVAL_JOB_HANDLERS } from './workflow/index.ts';
import { REVIEW_JOB_HANDLERS } from './reviews/index.ts';
import { PERSONNEL_EVENT_OUTCOMES, PERSONNEL_JOB_FAILURE_HANDLERS, PERSONNEL_JOB_HANDLERS } from './personnel/index.ts';
import type { Caller, RequestMeta } from './kernel/index.ts';
import { authenticateSession as authenticateSessionSecret, createConsoleOidc, SESSION_PREFIX, type AuthenticatedSession, type ConsoleOidc } from './credentials/index.ts';
import { authenticateApplicationKey, createAuthFailureRecorder, type AuthFailureRecorder, authenticateApiKey, CredentialRejected, createExternalTokenVerifier, EXTERNAL_ALGORITHMS, type ExternalTokenVerifier, authenticateAccessToken, createKeyRing, CredentialCache, type KeyRing } from './credentials/index.ts';


/** Console sessions: 30 minutes idle, 12 hours at most; 5 failed sign-ins in 15 minutes lock 15 minutes. */
export const DEFAULT_SESSIONS: SessionSettings = {
  idleSeconds: 1800,
  maxSeconds: 43_200,
  maxFailures: 5,
  failureWindowSeconds: 900,
  lockoutSeconds: 900,
  tenant: 'default',
};

export const DEFAULT_SECURITY: Omit<SecuritySettings, 'issuer'> = {
  audience: 'urn:grantory:api',
  accessTokenTtlSeconds: 900,
  clockToleranceSeconds: 30,
  keyRing: { rotationDays: 90, retiredKeyTtlSeconds: 86_400, reloadSeconds: 300 },
  externalIssuer: null,
  sessions: DEFAULT_SESSIONS,
  consoleOidc: null,
};

export { EXTERNAL_ALGORITHMS };



export interface Services {
  deps: ServiceDeps;
  settings: SecuritySettings;
  keyRing: KeyRing;
  authFailures: AuthFailureRecorder;
  /**
   * Resolves an `Authorization` header value to a caller; throws `unauthenticated` (a
   * {@link CredentialRejected}), after recording the failure for the audit trail.
   */
  authenticate(authorization: string | undefined, meta?: RequestMeta): Promise<Caller>;
  /**
   * Resolves a session cookie's secret to its session's caller; throws `unauthenticated`
   * (recorded like any failed authentication).
   */
  authenticateSession(secret: string, meta: RequestMeta): Promise<AuthenticatedSession>;
  /** Console sign-in through the configured OIDC provider (null: not configured). */
  consoleOidc: ConsoleOidc | null;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** What the durable scheduler runs, by job kind: each workflow domain adds its handlers here. */
const JOB_HANDLERS: Readonly<Record<string, JobHandler>> = {
  ...APPROVAL_JOB_HANDLERS,
  ...REQUEST_JOB_HANDLERS,
  ...PERSONNEL_JOB_HANDLERS,
  ...REVIEW_JOB_HANDLERS,
};
const JOB_FAILURE_HANDLERS: Readonly<Record<string, JobFailureHandler>> = { ...PERSONNEL_JOB_FAILURE_HANDLERS };

export function createServices(given: ServiceDeps): Services {
  // Assignment rules follow directory changes unless a caller wires its own hooks.
  // Each domain's scheduled-job handlers, by kind; a caller's own (tests) add to them.
  const deps: ServiceDeps = {
    ...given,
    directoryHooks: given.directoryHooks ?? RULE_DIRECTORY_HOOKS,
    jobHandlers: { ...JOB_HANDLERS, ...given.jobHandlers },
    jobFailureHandlers: { ...JOB_FAILURE_HANDLERS, ...given.jobFailureHandlers },
    // An approved access request is carried out in the deciding write; imports verify connected provisioning.
    approvalOutcomes: { access_request: ACCESS_REQUEST_OUTCOMES, personnel_event: PERSONNEL_EVENT_OUTCOMES, ...given.approvalOutcomes },
    afterImportApply: given.afterImportApply ?? [verifyProvisioning],
    credentialCache: given.credentialCache ?? new CredentialCache(given.store),
  };
  // The overview's kept answers are computed in the background (sliced) as soon as an index
  // is built, and again after a change invalidates them.
  if (deps.access) {
    warmDriftSummary(deps.access);
    warmSodViolations(deps);
  }
  const settings: SecuritySettings = {
    ...DEFAULT_SECURITY,
    issuer: () => 'http://localhost',
    ...deps.security,
    sessions: { ...DEFAULT_SESSIONS, ...deps.security?.sessions },
  };
  const keyRing = createKeyRing(deps, settings.keyRing);
  const authFailures = createAuthFailureRecorder(deps);
  const external: ExternalTokenVerifier | null = settings.externalIssuer
    ? createExternalTokenVerifier(deps, settings.externalIssuer, settings.clockToleranceSeconds)
    : null;

  const consoleOidc = settings.consoleOidc ? createConsoleOidc(deps, settings.consoleOidc, settings.sessions, authFailures) : null;

  const services: Services = {
    deps,
    settings,
    consoleOidc,
    keyRing,
    authFailures,
    async authenticate(authorization, meta) {
      try {
        return await authenticateHeader(authorization);
      } catch (e) {
        // A request without any credential is not a failed authentication (nothing was tried).
        if (e instanceof CredentialRejected && meta && e.failure.credentialType !== 'none') authFailures.record({ ...e.failure, meta });
        throw e;
      }
    },
    async authenticateSession(secret, meta) {
      try {
        return await authenticateSessionSecret(deps, settings.sessions, secret, 'cookie');
      } catch (e) {
        if (e instanceof CredentialRejected) authFailures.record({ ...e.failure, meta });
        throw e;
      }
    },
  };

  async function authenticateHeader(authorization: string | undefined): Promise<Caller> {
    const none = { tenantId: null, credentialType: 'none' as const, credentialId: null, label: null };
    if (!authorization) throw new CredentialRejected('send credentials in the Authorization header (Bearer <token or API key>, or AppKey <key>)', none);
    const match = /^(\S+)\s+(\S+)$/.exec(authorization.trim());
    if (!match) throw new CredentialRejected('the Authorization header is malformed', { ...none, credentialType: 'api_key' });
    const [, scheme, credential] = match as unknown as [string, string, string];
    switch (scheme.toLowerCase()) {
      case 'appkey':
        return authenticateApplicationKey(deps, credential);
      case 'bearer':
        if (credential.startsWith(`${SESSION_PREFIX}_`)) return (await authenticateSessionSecret(deps, settings.sessions, credential, 'bearer')).caller;
        if (!JWT_SHAPE.test(credential)) return authenticateApiKey(deps, credential);
        return authenticateJwt(credential);
      default:
        throw new CredentialRejected(`the authorization scheme "${scheme.slice(0, 20)}" is not supported`, { ...none, credentialType: 'api_key' });
    }
  }

  async function authenticateJwt(token: string): Promise<Caller> {
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      issuer = undefined;
    }
    if (external && issuer === external.issuer) return external.authenticate(token);
    // Everything else is checked as Grantory's own token (and refused when its issuer differs).
    return authenticateAccessToken(services, token);
  }

  return services;
}

export { AppError };
