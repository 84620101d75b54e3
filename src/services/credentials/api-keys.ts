/**
 * API keys: credentials that act as an identity. The secret is returned once, by
 * `createApiKey`, and stored only as a keyed hash (HMAC with the server secret). Nobody may
 * create a key for rights beyond their own: the key's identity's rights, narrowed by its
 * scopes, must be held by the creator. A key for another identity needs
 * `manage-credentials-of-others`, and every key stays capped by the current rights of the
 * identity on whose authority it was made (credential-authority.ts).
 */
import { randomUUID } from 'node:crypto';
import { AppError, notFound } from '../../domain/errors.ts';
import { generateSecret } from '../../domain/secret-format.ts';
import type { Database } from '../../store/schema.ts';
import { requireRight, type Actor, writeAs } from '../kernel/index.ts';
import { validateScopes } from './application-keys.ts';
import { API_KEY_PREFIX, narrowRights } from './authentication.ts';
import { authorityOfNewCredential, requireActingAsRight, requireWithinCaller } from './authority.ts';
import type { ServiceDeps } from '../deps.ts';
import { keySecretView, newKeySecretRow, type KeySecretInput, type KeySecretView } from './key-secrets.ts';
import { grantoryRights } from '../access/index.ts';

export interface ApiKeyView extends KeySecretView {
  id: string;
  identityId: string;
  /** The identity whose current rights cap the key's; null: not capped (made by the system). */
  authorityId: string | null;
}

export interface CreateApiKeyInput extends KeySecretInput {
  identityId?: string | undefined;
}

export function toApiKeyView(row: Database['api_keys']): ApiKeyView {
  return { id: row.id, identityId: row.identity_id, authorityId: row.authority_id, ...keySecretView(row) };
}

export async function createApiKey(
  deps: ServiceDeps,
  actor: Actor,
  input: CreateApiKeyInput,
): Promise<{ key: ApiKeyView & { secret: string }; revision: number }> {
  requireRight(actor, 'manage-clients');
  const { tenantId } = actor.caller;
  const identityId = input.identityId ?? actor.caller.identityId;
  if (!identityId) throw new AppError('validation_failed', 'identityId is required', { errors: [{ field: 'identityId', message: 'is required' }] });
  requireActingAsRight(actor, identityId);
  const now = deps.now().toISOString();
  if (input.expiresAt && input.expiresAt <= now) {
    throw new AppError('validation_failed', 'expiresAt must be in the future', { errors: [{ field: 'expiresAt', message: 'must be in the future' }] });
  }
  const scope = deps.store.read(tenantId);
  const identity = await scope.db
    .selectFrom('identities')
    .select(['id'])
    .where('id', '=', identityId)
    .executeTakeFirst();
  if (!identity) throw notFound('identity', identityId);

  const scopes = input.scopes ?? null;
  validateScopes(scopes);
  requireWithinCaller(actor, narrowRights(await grantoryRights(deps, tenantId, identityId, now), scopes), 'key');

  const secret = generateSecret(API_KEY_PREFIX);
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const row: Database['api_keys'] = {
      id: randomUUID(),
      tenant_id: tenantId,
      identity_id: identityId,
      hash_scheme: 'hmac-sha256',
      ...newKeySecretRow(deps, tx, actor, secret, input),
      authority_id: authorityOfNewCredential(actor.caller),
    };
    await tx.db.insertInto('api_keys').values(row).execute();
    const view = toApiKeyView(row);
    tx.audit({ action: 'api_key.create', targetType: 'api_key', targetId: row.id, after: view });
    tx.change('api_key', row.id, 'create');
    return view;
  });
  return { key: { ...value, secret }, revision };
}

export async function listApiKeys(deps: ServiceDeps, actor: Actor): Promise<ApiKeyView[]> {
  requireRight(actor, 'manage-clients');
  const { db } = deps.store.read(actor.caller.tenantId);
  const rows = await db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').limit(1000).execute();
  return rows.map(toApiKeyView);
}

export async function deleteApiKey(deps: ServiceDeps, actor: Actor, id: string): Promise<{ revision: number }> {
  requireRight(actor, 'manage-clients');
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const row = await tx.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('API key', id);
    await tx.db.deleteFrom('api_keys').where('id', '=', id).execute();
    tx.audit({ action: 'api_key.delete', targetType: 'api_key', targetId: id, before: toApiKeyView(row) });
    tx.change('api_key', id, 'delete');
  });
  return { revision };
}
