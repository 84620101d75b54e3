/**
 * Configuration from environment variables and command-line flags (flags win), validated
 * before anything starts. A bad value is a {@link ConfigError} naming the setting; the CLI
 * prints it as one line and exits non-zero.
 *
 * | setting | flag | default |
 * | --- | --- | --- |
 * | GRANTORY_PORT | --port | 8080 (0 picks a free port) |
 * | GRANTORY_HOST | --host | 0.0.0.0 |
 * | GRANTORY_DATA_DIR | --data-dir | ./data |
 * | DATABASE_URL | --database-url | (embedded SQLite) |
 * | GRANTORY_BOOTSTRAP_ADMIN_KEY | — | (generated on first start) |
 * | GRANTORY_LOG_LEVEL | --log-level | info |
 * | GRANTORY_LOG_FORMAT | --log-format | pretty on a terminal, json otherwise |
 * | GRANTORY_ACCESS_LOG | — | useful (a line at info for errors, slow requests and writes); all; off |
 * | GRANTORY_SLOW_REQUEST_MS | — | 1000 (a request slower than this is logged at info) |
 * | GRANTORY_WORKERS | --workers | the machine's cores, at most 8 (server processes sharing the port) |
 * | GRANTORY_BODY_LIMIT | --body-limit | 1048576 (bytes) |
 * | GRANTORY_SQLITE_SYNCHRONOUS | — | FULL |
 * | GRANTORY_AUDIT_CHECKPOINT_INTERVAL | — | 3600 (seconds between signed audit checkpoints; 0 disables) |
 * | GRANTORY_DELIVERY_INTERVAL | — | 1000 (milliseconds between event-sink delivery passes; 0 disables) |
 * | GRANTORY_HISTORY_RETENTION_DAYS | — | 0 (days of access history kept; older versions are pruned hourly; 0 keeps it all) |
 * | GRANTORY_IMPORT_DIR | --import-dir | ./data/imports |
 * | GRANTORY_IMPORT_UPLOAD_LIMIT | — | 1073741824 (bytes per uploaded file) |
 * | GRANTORY_IMPORT_LEASE_SECONDS | — | 30 (PostgreSQL: a Running import silent this long is failed) |
 * | GRANTORY_SECRET_KEY | — | SQLite: generated into `<data dir>/secret.key`; PostgreSQL: required |
 * | GRANTORY_PUBLIC_URL | — | the listening URL (the `iss` of access tokens) |
 * | GRANTORY_TOKEN_TTL | — | 900 (seconds) |
 * | GRANTORY_TOKEN_AUDIENCE | — | urn:grantory:api |
 * | GRANTORY_SIGNING_KEY_ROTATION_DAYS | — | 90 (0: rotate only on demand) |
 * | GRANTORY_OIDC_ISSUER, GRANTORY_OIDC_AUDIENCE | — | (no external issuer) |
 * | GRANTORY_OIDC_JWKS_URL or GRANTORY_OIDC_JWKS_FILE | — | — |
 * | GRANTORY_OIDC_TENANT, GRANTORY_OIDC_SUBJECT_CLAIM | — | default, sub |
 * | GRANTORY_SESSION_IDLE_TIMEOUT | — | 1800 (seconds a console session may stay unused) |
 * | GRANTORY_SESSION_MAX_AGE | — | 43200 (seconds a console session lasts at most after sign-in) |
 * | GRANTORY_SIGN_IN_MAX_FAILURES | — | 5 failed password sign-ins of one identity lock it (0: never locked) |
 * | GRANTORY_SIGN_IN_FAILURE_WINDOW | — | 900 (seconds within which the failures count) |
 * | GRANTORY_SIGN_IN_LOCKOUT | — | 900 (seconds a locked identity's password sign-ins are refused) |
 * | GRANTORY_SIGN_IN_TENANT | — | default (the tenant whose identities sign in by username) |
 * | GRANTORY_CONSOLE_OIDC_ISSUER, GRANTORY_CONSOLE_OIDC_CLIENT_ID, GRANTORY_CONSOLE_OIDC_CLIENT_SECRET | — | (no OIDC console sign-in) |
 * | GRANTORY_CONSOLE_OIDC_REDIRECT_BASE | — | GRANTORY_PUBLIC_URL |
 * | GRANTORY_CONSOLE_OIDC_TENANT, GRANTORY_CONSOLE_OIDC_SUBJECT_CLAIM | — | GRANTORY_SIGN_IN_TENANT, sub |
 * | GRANTORY_RATE_LIMIT | — | 600 requests per credential per window on management routes (0: off) |
 * | GRANTORY_DECISION_RATE_LIMIT | — | 6000000 requests per credential per window on decision routes (check, batch, an identity's access, vendor permission queries; 0: off) |
 * | GRANTORY_RATE_LIMIT_WINDOW | — | 60 (seconds) |
 * | GRANTORY_TOKEN_RATE_LIMIT | — | 60 token requests per client id per window |
 * | GRANTORY_AUTH_FAILURE_LIMIT | — | 30 failed authentications per IP address per window |
 * | GRANTORY_HEADERS_TIMEOUT | — | 15 (seconds to receive a request's headers) |
 * | GRANTORY_REQUEST_TIMEOUT | — | 60 (seconds to receive a request's body once its headers are in) |
 * | GRANTORY_UPLOAD_TIMEOUT | — | 3600 (the same for an authenticated import upload) |
 * | GRANTORY_KEEP_ALIVE_TIMEOUT | — | 5 (seconds an idle keep-alive connection stays open) |
 * | GRANTORY_MAX_CONNECTIONS | — | 2048 (open connections; more are closed on arrival) |
 * | GRANTORY_SHUTDOWN_GRACE | — | 20 (seconds SIGTERM waits for requests in flight) |
 */
