/**
 * Local passwords: how people sign in to the console (and Checkmarx scripts get a token with
 * the password grant) without an external identity provider.
 *
 * - Stored as argon2id (`@node-rs/argon2`, its defaults: 19 MiB, 2 passes, 1 lane — the
 *   OWASP minimum), a PHC string in `identity_passwords`; never logged, never audited.
 * - Policy ({@link checkPasswordPolicy}): 12 to 256 characters, not the identity's username,
 *   subject or e-mail address (nor containing one of them), not one character repeated.
 * - Set by the identity itself or by a holder of `manage-users`. Either way the identity's
 *   Grantory rights must be within the caller's own ({@link requireWithinCallerRights}): a
 *   password lets whoever knows it act with every right of the identity, so setting one for
 *   an identity that holds more than the caller (or, for a scoped or capped key, more than
 *   the key) would be an escalation. Refused with 403 naming the rights.
 * - Sign-in ({@link verifyPasswordSignIn}): after `maxFailures` failures within
 *   `failureWindowSeconds` the identity is locked for `lockoutSeconds`; every outcome is
 *   audited (`auth.signIn`, `auth.failure`, `auth.lockout`). An unknown username costs one
 *   argon2 verification too, so it takes as long as a wrong password.
 */
import { hash, verify, Algorithm } from '@node-rs/argon2';
import { AppError, notFound } from '../../domain/errors.ts';
import type { Database } from '../../store/schema.ts';
import { requireRight, writeAs, type Actor, type RequestMeta } from '../kernel/index.ts';
import type { ServiceDeps, SessionSettings } from '../deps.ts';
import { grantoryRights } from '../access/index.ts';
import { requireWithinCaller } from './authority.ts';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

const ARGON2 = { algorithm: Algorithm.Argon2id } as const;

type IdentityRow = Pick<Database['identities'], 'id' | 'subject' | 'username' | 'email' | 'display_name' | 'status'>;

/** Field errors for a password that breaks the policy (empty when it is acceptable). */
export function checkPasswordPolicy(password: string, identity: Pick<IdentityRow, 'subject' | 'username' | 'email'>): string[] {
  const problems: string[] = [];
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) problems.push(`must have at least ${MIN_PASSWORD_LENGTH} characters`);
  if (length > MAX_PASSWORD_LENGTH) problems.push(`must have at most ${MAX_PASSWORD_LENGTH} characters`);
  if (length > 0 && new Set(password).size === 1) problems.push('must not be one character repeated');
  const lower = password.normalize('NFKC').toLowerCase();
  const names = [identity.username, identity.subject, identity.email, identity.email?.split('@')[0]]
    .filter((n): n is string => typeof n === 'string' && n.length >= 3)
    .map((n) => n.normalize('NFKC').toLowerCase());
  if (names.some((n) => lower.includes(n))) problems.push("must not contain the identity's username, subject or e-mail address");
  return problems;
}

async function loadIdentity(deps: ServiceDeps, tenantId: string, identityId: string): Promise<IdentityRow> {
  const row = await deps.store
    .read(tenantId)
    .db.selectFrom('identities')
    .select(['id', 'subject', 'username', 'email', 'display_name', 'status'])
    .where('id', '=', identityId)
    .executeTakeFirst();
  if (!row) throw notFound('identity', identityId);
  return row;
}

/**
 * Who may set or remove an identity's password: the identity itself or a holder of
 * `manage-users`, and only for an identity whose Grantory rights the caller holds too.
 */
async function requireMayManagePassword(deps: ServiceDeps, actor: Actor, identityId: string): Promise<void> {
  if (actor.caller.identityId !== identityId) requireRight(actor, 'manage-users');
  if (actor.caller.kind === 'system') return;
  const rights = await grantoryRights(deps, actor.caller.tenantId, identityId, deps.now().toISOString());
  requireWithinCaller(actor, rights, 'password');
}

