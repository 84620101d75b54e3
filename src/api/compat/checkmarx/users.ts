/**
 * `/Users`: identities, Checkmarx-shaped. Mapping (docs/compat-checkmarx.md):
 * `id` = identity number, `userName` = username, `active` = status `active`, `teamIds` =
 * the primary unit's number (at most one), `roleIds` = numbers of the roles assigned
 * directly (not revoked, context All), `expirationDate` = the `expirationDate` attribute.
 */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../../deps.ts';
import type { Actor } from '../../../services/kernel/index.ts';
import type { ServiceDeps } from '../../../services/deps.ts';
import { AppError } from '../../../domain/errors.ts';
import { roleIdsOfNumbers, roleNumbersOfIds } from '../../../services/catalog/index.ts';
import { createIdentityWithRoles, listDirectRoleIds, updateIdentityWithRoles } from '../../../services/access/index.ts';
import { deleteIdentity, getIdentityByNumber, listIdentities, type IdentityFields, type IdentityView, getOrgUnit, getOrgUnitByNumber } from '../../../services/directory/index.ts';
import { actorOf, REVISION_HEADER } from '../../request-context.ts';
import { needs } from '../../route-auth.ts';
import { Nullable } from '../../schemas.ts';
import { CxIdParams, collectAll, cxDescription, tags } from './shared.ts';

const EXPIRATION = 'expirationDate';

export const CxUser = Type.Object({
  id: Type.Integer({ description: 'The identity number' }),
  userName: Nullable(Type.String()),
  firstName: Nullable(Type.String()),
  lastName: Nullable(Type.String()),
  email: Nullable(Type.String()),
  roleIds: Type.Array(Type.Integer(), { description: 'Numbers of the roles assigned directly' }),
  teamIds: Type.Array(Type.Integer(), { description: "The primary organization unit's number (at most one)" }),
  active: Type.Boolean({ description: 'status is active' }),
  expirationDate: Nullable(Type.String({ description: 'Kept as given (the expirationDate attribute); not enforced' })),
  jobTitle: Nullable(Type.String({ description: 'The title attribute' })),
});

const Int = Type.Integer({ minimum: 0, maximum: 2147483647 });
const CxUserInput = Type.Object(
  {
    userName: Type.String({ minLength: 1, maxLength: 200 }),
    firstName: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    lastName: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    email: Type.Optional(Nullable(Type.String({ maxLength: 320, format: 'email' }))),
    roleIds: Type.Optional(Type.Array(Int, { maxItems: 100, uniqueItems: true })),
    teamIds: Type.Optional(Type.Array(Int, { maxItems: 1, description: 'At most one: Grantory keeps one primary unit per identity' })),
    active: Type.Optional(Type.Boolean()),
    expirationDate: Type.Optional(Nullable(Type.String({ maxLength: 40 }))),
    jobTitle: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    id: Type.Optional(Type.Integer({ description: 'Ignored' })),
  },
  { additionalProperties: false, examples: [{ userName: 'jdoe', firstName: 'Jane', lastName: 'Doe', email: 'jane.doe@example.com', roleIds: [2], teamIds: [1], active: true }] },
);
type CxUserBody = (typeof CxUserInput)['static'];

export async function toCxUsers(deps: ServiceDeps, actor: Actor, identities: IdentityView[]) {
  const roles = new Map<string, string[]>();
  for (const i of identities) roles.set(i.id, await listDirectRoleIds(deps, actor, i.id));
  const roleNumbers = await roleNumbersOfIds(deps, actor, [...new Set([...roles.values()].flat())]);
  const units = new Map<string, number>();
  for (const unitId of new Set(identities.map((i) => i.orgUnitId).filter((u): u is string => u !== null))) {
    units.set(unitId, (await getOrgUnit(deps, actor, unitId)).unit.number);
  }
  return identities.map((i) => ({
    id: i.number,
    userName: i.username,
    firstName: i.firstName,
    lastName: i.lastName,
    email: i.email,
    roleIds: (roles.get(i.id) ?? []).map((r) => roleNumbers.get(r)).filter((n): n is number => n !== undefined).sort((a, b) => a - b),
    teamIds: i.orgUnitId === null ? [] : [units.get(i.orgUnitId)!],
    active: i.status === 'active',
    expirationDate: i.attributes[EXPIRATION] ?? null,
    jobTitle: i.attributes.title ?? null,
  }));
}