import { availableParallelism } from 'node:os';
import { hasValidChecksum } from './domain/secret-format.ts';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  bootstrapAdminKey: string | undefined;
  logLevel: LogLevel;
  /** One line per request for people (`pretty`) or machines (`json`); unset: pretty on a terminal. */
  logFormat: LogFormat | undefined;
  /** Which answered requests get a line at info (request-log.ts). */
  accessLog: AccessLog;
  slowRequestMs: number;
  /** Server processes sharing the port (src/cluster.ts); 1: this process serves alone. */
  workers: number;
  bodyLimit: number;
  sqliteSynchronous: 'FULL' | 'NORMAL';
  auditCheckpointIntervalMs: number;
  deliveryIntervalMs: number;
  /** How often this node runs the durable scheduler's due jobs (ms; 0: not on this node). */
  schedulerIntervalMs: number;
  /** Days of access history kept (docs/history.md, retention); 0 keeps it all. */
  historyRetentionDays: number;
  /** How long a node's claim on a scheduled job lasts (a crashed node's jobs run again after it). */
  schedulerLeaseSeconds: number;
  importDir: string;
  importUploadLimit: number;
  importLeaseSeconds: number;
  /** The server secret (credential hashes, signing-key encryption); see src/secret-key.ts for its default. */
  secretKey: string | undefined;
  publicUrl: string | undefined;
  tokenTtlSeconds: number;
  tokenAudience: string;
  signingKeyRotationDays: number;
  externalIssuer: ExternalIssuerConfig | undefined;
  sessions: SessionConfig;
  consoleOidc: ConsoleOidcConfig | undefined;
  rateLimits: RateLimitConfig;
  connections: ConnectionLimits;
}

/** Console sessions and password sign-in (see docs/authentication.md). */
export interface SessionConfig {
  /** A session unused this long ends (sliding: each use moves it forward). */
  idleSeconds: number;
  /** A session ends this long after sign-in, however much it is used. */
  maxSeconds: number;
  /** Failed password sign-ins of one identity within `failureWindowSeconds` that lock it (0: never). */
  maxFailures: number;
  failureWindowSeconds: number;
  /** How long a locked identity's password sign-ins are refused. */
  lockoutSeconds: number;
  /** The tenant whose identities sign in by username. */
  tenant: string;
}

/** Console sign-in through an external OpenID Connect provider. */
export interface ConsoleOidcConfig {
  /** The provider's issuer URL (its discovery document is at `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Grantory's public base URL as the provider knows it: the redirect URI is `<redirectBase>/api/v1/sessions/oidc/callback`. */
  redirectBase: string;
  /** The tenant whose identities the provider's subjects name. */
  tenant: string;
  /** The ID token claim that names the identity by `subject` (`sub` by default). */
  subjectClaim: string;
}

/**
 * Bounds on what a client can hold open (slow clients, idle sockets, shutdown); all in
 * milliseconds but `maxConnections`.
 */
export interface ConnectionLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  uploadTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  shutdownGraceMs: number;
}

/** What a security review accepts for a server reached by unauthenticated clients. */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 60_000,
  uploadTimeoutMs: 3_600_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 2048,
  shutdownGraceMs: 20_000,
};

