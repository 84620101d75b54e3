/**
 * Application keys: `Authorization: AppKey <key>`, bound to one application — the "my
 * application" of the CoreOne and Celonis profiles. A key acts as no identity; it carries
 * one right, `read-permissions-my-application` (reading its own application's
 * permissions), optionally narrowed further by scopes (e.g. `email` to include e-mail
 * addresses where a profile offers them). The secret (`gtya_...`, prefix plus checksum) is
 * shown once and stored as a keyed hash; deleting a key stops it on the next request.
 *
 * Creating one needs `manage-clients`, and — nobody grants what they do not hold — the
 * creator must itself be able to read permissions (`read-permissions-my-application` or
 * `read-permissions-any-application`).
 *
 * A key made with the Celonis scope `authorization.permissions` (either spelling) is a
 * team-level key, as a Celonis application key is: it reads every application's
 * permissions (`read-permissions-any-application`), so its creator must hold that right.
 */
import { randomUUID } from 'node:crypto';
import { AppError, notFound } from '../../domain/errors.ts';
import type { Right } from '../../domain/rights.ts';
import { hasScope, isKnownScope, narrowRights } from '../../domain/scopes.ts';
import { digestsEqual, generateSecret, hasValidChecksum } from '../../domain/secret-format.ts';
import type { Database } from '../../store/schema.ts';
import { credentialUsageIsStale } from '../../store/store.ts';
import { requireRight, type Actor, type Caller, writeAs } from '../kernel/index.ts';
import { CredentialRejected, secretLabel } from './authentication.ts';
import type { ServiceDeps } from '../deps.ts';
import { keySecretView, newKeySecretRow, type KeySecretInput, type KeySecretView } from './key-secrets.ts';

export const APP_KEY_PREFIX = 'gtya';
export const APP_KEY_RIGHTS: ReadonlySet<Right> = new Set<Right>(['read-permissions-my-application']);
/** The scope that makes an application key team-level. */
export const TEAM_KEY_SCOPE = 'authorization.permissions';
const TEAM_KEY_RIGHTS: ReadonlySet<Right> = new Set<Right>(['read-permissions-my-application', 'read-permissions-any-application']);

/** The rights an application key with these scopes carries before they narrow it. */
function appKeyBaseRights(scopes: readonly string[] | null): ReadonlySet<Right> {
  return hasScope(scopes, TEAM_KEY_SCOPE) ? TEAM_KEY_RIGHTS : APP_KEY_RIGHTS;
}

export interface ApplicationKeyView extends KeySecretView {
  id: string;
  applicationId: string;
}

export type CreateApplicationKeyInput = KeySecretInput;

function toView(row: Database['application_keys']): ApplicationKeyView {
  return { id: row.id, applicationId: row.application_id, ...keySecretView(row) };
}

export function validateScopes(scopes: readonly string[] | null | undefined, field = 'scopes'): void {
  const unknown = (scopes ?? []).filter((s) => !isKnownScope(s));
  if (unknown.length) {
    throw new AppError('validation_failed', `unknown scope ${unknown.map((s) => `"${s}"`).join(', ')}`, {
      errors: unknown.map((s) => ({ field, message: `"${s}" is not a known scope` })),
    });
  }
}

async function requireApplication(deps: ServiceDeps, tenantId: string, applicationId: string): Promise<void> {
  const app = await deps.store
    .read(tenantId)
    .db.selectFrom('applications')
    .select('id')
    .where('id', '=', applicationId)
    .executeTakeFirst();
  if (!app) throw notFound('application', applicationId);
}