/** The identity fields a Checkmarx user body sets (`current` keeps what Checkmarx does not know). */
async function identityFields(deps: ServiceDeps, actor: Actor, body: CxUserBody, current: IdentityView | null): Promise<IdentityFields> {
  const attributes = { ...(current?.attributes ?? {}) };
  const setAttribute = (key: string, value: string | null | undefined) => {
    if (value === undefined) return;
    if (value === null || value === '') delete attributes[key];
    else attributes[key] = value;
  };
  setAttribute(EXPIRATION, body.expirationDate);
  setAttribute('title', body.jobTitle);
  let orgUnitId: string | null | undefined;
  if (body.teamIds !== undefined) {
    const [team] = body.teamIds;
    orgUnitId = team === undefined ? null : await unitOfTeam(deps, actor, team);
  }
  let status: IdentityFields['status'];
  if (body.active === true) status = 'active';
  // Inactive: keep a status that is already not active (on leave stays on leave).
  else if (body.active === false) status = current && current.status !== 'active' ? (current.status as IdentityFields['status']) : 'terminated';
  return {
    username: body.userName,
    ...(body.firstName !== undefined ? { firstName: body.firstName } : {}),
    ...(body.lastName !== undefined ? { lastName: body.lastName } : {}),
    ...(body.email !== undefined ? { email: body.email } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(orgUnitId !== undefined ? { orgUnitId } : {}),
    attributes,
  };
}

async function unitOfTeam(deps: ServiceDeps, actor: Actor, team: number): Promise<string> {
  try {
    return (await getOrgUnitByNumber(deps, actor, team)).unit.id;
  } catch (e) {
    if (e instanceof AppError && e.code === 'not_found') {
      throw new AppError('validation_failed', `teamIds names a team that does not exist: ${team}`, { errors: [{ field: 'teamIds', message: `names a team that does not exist: ${team}` }] });
    }
    throw e;
  }
}

export function registerCxUserRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  const rights = needs('manage-users');

  app.get(
    '/Users',
    { config: rights, schema: { tags, summary: 'Checkmarx: get all users (identities)', description: cxDescription('Every identity, in id order. Needs manage-users.'), response: { 200: Type.Array(CxUser) } } },
    async (request) => {
      const actor = actorOf(request);
      return toCxUsers(sd, actor, await collectAll((page) => listIdentities(sd, actor, page)));
    },
  );

  app.get(
    '/Users/:id',
    { config: rights, schema: { tags, summary: 'Checkmarx: get a user', description: cxDescription('404 unknown id, 400 non-integer id.'), params: CxIdParams, response: { 200: CxUser } } },
    async (request) => {
      const actor = actorOf(request);
      const [user] = await toCxUsers(sd, actor, [(await getIdentityByNumber(sd, actor, request.params.id)).identity]);
      return user!;
    },
  );

  app.post(
    '/Users',
    {
      config: rights,
      schema: {
        tags,
        summary: 'Checkmarx: create a user',
        description: cxDescription('201 with the user. `roleIds` become direct role assignments (never beyond the caller\'s own rights).'),
        body: CxUserInput,
        response: { 201: CxUser },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const roleIds = await roleIdsOfNumbers(sd, actor, request.body.roleIds ?? [], 'roleIds');
      const fields = await identityFields(sd, actor, request.body, null);
      const created = await createIdentityWithRoles(sd, actor, fields, roleIds);
      const revision = created.revision;
      const [user] = await toCxUsers(sd, actor, [created.identity]);
      reply.header('location', `/cxrestapi/auth/Users/${created.identity.number}`).header(REVISION_HEADER, String(revision));
      return reply.status(201).send(user!);
    },
  );

  app.put(
    '/Users/:id',
    {
      config: rights,
      schema: {
        tags,
        summary: 'Checkmarx: update a user',
        description: cxDescription('204. Fields sent replace the user\'s; `roleIds` sets the direct role assignments; `active: false` ends the identity (status terminated).'),
        params: CxIdParams,
        body: CxUserInput,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { identity } = await getIdentityByNumber(sd, actor, request.params.id);
      const roleIds = request.body.roleIds === undefined ? undefined : await roleIdsOfNumbers(sd, actor, request.body.roleIds, 'roleIds');
      const { revision } = await updateIdentityWithRoles(sd, actor, identity.id, await identityFields(sd, actor, request.body, identity), roleIds);
      return reply.status(204).header(REVISION_HEADER, String(revision)).send(null);
    },
  );

  app.delete(
    '/Users/:id',
    {
      config: rights,
      schema: {
        tags,
        summary: 'Checkmarx: delete a user',
        description: cxDescription('204; 409 while the identity has access history (assignments) or owns credentials — set `active: false` instead.'),
        params: CxIdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { identity } = await getIdentityByNumber(sd, actor, request.params.id);
      const { revision } = await deleteIdentity(sd, actor, identity.id);
      return reply.status(204).header(REVISION_HEADER, String(revision)).send(null);
    },
  );
}
