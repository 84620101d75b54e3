/**
 * `/Teams`: organization units, Checkmarx-shaped — `{id, name, fullName, parentId}` with
 * `id` the unit's number, `fullName` its path (e.g. `/Acme/Finance`) and `parentId` the
 * parent's number, `-1` for a root. Team members are the identities whose primary unit it is.
 */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../../deps.ts';
import type { Actor } from '../../../services/kernel/index.ts';
import type { ServiceDeps } from '../../../services/deps.ts';
import { getIdentityByNumber, setIdentityUnit, setUnitMembers, createOrgUnit, deleteOrgUnit, getOrgUnit, getOrgUnitByNumber, listOrgUnits, listUnitMembers, updateOrgUnit, type OrgUnitView } from '../../../services/directory/index.ts';
import { AppError } from '../../../domain/errors.ts';
import { actorOf, REVISION_HEADER } from '../../request-context.ts';
import { needs } from '../../route-auth.ts';
import { CxIdParams, collectAll, cxDescription, tags } from './shared.ts';
import { CxUser, toCxUsers } from './users.ts';

export const ROOT_PARENT = -1;

export const CxTeam = Type.Object({
  id: Type.Integer({ description: 'The organization unit number' }),
  name: Type.String(),
  fullName: Type.String({ description: 'The unit path, e.g. /Acme/Finance' }),
  parentId: Type.Integer({ description: "The parent unit's number; -1 for a root" }),
});

const ParentId = Type.Union([Type.Integer({ minimum: -1, maximum: 2147483647 }), Type.Null()], {
  description: "The parent team's id; -1, 0 or null make a root team",
});

const CxTeamInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    parentId: Type.Optional(ParentId),
    id: Type.Optional(Type.Integer({ description: 'Ignored' })),
    fullName: Type.Optional(Type.String({ maxLength: 4000, description: 'Ignored (derived from the parent)' })),
  },
  { additionalProperties: false, examples: [{ name: 'Finance', parentId: 1 }] },
);

const TeamUserParams = Type.Object({
  teamId: Type.Integer({ minimum: 0, maximum: 2147483647 }),
  userId: Type.Integer({ minimum: 0, maximum: 2147483647 }),
});

async function toCxTeams(deps: ServiceDeps, actor: Actor, units: OrgUnitView[]) {
  const parents = new Map<string, number>();
  for (const u of units) parents.set(u.id, u.number);
  const missing = [...new Set(units.map((u) => u.parentId).filter((p): p is string => p !== null && !parents.has(p)))];
  for (const id of missing) parents.set(id, (await getOrgUnit(deps, actor, id)).unit.number);
  return units.map((u) => ({ id: u.number, name: u.name, fullName: u.path, parentId: u.parentId === null ? ROOT_PARENT : parents.get(u.parentId)! }));
}

async function parentUnitId(deps: ServiceDeps, actor: Actor, parentId: number | null | undefined): Promise<string | null | undefined> {
  if (parentId === undefined) return undefined;
  if (parentId === null || parentId <= 0) return null;
  try {
    return (await getOrgUnitByNumber(deps, actor, parentId)).unit.id;
  } catch (e) {
    if (e instanceof AppError && e.code === 'not_found') {
      throw new AppError('validation_failed', `parentId ${parentId} is not a team`, { errors: [{ field: 'parentId', message: 'is not a team' }] });
    }
    throw e;
  }
}