export async function setPassword(deps: ServiceDeps, actor: Actor, identityId: string, password: unknown): Promise<{ revision: number }> {
  const { tenantId } = actor.caller;
  const identity = await loadIdentity(deps, tenantId, identityId);
  await requireMayManagePassword(deps, actor, identityId);
  if (typeof password !== 'string') throw new AppError('validation_failed', 'password is required', { errors: [{ field: '/password', message: 'is required' }] });
  const problems = checkPasswordPolicy(password, identity);
  if (problems.length) {
    throw new AppError('validation_failed', `the password ${problems.join('; ')}`, { errors: problems.map((message) => ({ field: '/password', message })) });
  }
  const passwordHash = await hash(password, ARGON2);
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const existing = await tx.db
      .selectFrom('identity_passwords')
      .select('identity_id')
      .where('identity_id', '=', identityId)
      .executeTakeFirst();
    const row = { password_hash: passwordHash, updated_at: tx.now, updated_by: actor.caller.id, failed_count: 0, failure_window_start: null, locked_until: null };
    if (existing) {
      await tx.db.updateTable('identity_passwords').set(row).where('identity_id', '=', identityId).execute();
    } else {
      await tx.db.insertInto('identity_passwords').values({ tenant_id: tx.tenantId, identity_id: identityId, ...row }).execute();
    }
    // A new password ends the sessions opened with the old one.
    await tx.db.deleteFrom('sessions').where('identity_id', '=', identityId).where('method', 'in', ['password', 'token']).execute();
    tx.audit({ action: 'identity.password.set', targetType: 'identity', targetId: identityId, after: { replaced: Boolean(existing), self: actor.caller.identityId === identityId } });
  });
  return { revision };
}

export async function removePassword(deps: ServiceDeps, actor: Actor, identityId: string): Promise<{ revision: number }> {
  const { tenantId } = actor.caller;
  await loadIdentity(deps, tenantId, identityId);
  await requireMayManagePassword(deps, actor, identityId);
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const deleted = await tx.db.deleteFrom('identity_passwords').where('identity_id', '=', identityId).executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) throw new AppError('not_found', `identity ${identityId} has no password`);
    await tx.db.deleteFrom('sessions').where('identity_id', '=', identityId).where('method', 'in', ['password', 'token']).execute();
    tx.audit({ action: 'identity.password.remove', targetType: 'identity', targetId: identityId, after: { self: actor.caller.identityId === identityId } });
  });
  return { revision };
}

/** A refused password sign-in: the same message whether or not the username exists. */
export class SignInRefused extends AppError {
  constructor(
    message: string,
    /** Seconds until a locked identity may try again (absent when not locked). */
    readonly retryAfterSeconds?: number,
  ) {
    super('unauthenticated', message);
  }
}

export const WRONG_CREDENTIALS = 'the username or password is wrong';

let dummyHash: Promise<string> | null = null;
/** A hash to verify against when the username is unknown, so both take as long. */
function dummy(): Promise<string> {
  dummyHash ??= hash('grantory-no-such-user-placeholder', ARGON2);
  return dummyHash;
}

export interface SignedInIdentity {
  tenantId: string;
  identityId: string;
  name: string;
}

type Via = 'console' | 'checkmarx_password_grant' | 'password_grant';

/**
 * Checks a username and password in the sign-in tenant. Every outcome is an audit event in
 * that tenant; failures count towards the identity's lockout.
 */
