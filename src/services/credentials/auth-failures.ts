/**
 * Failed authentications, recorded as audit events (`auth.failure`) without the secret:
 * in the tenant the credential claims when that is known (a key that exists but expired, a
 * client id that exists), otherwise in the default tenant. Recording never blocks the
 * request: failures are queued (bounded; beyond the bound they are counted and dropped)
 * and written after the response, one audited write each.
 *
 * ```ts
 * const failures = createAuthFailureRecorder(deps);
 * failures.record({ tenantId: null, credentialType: 'api_key', credentialId: null, label: 'gty_AbCd', reason: 'unknown key', meta });
 * await failures.flush(); // on shutdown, and in tests
 * ```
 */
import type { RequestMeta } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';

export const DEFAULT_TENANT_NAME = 'default';

export interface AuthFailure {
  /** The tenant the credential belongs to, when the credential was found. */
  tenantId: string | null;
  credentialType: 'api_key' | 'app_key' | 'client' | 'access_token' | 'external_token' | 'session' | 'none';
  /** The credential's id when it was found (never the secret). */
  credentialId: string | null;
  /** A non-secret label: a key prefix, a client id, a token's issuer. */
  label: string | null;
  reason: string;
  meta: RequestMeta;
}

export interface AuthFailureRecorder {
  record(failure: AuthFailure): void;
  /** Resolves once every queued failure has been written (or failed to be). */
  flush(): Promise<void>;
  /** Failures dropped because the queue was full, since start. */
  readonly dropped: number;
}

export function createAuthFailureRecorder(deps: ServiceDeps, options: { maxQueue?: number; onError?: (e: unknown) => void } = {}): AuthFailureRecorder {
  const maxQueue = options.maxQueue ?? 1000;
  const queue: AuthFailure[] = [];
  let running: Promise<void> | null = null;
  let dropped = 0;
  let defaultTenantId: string | null = null;

  async function tenantFor(failure: AuthFailure): Promise<string | null> {
    if (failure.tenantId) return failure.tenantId;
    defaultTenantId ??= (await deps.store.findTenantByName(DEFAULT_TENANT_NAME))?.id ?? null;
    return defaultTenantId;
  }

  async function writeOne(failure: AuthFailure): Promise<void> {
    const tenantId = await tenantFor(failure);
    if (!tenantId) return;
    const { meta } = failure;
    await deps.store.write(
      tenantId,
      {
        actorType: 'anonymous',
        actorId: failure.credentialId,
        actorName: failure.label,
        requestId: meta.requestId,
        sourceIp: meta.sourceIp,
        sourcePort: meta.sourcePort,
        userAgent: meta.userAgent,
        origin: meta.origin,
      },
      async (tx) => {
        tx.audit({
          action: 'auth.failure',
          targetType: failure.credentialType,
          targetId: failure.credentialId,
          after: { reason: failure.reason, credentialType: failure.credentialType, label: failure.label },
        });
      },
    );
  }

  async function drain(): Promise<void> {
    // Let the response go out first.
    await new Promise<void>((r) => setImmediate(r));
    for (let next = queue.shift(); next; next = queue.shift()) {
      try {
        await writeOne(next);
      } catch (e) {
        options.onError?.(e);
      }
    }
  }

  function start(): Promise<void> {
    running ??= drain().finally(() => {
      running = null;
      if (queue.length) void start();
    });
    return running;
  }

  return {
    record(failure) {
      if (queue.length >= maxQueue) {
        dropped += 1;
        return;
      }
      queue.push(failure);
      void start();
    },
    async flush() {
      while (running || queue.length) await start();
    },
    get dropped() {
      return dropped;
    },
  };
}