export function registerCxTeamRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  const rights = needs('manage-users');

  app.get(
    '/Teams',
    { config: rights, schema: { tags, summary: 'Checkmarx: get all teams (organization units)', description: cxDescription('Every unit, in id order.'), response: { 200: Type.Array(CxTeam) } } },
    async (request) => {
      const actor = actorOf(request);
      return toCxTeams(sd, actor, await collectAll((page) => listOrgUnits(sd, actor, page)));
    },
  );

  app.get(
    '/Teams/:id',
    { config: rights, schema: { tags, summary: 'Checkmarx: get a team', description: cxDescription('404 unknown id, 400 non-integer id.'), params: CxIdParams, response: { 200: CxTeam } } },
    async (request) => {
      const actor = actorOf(request);
      const [team] = await toCxTeams(sd, actor, [(await getOrgUnitByNumber(sd, actor, request.params.id)).unit]);
      return team!;
    },
  );

  app.post(
    '/Teams',
    {
      config: rights,
      schema: { tags, summary: 'Checkmarx: create a team', description: cxDescription('201 with the team and its Location.'), body: CxTeamInput, response: { 201: CxTeam } },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const parentId = await parentUnitId(sd, actor, request.body.parentId);
      const { unit, revision } = await createOrgUnit(sd, actor, { name: request.body.name, parentId: parentId ?? null });
      const [team] = await toCxTeams(sd, actor, [unit]);
      reply.header('location', `/cxrestapi/auth/Teams/${unit.number}`).header(REVISION_HEADER, String(revision));
      return reply.status(201).send(team!);
    },
  );

  app.put(
    '/Teams/:id',
    {
      config: rights,
      schema: {
        tags,
        summary: 'Checkmarx: rename or move a team',
        description: cxDescription('204. `parentId` moves the team when sent (no cycles).'),
        params: CxIdParams,
        body: CxTeamInput,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { unit } = await getOrgUnitByNumber(sd, actor, request.params.id);
      const parentId = await parentUnitId(sd, actor, request.body.parentId);
      const { revision } = await updateOrgUnit(sd, actor, unit.id, { name: request.body.name, ...(parentId === undefined ? {} : { parentId }) });
      return reply.status(204).header(REVISION_HEADER, String(revision)).send(null);
    },
  );

  app.delete(
    '/Teams/:id',
    {
      config: rights,
      schema: { tags, summary: 'Checkmarx: delete a team', description: cxDescription('204; 409 while it has members, child teams or assignments.'), params: CxIdParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { unit } = await getOrgUnitByNumber(sd, actor, request.params.id);
      const { revision } = await deleteOrgUnit(sd, actor, unit.id);
      return reply.status(204).header(REVISION_HEADER, String(revision)).send(null);
    },
  );

  app.get(
    '/Teams/:id/Users',
    { config: rights, schema: { tags, summary: "Checkmarx: get a team's users", description: cxDescription('The identities whose primary unit it is.'), params: CxIdParams, response: { 200: Type.Array(CxUser) } } },
    async (request) => {
      const actor = actorOf(request);
      const { unit } = await getOrgUnitByNumber(sd, actor, request.params.id);
      return toCxUsers(sd, actor, await collectAll((page) => listUnitMembers(sd, actor, unit.id, page)));
    },
  );

  app.put(
    '/Teams/:id/Users',
    {
      config: rights,
      schema: {
        tags,
        summary: "Checkmarx: set a team's users",
        description: cxDescription('204. The listed users become exactly the members (their primary unit); members not listed leave it.'),
        params: CxIdParams,
        body: Type.Object({ userIds: Type.Array(Type.Integer({ minimum: 0, maximum: 2147483647 }), { maxItems: 10_000, uniqueItems: true }) }, { additionalProperties: false }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { unit } = await getOrgUnitByNumber(sd, actor, request.params.id);
      const ids: string[] = [];
      for (const n of request.body.userIds) ids.push((await getIdentityByNumber(sd, actor, n)).identity.id);
      const { revision } = await setUnitMembers(sd, actor, unit.id, ids);
      return reply.status(204).header(REVISION_HEADER, String(revision)).send(null);
    },
  );

  app.post(
    '/Teams/:teamId/Users/:userId',
    { config: rights, schema: { tags, summary: 'Checkmarx: add a user to a team', description: cxDescription('204; the team becomes the user\'s primary unit.'), params: TeamUserParams, response: { 204: Type.Null() } } },
    async (request, reply) => {
      const actor = actorOf(request);
      const { unit } = await getOrgUnitByNumber(sd, actor, request.params.teamId);
      const { identity } = await getIdentityByNumber(sd, actor, request.params.userId);
      const { revision } = await setIdentityUnit(sd, actor, identity.id, unit.id);
      return reply.status(204).header(REVISION_HEADER, String(revision)).send(null);
    },
  );

  app.delete(
    '/Teams/:teamId/Users/:userId',
    { config: rights, schema: { tags, summary: 'Checkmarx: remove a user from a team', description: cxDescription('204; 404 when the user is not in the team.'), params: TeamUserParams, response: { 204: Type.Null() } } },
    async (request, reply) => {
      const actor = actorOf(request);
      const { unit } = await getOrgUnitByNumber(sd, actor, request.params.teamId);
      const { identity } = await getIdentityByNumber(sd, actor, request.params.userId);
      if (identity.orgUnitId !== unit.id) throw new AppError('not_found', `user ${identity.number} is not in team ${unit.number}`);
      const { revision } = await setIdentityUnit(sd, actor, identity.id, null);
      return reply.status(204).header(REVISION_HEADER, String(revision)).send(null);
    },
  );
}