export async function verifyPasswordSignIn(
  deps: ServiceDeps,
  settings: SessionSettings,
  input: { username: string; password: string; via: Via },
  meta: RequestMeta,
): Promise<SignedInIdentity> {
  const tenant = await deps.store.findTenantByName(settings.tenant);
  const username = input.username.normalize('NFC');
  const found =
    tenant && username.length > 0 && username.length <= 300 && input.password.length <= 4 * MAX_PASSWORD_LENGTH
      ? await deps.store
          .read(tenant.id)
          .db.selectFrom('identities')
          .innerJoin('identity_passwords', (j) => j.onRef('identity_passwords.identity_id', '=', 'identities.id').onRef('identity_passwords.tenant_id', '=', 'identities.tenant_id'))
          .select(['identities.id', 'identities.subject', 'identities.display_name', 'identities.status', 'identity_passwords.password_hash', 'identity_passwords.locked_until'])
          .where((eb) => eb.or([eb('identities.username', '=', username), eb('identities.subject', '=', username)]))
          .orderBy('identities.username')
          .executeTakeFirst()
      : undefined;
  const now = deps.now();
  const nowIso = now.toISOString();
  const label = input.username.slice(0, 100);

  const audit = async (action: string, identityId: string | null, after: Record<string, unknown>, update?: (tx: Parameters<Parameters<typeof deps.store.write>[2]>[0]) => Promise<void>) => {
    if (!tenant) return;
    await deps.store.write(
      tenant.id,
      { actorType: 'anonymous', actorId: identityId, actorName: label, requestId: meta.requestId, sourceIp: meta.sourceIp, sourcePort: meta.sourcePort, userAgent: meta.userAgent, origin: meta.origin },
      async (tx) => {
        await update?.(tx);
        tx.audit({ action, targetType: 'identity', targetId: identityId, after: { username: label, via: input.via, ...after } });
      },
    );
  };

  if (!found) {
    await verify(await dummy(), input.password).catch(() => false);
    await audit('auth.failure', null, { reason: 'wrong username or password', credentialType: 'password' });
    throw new SignInRefused(WRONG_CREDENTIALS);
  }
  if (found.locked_until && found.locked_until > nowIso) {
    // Verified anyway, so a locked account answers as slowly as any other.
    await verify(found.password_hash, input.password).catch(() => false);
    const retryAfter = Math.max(1, Math.ceil((Date.parse(found.locked_until) - now.getTime()) / 1000));
    await audit('auth.failure', found.id, { reason: 'locked out', credentialType: 'password', lockedUntil: found.locked_until });
    throw new SignInRefused('too many failed sign-ins: this account is locked for now, try again later', retryAfter);
  }
  const ok = await verify(found.password_hash, input.password).catch(() => false);
  if (ok && found.status === 'active') {
    await audit('auth.signIn', found.id, { method: 'password' }, async (tx) => {
      await tx.db
        .updateTable('identity_passwords')
        .set({ failed_count: 0, failure_window_start: null, locked_until: null })
        .where('identity_id', '=', found.id)
        .execute();
    });
    return { tenantId: tenant!.id, identityId: found.id, name: found.display_name ?? found.subject };
  }
  // A wrong password (or an identity that is not active): counted towards the lockout.
  let lockedUntil: string | null = null;
  await audit('auth.failure', found.id, { reason: ok ? `the identity is ${found.status}` : 'wrong username or password', credentialType: 'password' }, async (tx) => {
    const row = await tx.db
      .selectFrom('identity_passwords')
      .select(['failed_count', 'failure_window_start'])
      .where('identity_id', '=', found.id)
      .executeTakeFirst();
    if (!row) return;
    const windowStart = row.failure_window_start && Date.parse(row.failure_window_start) > now.getTime() - settings.failureWindowSeconds * 1000 ? row.failure_window_start : nowIso;
    const count = (windowStart === row.failure_window_start ? Number(row.failed_count) : 0) + 1;
    const lock = settings.maxFailures > 0 && count >= settings.maxFailures;
    lockedUntil = lock ? new Date(now.getTime() + settings.lockoutSeconds * 1000).toISOString() : null;
    await tx.db
      .updateTable('identity_passwords')
      .set(lock ? { failed_count: 0, failure_window_start: null, locked_until: lockedUntil } : { failed_count: count, failure_window_start: windowStart })
      .where('identity_id', '=', found.id)
      .execute();
    if (lock) tx.audit({ action: 'auth.lockout', targetType: 'identity', targetId: found.id, after: { username: label, failures: count, lockedUntil } });
  });
  throw new SignInRefused(WRONG_CREDENTIALS);
}