export async function createApplicationKey(
  deps: ServiceDeps,
  actor: Actor,
  applicationId: string,
  input: CreateApplicationKeyInput,
): Promise<{ key: ApplicationKeyView & { secret: string }; revision: number }> {
  requireRight(actor, 'manage-clients');
  const { tenantId } = actor.caller;
  await requireApplication(deps, tenantId, applicationId);
  validateScopes(input.scopes);
  const now = deps.now().toISOString();
  if (input.expiresAt && input.expiresAt <= now) {
    throw new AppError('validation_failed', 'expiresAt must be in the future', { errors: [{ field: 'expiresAt', message: 'must be in the future' }] });
  }
  if (hasScope(input.scopes ?? null, TEAM_KEY_SCOPE) && !actor.caller.rights.has('read-permissions-any-application')) {
    throw new AppError('forbidden', "a key with the scope authorization.permissions reads every application's permissions, a right the caller does not hold", {
      details: { rightsBeyondCaller: ['read-permissions-any-application'] },
    });
  }
  if (!actor.caller.rights.has('read-permissions-my-application') && !actor.caller.rights.has('read-permissions-any-application')) {
    throw new AppError('forbidden', 'an application key reads its application\'s permissions, a right the caller does not hold', {
      details: { rightsBeyondCaller: ['read-permissions-my-application'] },
    });
  }
  const secret = generateSecret(APP_KEY_PREFIX);
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const row: Database['application_keys'] = {
      id: randomUUID(),
      tenant_id: tenantId,
      application_id: applicationId,
      ...newKeySecretRow(deps, tx, actor, secret, input),
    };
    await tx.db.insertInto('application_keys').values(row).execute();
    const view = toView(row);
    tx.audit({ action: 'application_key.create', targetType: 'application_key', targetId: row.id, after: view });
    tx.change('application_key', row.id, 'create');
    return view;
  });
  return { key: { ...value, secret }, revision };
}

export async function listApplicationKeys(deps: ServiceDeps, actor: Actor, applicationId: string): Promise<ApplicationKeyView[]> {
  requireRight(actor, 'manage-clients');
  const { tenantId } = actor.caller;
  await requireApplication(deps, tenantId, applicationId);
  const rows = await deps.store
    .read(tenantId)
    .db.selectFrom('application_keys')
    .selectAll()
    .where('application_id', '=', applicationId)
    .orderBy('created_at')
    .orderBy('id')
    .limit(1000)
    .execute();
  return rows.map(toView);
}

export async function deleteApplicationKey(deps: ServiceDeps, actor: Actor, applicationId: string, keyId: string): Promise<{ revision: number }> {
  requireRight(actor, 'manage-clients');
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const row = await tx.db
      .selectFrom('application_keys')
      .selectAll()
      .where('application_id', '=', applicationId)
      .where('id', '=', keyId)
      .executeTakeFirst();
    if (!row) throw notFound('application key', keyId);
    await tx.db.deleteFrom('application_keys').where('id', '=', keyId).execute();
    tx.audit({ action: 'application_key.delete', targetType: 'application_key', targetId: keyId, before: toView(row) });
    tx.change('application_key', keyId, 'delete');
  });
  return { revision };
}

export async function authenticateApplicationKey(deps: ServiceDeps, presented: string): Promise<Caller> {
  const label = secretLabel(presented);
  const reject = (message: string, tenantId: string | null = null, credentialId: string | null = null): never => {
    throw new CredentialRejected(message, { tenantId, credentialType: 'app_key', credentialId, label }, 'AppKey');
  };
  if (!hasValidChecksum(presented, APP_KEY_PREFIX)) return reject('the application key is not valid');
  const digest = deps.secrets.hashCredential(presented);
  const key = await deps.store.findApplicationKeyByHash(digest);
  if (!key || !digestsEqual(key.key_hash, digest)) return reject('the application key is not valid');
  const nowIso = deps.now().toISOString();
  if (key.expires_at && key.expires_at <= nowIso) reject('the application key has expired', key.tenant_id, key.id);
  const scopes = key.scopes === null ? null : (JSON.parse(key.scopes) as string[]);
  if (credentialUsageIsStale(key.last_used_at, nowIso)) await deps.store.touchCredential('application_keys', key.tenant_id, key.id, nowIso);
  return {
    tenantId: key.tenant_id,
    kind: 'app_key',
    id: key.id,
    name: `application key ${key.name}`,
    identityId: null,
    authorityId: null,
    scopes,
    rights: narrowRights(appKeyBaseRights(scopes), scopes),
    applicationId: key.application_id,
  };
}
