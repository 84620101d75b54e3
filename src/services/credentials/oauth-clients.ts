/**
 * OAuth 2.0 clients for machine callers (client credentials grant). A client uses the rights
 * of its identity (`identityId`) or, without one, those of an application key for its
 * application (`applicationId`: `read-permissions-my-application`); either way narrowed by
 * its scopes and capped by the current rights of the identity on whose authority it was
 * made (credential-authority.ts). The secret (`gtyc_...`, prefix plus checksum) is returned
 * once by {@link createClient} and stored as a keyed hash. Nobody may create a client
 * holding rights beyond their own; one acting as another identity needs
 * `manage-credentials-of-others`. Deleting a client makes its tokens stop working on the
 * next request (every token check finds its client).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AppError, notFound } from '../../domain/errors.ts';
import type { Right } from '../../domain/rights.ts';
import { ALL_RIGHTS_SCOPE, narrowRights } from '../../domain/scopes.ts';
import { generateSecret } from '../../domain/secret-format.ts';
import type { Database } from '../../store/schema.ts';
import { requireRight, type Actor, writeAs } from '../kernel/index.ts';
import { APP_KEY_RIGHTS, validateScopes } from './application-keys.ts';
import { authorityOfNewCredential, capByAuthority, requireActingAsRight, requireWithinCaller } from './authority.ts';
import type { ServiceDeps } from '../deps.ts';
import { grantoryRights } from '../access/index.ts';

export const CLIENT_SECRET_PREFIX = 'gtyc';

export interface ClientView {
  id: string;
  clientId: string;
  name: string;
  scopes: string[];
  applicationId: string | null;
  identityId: string | null;
  /** The identity whose current rights cap the client's; null: not capped (made by the system). */
  authorityId: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  createdBy: string | null;
}

export interface CreateClientInput {
  name: string;
  /** The scopes the client may ask for; default `grantory:*` (every right of its identity). */
  scopes?: string[] | undefined;
  applicationId?: string | null | undefined;
  /**
   * Whose rights the client uses; `null` for a client bound only to its application. Default:
   * none when `applicationId` is given, else the caller's identity.
   */
  identityId?: string | null | undefined;
}

export function toClientView(row: Database['oauth_clients']): ClientView {
  return {
    id: row.id,
    clientId: row.client_id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as string[],
    applicationId: row.application_id,
    identityId: row.identity_id,
    authorityId: row.authority_id,
    lastUsedAt: row.last_used_at,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

/** The rights a client's tokens carry before token scopes narrow them (and its authority caps them). */
export async function clientBaseRights(
  deps: ServiceDeps,
  tenantId: string,
  client: Pick<Database['oauth_clients'], 'identity_id' | 'application_id'>,
  now: string,
  knownRevision?: number,
): Promise<Set<Right>> {
  if (client.identity_id) return grantoryRights(deps, tenantId, client.identity_id, now, knownRevision);
  if (client.application_id) return new Set(APP_KEY_RIGHTS);
  return new Set();
}

/** The rights of a token with `scopes` of `client`: its base rights, narrowed, capped by its authority. */
export async function clientRights(
  deps: ServiceDeps,
  client: Pick<Database['oauth_clients'], 'tenant_id' | 'identity_id' | 'application_id' | 'authority_id'>,
  scopes: readonly string[],
  now: string,
  knownRevision?: number,
): Promise<Set<Right>> {
  const narrowed = narrowRights(await clientBaseRights(deps, client.tenant_id, client, now, knownRevision), scopes);
  return capByAuthority(deps, client.tenant_id, narrowed, { identityId: client.identity_id, authorityId: client.authority_id }, now, knownRevision);
}

export async function createClient(
  deps: ServiceDeps,
  actor: Actor,
  input: CreateClientInput,
): Promise<{ client: ClientView & { clientSecret: string }; revision: number }> {
  requireRight(actor, 'manage-clients');
  const { tenantId } = actor.caller;
  const applicationId = input.applicationId ?? null;
  // A client bound to an application acts as no identity unless one is named.
  const identityId = input.identityId !== undefined ? input.identityId : applicationId ? null : actor.caller.identityId;
  if (!identityId && !applicationId) {
    throw new AppError('validation_failed', 'a client needs an identityId (whose rights it uses) or an applicationId', {
      errors: [{ field: 'identityId', message: 'is required when applicationId is not given' }],
    });
  }
  const scopes = input.scopes ?? [ALL_RIGHTS_SCOPE];
  validateScopes(scopes);
  if (!scopes.length) throw new AppError('validation_failed', 'scopes must not be empty', { errors: [{ field: 'scopes', message: 'must not be empty' }] });
  requireActingAsRight(actor, identityId);

  const scope = deps.store.read(tenantId);
  if (identityId) {
    const identity = await scope.db.selectFrom('identities').select('id').where('id', '=', identityId).executeTakeFirst();
    if (!identity) throw notFound('identity', identityId);
  }
  if (applicationId) {
    const app = await scope.db.selectFrom('applications').select('id').where('id', '=', applicationId).executeTakeFirst();
    if (!app) throw notFound('application', applicationId);
  }
  const now = deps.now().toISOString();
  requireWithinCaller(actor, narrowRights(await clientBaseRights(deps, tenantId, { identity_id: identityId, application_id: applicationId }, now), scopes), 'client');

  const clientSecret = generateSecret(CLIENT_SECRET_PREFIX);
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const row: Database['oauth_clients'] = {
      id: randomUUID(),
      tenant_id: tenantId,
      client_id: `gtyc-${randomBytes(12).toString('hex')}`,
      name: input.name,
      secret_hash: deps.secrets.hashCredential(clientSecret),
      scopes: JSON.stringify(scopes),
      application_id: applicationId,
      identity_id: identityId,
      last_used_at: null,
      created_at: tx.now,
      created_by: actor.caller.id,
      authority_id: authorityOfNewCredential(actor.caller),
    };
    await tx.db.insertInto('oauth_clients').values(row).execute();
    const view = toClientView(row);
    tx.audit({ action: 'client.create', targetType: 'client', targetId: row.id, after: view });
    tx.change('client', row.id, 'create');
    return view;
  });
  return { client: { ...value, clientSecret }, revision };
}

export async function listClients(deps: ServiceDeps, actor: Actor): Promise<ClientView[]> {
  requireRight(actor, 'manage-clients');
  const { db } = deps.store.read(actor.caller.tenantId);
  const rows = await db.selectFrom('oauth_clients').selectAll().orderBy('created_at').orderBy('id').limit(1000).execute();
  return rows.map(toClientView);
}

export async function deleteClient(deps: ServiceDeps, actor: Actor, id: string): Promise<{ revision: number }> {
  requireRight(actor, 'manage-clients');
  const { revision } = await writeAs(deps, actor, async (tx) => {
    // Either the client's id or its public client_id names it.
    const row = await tx.db
      .selectFrom('oauth_clients')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', id), eb('client_id', '=', id)]))
      .executeTakeFirst();
    if (!row) throw notFound('client', id);
    await tx.db.deleteFrom('oauth_clients').where('id', '=', row.id).execute();
    tx.audit({ action: 'client.delete', targetType: 'client', targetId: row.id, before: toClientView(row) });
    tx.change('client', row.id, 'delete');
  });
  return { revision };
}