export interface ExternalIssuerConfig {
  issuer: string;
  audience: string;
  jwksUrl: string | undefined;
  jwksFile: string | undefined;
  tenant: string;
  subjectClaim: string;
}

/** Per tenant + credential (or client id, or address), across nodes and workers; `0` turns a limit off. */
export interface RateLimitConfig {
  windowSeconds: number;
  /** Management routes. */
  perCredential: number;
  /** Decision routes (check, batch check, an identity's access, vendor permission queries). */
  decisionPerCredential: number;
  tokenPerClient: number;
  authFailuresPerIp: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const ACCESS_LOGS = ['useful', 'all', 'off'] as const;
export type AccessLog = (typeof ACCESS_LOGS)[number];
/** The default of GRANTORY_WORKERS: one process per core, at most this many. */
export const MAX_DEFAULT_WORKERS = 8;

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv, flags: Record<string, string> = {}): Config {
  const get = (name: string): string | undefined => {
    const v = flags[name] ?? env[name];
    return v === undefined || v === '' ? undefined : v;
  };

  const portText = get('GRANTORY_PORT') ?? '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new ConfigError('GRANTORY_PORT', `"${portText}" is not a port number (0-65535; 0 picks a free port)`);
  }

  const logLevel = (get('GRANTORY_LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('GRANTORY_LOG_LEVEL', `"${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const accessLog = (get('GRANTORY_ACCESS_LOG') ?? 'useful') as AccessLog;
  if (!ACCESS_LOGS.includes(accessLog)) {
    throw new ConfigError('GRANTORY_ACCESS_LOG', `"${accessLog}" is not one of ${ACCESS_LOGS.join(', ')}`);
  }
  const logFormat = get('GRANTORY_LOG_FORMAT') as LogFormat | undefined;
  if (logFormat !== undefined && !LOG_FORMATS.includes(logFormat)) {
    throw new ConfigError('GRANTORY_LOG_FORMAT', `"${logFormat}" is not one of ${LOG_FORMATS.join(', ')}`);
  }

  const bodyText = get('GRANTORY_BODY_LIMIT') ?? '1048576';
  const bodyLimit = Number(bodyText);
  if (!/^\d+$/.test(bodyText) || bodyLimit < 1024 || bodyLimit > 1024 * 1024 * 1024) {
    throw new ConfigError('GRANTORY_BODY_LIMIT', `"${bodyText}" is not a byte count between 1024 and 1073741824`);
  }

  const databaseUrl = get('DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\/.+/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// or postgresql:// URL (leave it unset for the embedded SQLite store)');
  }

  const bootstrapAdminKey = get('GRANTORY_BOOTSTRAP_ADMIN_KEY');
  if (bootstrapAdminKey !== undefined && (bootstrapAdminKey.length < 32 || bootstrapAdminKey.length > 512 || /\s/.test(bootstrapAdminKey))) {
    throw new ConfigError('GRANTORY_BOOTSTRAP_ADMIN_KEY', 'must be 32 to 512 characters without spaces');
  }
  // A key in Grantory's own format is refused at use unless its checksum holds; say so now.
  if (bootstrapAdminKey?.startsWith('gty_') && !hasValidChecksum(bootstrapAdminKey, 'gty')) {
    throw new ConfigError('GRANTORY_BOOTSTRAP_ADMIN_KEY', 'starts with gty_ but its checksum is wrong (copy the whole key, or choose a key without the gty_ prefix)');
  }

  const syncText = get('GRANTORY_SQLITE_SYNCHRONOUS') ?? 'FULL';
  const sync = syncText.toUpperCase();
  if (sync !== 'FULL' && sync !== 'NORMAL') {
    throw new ConfigError('GRANTORY_SQLITE_SYNCHRONOUS', `"${syncText}" is not FULL or NORMAL`);
  }

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const text = get(name) ?? String(fallback);
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) throw new ConfigError(name, `"${text}" is not a whole number between ${min} and ${max}`);
    return n;
  };

  const secretKey = get('GRANTORY_SECRET_KEY');
  if (secretKey !== undefined && (secretKey.length < 32 || secretKey.length > 512)) {
    throw new ConfigError('GRANTORY_SECRET_KEY', 'must be 32 to 512 characters (e.g. `openssl rand -base64 32`)');
  }
  const url = (name: string): string | undefined => {
    const v = get(name);
    if (v !== undefined && !/^https?:\/\/[^\s]+$/.test(v)) throw new ConfigError(name, `"${v}" is not an http(s) URL`);
    return v;
  };
  const publicUrl = url('GRANTORY_PUBLIC_URL')?.replace(/\/+$/, '');

  let externalIssuer: ExternalIssuerConfig | undefined;
  const oidcIssuer = get('GRANTORY_OIDC_ISSUER');
  if (oidcIssuer !== undefined) {
    const audience = get('GRANTORY_OIDC_AUDIENCE');
    if (!audience) throw new ConfigError('GRANTORY_OIDC_AUDIENCE', 'is required with GRANTORY_OIDC_ISSUER (the audience its tokens carry for Grantory)');
    const jwksUrl = url('GRANTORY_OIDC_JWKS_URL');
    const jwksFile = get('GRANTORY_OIDC_JWKS_FILE');
    if (!jwksUrl === !jwksFile) throw new ConfigError('GRANTORY_OIDC_JWKS_URL', 'set exactly one of GRANTORY_OIDC_JWKS_URL and GRANTORY_OIDC_JWKS_FILE with GRANTORY_OIDC_ISSUER');
    externalIssuer = {
      issuer: oidcIssuer,
      audience,
      jwksUrl,
      jwksFile,
      tenant: get('GRANTORY_OIDC_TENANT') ?? 'default',
      subjectClaim: get('GRANTORY_OIDC_SUBJECT_CLAIM') ?? 'sub',
    };
  }

  const idleSeconds = int('GRANTORY_SESSION_IDLE_TIMEOUT', 1800, 60, 86_400);
  const sessions: SessionConfig = {
    idleSeconds,
    maxSeconds: int('GRANTORY_SESSION_MAX_AGE', 43_200, 300, 2_592_000),
    maxFailures: int('GRANTORY_SIGN_IN_MAX_FAILURES', 5, 0, 1000),
    failureWindowSeconds: int('GRANTORY_SIGN_IN_FAILURE_WINDOW', 900, 1, 86_400),
    lockoutSeconds: int('GRANTORY_SIGN_IN_LOCKOUT', 900, 1, 86_400),
    tenant: get('GRANTORY_SIGN_IN_TENANT') ?? 'default',
  };
  if (sessions.maxSeconds < idleSeconds) throw new ConfigError('GRANTORY_SESSION_MAX_AGE', `must be at least GRANTORY_SESSION_IDLE_TIMEOUT (${idleSeconds})`);

  let consoleOidc: ConsoleOidcConfig | undefined;
  const consoleIssuer = url('GRANTORY_CONSOLE_OIDC_ISSUER');
  if (consoleIssuer !== undefined) {
    const clientId = get('GRANTORY_CONSOLE_OIDC_CLIENT_ID');
    if (!clientId) throw new ConfigError('GRANTORY_CONSOLE_OIDC_CLIENT_ID', 'is required with GRANTORY_CONSOLE_OIDC_ISSUER');
    const clientSecret = get('GRANTORY_CONSOLE_OIDC_CLIENT_SECRET');
    if (!clientSecret) throw new ConfigError('GRANTORY_CONSOLE_OIDC_CLIENT_SECRET', 'is required with GRANTORY_CONSOLE_OIDC_ISSUER');
    const redirectBase = url('GRANTORY_CONSOLE_OIDC_REDIRECT_BASE')?.replace(/\/+$/, '') ?? publicUrl;
    if (!redirectBase) throw new ConfigError('GRANTORY_CONSOLE_OIDC_REDIRECT_BASE', 'is required with GRANTORY_CONSOLE_OIDC_ISSUER when GRANTORY_PUBLIC_URL is not set');
    consoleOidc = {
      issuer: consoleIssuer.replace(/\/+$/, ''),
      clientId,
      clientSecret,
      redirectBase,
      tenant: get('GRANTORY_CONSOLE_OIDC_TENANT') ?? sessions.tenant,
      subjectClaim: get('GRANTORY_CONSOLE_OIDC_SUBJECT_CLAIM') ?? 'sub',
    };
  }

  const auditCheckpointIntervalMs = int('GRANTORY_AUDIT_CHECKPOINT_INTERVAL', 3600, 0, 31_536_000) * 1000;
  const deliveryIntervalMs = int('GRANTORY_DELIVERY_INTERVAL', 1000, 0, 3_600_000);
  const schedulerIntervalMs = int('GRANTORY_SCHEDULER_INTERVAL', 1000, 0, 3_600_000);
  const schedulerLeaseSeconds = int('GRANTORY_SCHEDULER_LEASE_SECONDS', 60, 1, 3600);
  const historyRetentionDays = int('GRANTORY_HISTORY_RETENTION_DAYS', 0, 0, 36_500);

  const uploadText = get('GRANTORY_IMPORT_UPLOAD_LIMIT') ?? String(1024 * 1024 * 1024);
  const importUploadLimit = Number(uploadText);
  if (!/^\d+$/.test(uploadText) || importUploadLimit < 1024) {
    throw new ConfigError('GRANTORY_IMPORT_UPLOAD_LIMIT', `"${uploadText}" is not a byte count of at least 1024`);
  }
  const leaseText = get('GRANTORY_IMPORT_LEASE_SECONDS') ?? '30';
  const importLeaseSeconds = Number(leaseText);
  if (!/^\d+$/.test(leaseText) || importLeaseSeconds < 1 || importLeaseSeconds > 3600) {
    throw new ConfigError('GRANTORY_IMPORT_LEASE_SECONDS', `"${leaseText}" is not a number of seconds between 1 and 3600`);
  }
  const dataDir = get('GRANTORY_DATA_DIR') ?? './data';

  return {
    secretKey,
    publicUrl,
    tokenTtlSeconds: int('GRANTORY_TOKEN_TTL', 900, 60, 86_400),
    tokenAudience: get('GRANTORY_TOKEN_AUDIENCE') ?? 'urn:grantory:api',
    signingKeyRotationDays: int('GRANTORY_SIGNING_KEY_ROTATION_DAYS', 90, 0, 3650),
    externalIssuer,
    sessions,
    consoleOidc,
    rateLimits: {
      windowSeconds: int('GRANTORY_RATE_LIMIT_WINDOW', 60, 1, 86_400),
      perCredential: int('GRANTORY_RATE_LIMIT', 600, 0, 1_000_000_000),
      decisionPerCredential: int('GRANTORY_DECISION_RATE_LIMIT', 6_000_000, 0, 1_000_000_000),
      tokenPerClient: int('GRANTORY_TOKEN_RATE_LIMIT', 60, 0, 1_000_000),
      authFailuresPerIp: int('GRANTORY_AUTH_FAILURE_LIMIT', 30, 0, 1_000_000),
    },
    connections: connectionLimits(int),
    port,
    host: get('GRANTORY_HOST') ?? '0.0.0.0',
    dataDir,
    databaseUrl,
    bootstrapAdminKey,
    logLevel,
    logFormat,
    accessLog,
    slowRequestMs: int('GRANTORY_SLOW_REQUEST_MS', 1000, 1, 3_600_000),
    workers: int('GRANTORY_WORKERS', Math.min(availableParallelism(), MAX_DEFAULT_WORKERS), 1, 64),
    bodyLimit,
    sqliteSynchronous: sync,
    auditCheckpointIntervalMs,
    deliveryIntervalMs,
    schedulerIntervalMs,
    historyRetentionDays,
    schedulerLeaseSeconds,
    importDir: get('GRANTORY_IMPORT_DIR') ?? `${dataDir.replace(/\/+$/, '')}/imports`,
    importUploadLimit,
    importLeaseSeconds,
  };
}

function connectionLimits(int: (name: string, fallback: number, min: number, max: number) => number): ConnectionLimits {
  const d = DEFAULT_CONNECTION_LIMITS;
  const seconds = (name: string, fallbackMs: number, min: number, max: number) => int(name, fallbackMs / 1000, min, max) * 1000;
  return {
    headersTimeoutMs: seconds('GRANTORY_HEADERS_TIMEOUT', d.headersTimeoutMs, 1, 300),
    requestTimeoutMs: seconds('GRANTORY_REQUEST_TIMEOUT', d.requestTimeoutMs, 1, 3600),
    uploadTimeoutMs: seconds('GRANTORY_UPLOAD_TIMEOUT', d.uploadTimeoutMs, 1, 86_400),
    keepAliveTimeoutMs: seconds('GRANTORY_KEEP_ALIVE_TIMEOUT', d.keepAliveTimeoutMs, 1, 300),
    maxConnections: int('GRANTORY_MAX_CONNECTIONS', d.maxConnections, 1, 1_000_000),
    shutdownGraceMs: seconds('GRANTORY_SHUTDOWN_GRACE', d.shutdownGraceMs, 0, 3600),
  };
}
