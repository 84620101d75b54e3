/**
 * What the services are built from: the store, the clock, the server secrets, the settings and
 * the optional parts (the access index, directory listeners, import settings). Types only: this
 * module imports nothing from the services that use it.
 */
import type { ConsoleOidcConfig, SessionConfig } from '../config.ts';
import type { ServerSecrets } from '../domain/server-secrets.ts';
import type { AccessEngine } from '../engine/engine.ts';
import type { Store, WriteTx } from '../store/store.ts';
import type { IdentityView, OrgUnitView } from './directory/views.ts';
import type { Actor } from './kernel/actor.ts';
import type { CredentialCache } from './credentials/credential-cache.ts';

export interface ServiceDeps {
  store: Store;
  /** The clock every service reads; tests may pass a fixed one. */
  now: () => Date;
  /** Keys derived from the server secret: credential hashing and signing-key encryption. */
  secrets: ServerSecrets;
  /**
   * Credentials read for authentication, kept while their tenant's revision is unchanged
   * (credentials/credential-cache.ts); created by createServices, absent: every request reads.
   */
  credentialCache?: CredentialCache;
  /** Token settings; defaults to {@link DEFAULT_SECURITY} with issuer `http://localhost`. */
  security?: Partial<SecuritySettings> | undefined;
  /** Listeners run inside identity / organization-unit writes (e.g. assignment rules). */
  directoryHooks?: DirectoryHooks;
  /** The in-memory access index (check, list, holders, explain, drift; see src/engine). */
  access?: AccessEngine;
  /** Application imports: the import directory and upload limit (defaults: ./data/imports, 1 GiB). */
  imports?: ImportSettings;
  /** What the durable scheduler runs, by job kind (src/services/kernel/scheduler.ts); assembled in services/index.ts. */
  jobHandlers?: Readonly<Record<string, JobHandler>>;
  /** Called, inside the write that marks it failed, when a job of that kind has failed its last attempt. */
  jobFailureHandlers?: Readonly<Record<string, JobFailureHandler>>;
  /** What happens to a subject when its approval ends (access requests, personnel events); run inside the deciding write. */
  approvalOutcomes?: Readonly<Partial<Record<ApprovalSubjectKind, ApprovalOutcomeHandler>>>;
  /** Listeners run inside the write that applies an import (e.g. verifying access requests' provisioning). */
  afterImportApply?: readonly ImportApplyListener[];
}

/** A job of the durable scheduler as its handler sees it. */
export interface ScheduledJob {
  id: string;
  tenantId: string;
  kind: string;
  subjectId: string;
  key: string;
  /** When it was due (ISO 8601): the moment its effect belongs to, even when it runs late. */
  dueAt: string;
  /** Earlier attempts that failed (0 on the first run). */
  attempts: number;
  payload: unknown;
  /**
   * True when other jobs ran before it in the same write (a batch): their changes are not
   * committed yet, so the last commit is not "the state before this job" (a personnel event's
   * stage is still judged against it by the rights guard: see `withRightsGuard`).
   */
  batched?: boolean;
}

/**
 * Runs a due job inside the write that marks it done: its effect and "done" commit together,
 * or neither. It records audit events for what it changes (the scheduler records one for the
 * run when it records none). Throwing rolls its effect back; the job is retried later.
 */
export type JobHandler = (deps: ServiceDeps, tx: WriteTx, job: ScheduledJob) => Promise<void>;
export type JobFailureHandler = (deps: ServiceDeps, tx: WriteTx, job: ScheduledJob, error: string) => Promise<void>;

export type ApprovalSubjectKind = 'access_request' | 'personnel_event';

/** Called inside the write that decides a subject's last approval step (or rejects one). */
/** The decision that approved a subject's last step (absent when a policy approved it at once). */
export interface ApprovalDecision {
  actor: Actor;
  comment: string | null;
}

export interface ApprovalOutcomeHandler {
  approved(deps: ServiceDeps, tx: WriteTx, subjectId: string, decision?: ApprovalDecision): Promise<void>;
  rejected(deps: ServiceDeps, tx: WriteTx, subjectId: string, comment: string | null): Promise<void>;
}

/** Called inside the write that applied an import of `applicationId` (after its accounts and grants changed). */
export type ImportApplyListener = (deps: ServiceDeps, tx: WriteTx, applied: { applicationId: string; importId: string }) => Promise<void>;

export interface ImportSettings {
  importDir: string;
  uploadLimit: number;
  /** Called after an import is queued, so this node's worker starts it without waiting for its next poll. */
  notify?: () => void;
  /**
   * Called at each cancel point of a running import (while reading its files, and between
   * chunks of its apply transaction), before the cancel is checked: for instrumentation and
   * for tests that act at an exact point of an import.
   */
  onCheckpoint?: (point: { tenantId: string; importId: string; where: string; signal: AbortSignal }) => Promise<void> | void;
}

export interface SecuritySettings {
  /** The `iss` of Grantory's access tokens (its public base URL); read when a token is made or checked. */
  issuer: () => string;
  /** The `aud` of Grantory's access tokens. */
  audience: string;
  accessTokenTtlSeconds: number;
  /** Allowed clock difference when checking `exp`, `nbf` and `iat`. */
  clockToleranceSeconds: number;
  keyRing: KeyRingSettings;
  /** Accept tokens from this external issuer too (null: only Grantory's own). */
  externalIssuer: ExternalIssuerSettings | null;
  /** Signed-in sessions and local passwords (console sign-in, the Checkmarx password grant). */
  sessions: SessionSettings;
  /** Console sign-in through an external OpenID Connect provider (null: not offered). */
  consoleOidc: ConsoleOidcSettings | null;
}

/** Console sessions and password sign-in: idle and absolute expiry, lockout, the sign-in tenant (config.ts documents each). */
export type SessionSettings = SessionConfig;

/** Console sign-in through an external OpenID Connect provider (config.ts documents each field). */
export type ConsoleOidcSettings = ConsoleOidcConfig;

export interface KeyRingSettings {
  /** A signing key older than this is replaced by a new one (0 disables automatic rotation). */
  rotationDays: number;
  /** How long a retired key stays published: at least the longest token lifetime plus clock skew. */
  retiredKeyTtlSeconds: number;
  /** How often a node reloads the ring from the store. */
  reloadSeconds: number;
}

export interface ExternalIssuerSettings {
  issuer: string;
  audience: string;
  jwksUrl?: string | undefined;
  jwksFile?: string | undefined;
  /** The name of the tenant whose identities the tokens' subjects name. */
  tenant: string;
  subjectClaim: string;
  algorithms: string[];
}

/** `before` is null on create, `after` is null on delete. */
export interface Change<T> {
  before: T | null;
  after: T | null;
}

export type IdentityChangeListener = (tx: WriteTx, change: Change<IdentityView>) => Promise<void>;
export type OrgUnitChangeListener = (tx: WriteTx, change: Change<OrgUnitView>) => Promise<void>;

export interface DirectoryHooks {
  /** Called for every identity created, changed (including its unit) or deleted. */
  afterIdentityChange?: readonly IdentityChangeListener[];
  /**
   * Called for every organization unit created, renamed, moved or deleted; on a move, once
   * for the moved unit (its descendants' paths change with it, see `tx.change` entries).
   */
  afterOrgUnitChange?: readonly OrgUnitChangeListener[];
}
