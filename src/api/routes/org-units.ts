/** `/org-units`: the organization tree. Right: manage-users. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { createOrgUnit, deleteOrgUnit, getOrgUnit, listOrgUnits, UNIT_NAME_PATTERN, updateOrgUnit } from '../../services/directory/index.ts';
import { etagOf } from '../../domain/etag.ts';
import { actorOf, sendWithEtag, sendWritten } from '../request-context.ts';
import { needs } from '../route-auth.ts';
import { IdempotencyHeaders, IdParams, IfMatchHeaders, ListQuery, Nullable, PageOf, RevisionOnly, Timestamp, Written } from '../schemas.ts';

const TAGS = ['Directory'];
const Id = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });

const OrgUnit = Type.Object(
  {
    id: Type.String(),
    number: Type.Integer({ description: 'Stable integer id (vendor profiles use it); read-only' }),
    name: Type.String(),
    parentId: Nullable(Type.String()),
    externalId: Nullable(Type.String()),
    path: Type.String({ description: 'Names from the root down, read-only', examples: ['/Acme/Finance'] }),
    managerId: Nullable(Type.String({ description: "The unit's manager (an identity): the approver org_unit_manager of approval policies" })),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { description: 'A node of the organization tree' },
);

const name = Type.String({ minLength: 1, maxLength: 200, pattern: UNIT_NAME_PATTERN, description: 'Unique among siblings; no "/"', examples: ['Finance'] });
const fields = {
  parentId: Type.Optional(Nullable(Id('The parent unit; null for a root'))),
  externalId: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200, description: 'Unique id in the source system (e.g. HR)', examples: ['HR-4711'] }))),
  managerId: Type.Optional(Nullable(Id("The unit's manager, an identity of the tenant; null for none"))),
};
const CreateOrgUnit = Type.Object({ name, ...fields }, { additionalProperties: false });
const PatchOrgUnit = Type.Object(
  { name: Type.Optional(name), ...fields },
  { additionalProperties: false, description: 'Rename and/or move (the subtree\'s paths follow); absent fields are kept' },
);
const ListOrgUnitsQuery = Type.Object(
  {
    ...ListQuery,
    parentId: Type.Optional(Id('Children of this unit')),
    root: Type.Optional(Type.Boolean({ description: 'true: only units without a parent' })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Case-insensitive search in name and path' })),
  },
  { additionalProperties: false },
);

const Etag = { etag: Type.String({ description: 'The version of the object, for If-Match' }) };

export function registerOrgUnitRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  app.post(
    '/org-units',
    {
      config: needs('manage-users'),
      schema: {
        tags: TAGS,
        summary: 'Create an organization unit',
        description: 'Needs manage-users. path is computed from the parent. 400 naming invalid or unknown fields (or a parentId or managerId that does not exist); 409 when a sibling has the same name or another unit the same externalId, or the tree would exceed 20 levels.',
        headers: IdempotencyHeaders,
        body: CreateOrgUnit,
        response: { 201: { ...Written(OrgUnit), headers: Etag } },
      },
    },
    async (request, reply) => {
      const { unit, version, revision } = await createOrgUnit(sd, actorOf(request), request.body);
      reply.header('etag', etagOf(version)).header('location', `/api/v1/org-units/${encodeURIComponent(unit.id)}`);
      return sendWritten(reply, 201, unit, revision);
    },
  );
  app.get(
    '/org-units',
    {
      config: needs('manage-users'),
      schema: {
        tags: TAGS,
        summary: 'List organization units in number order (cursor-paged)',
        description: 'Filters combine with AND. A cursor is bound to the list and its filters: a forged one or one from another filter is a 400 invalid_cursor.',
        querystring: ListOrgUnitsQuery,
        response: { 200: PageOf(OrgUnit) },
      },
    },
    async (request) => listOrgUnits(sd, actorOf(request), request.query),
  );
  app.get(
    '/org-units/:id',
    {
      config: needs('manage-users'),
      schema: { tags: TAGS, summary: 'Get an organization unit (with its ETag)', description: '404 for an unknown id (or one of another tenant).', params: IdParams, response: { 200: { ...OrgUnit, headers: Etag } } },
    },
    async (request, reply) => {
      const { unit, version } = await getOrgUnit(sd, actorOf(request), request.params.id);
      return sendWithEtag(reply, unit, version);
    },
  );
  app.patch(
    '/org-units/:id',
    {
      config: needs('manage-users'),
      schema: {
        tags: TAGS,
        summary: 'Rename or move an organization unit (409 on a cycle; If-Match: 412 when it changed since read)',
        description: 'The paths of the whole subtree follow in the same write (their ETags change too). 409 naming the cycle when the new parent is the unit or one of its descendants.',
        params: IdParams,
        headers: IfMatchHeaders,
        body: PatchOrgUnit,
        response: { 200: { ...Written(OrgUnit), headers: Etag } },
      },
    },
    async (request, reply) => {
      const { unit, version, revision } = await updateOrgUnit(sd, actorOf(request), request.params.id, request.body, request.headers['if-match']);
      reply.header('etag', etagOf(version));
      return sendWritten(reply, 200, unit, revision);
    },
  );
  app.delete(
    '/org-units/:id',
    {
      config: needs('manage-users'),
      schema: {
        tags: TAGS,
        summary: 'Delete an organization unit (409 while it has child units, members or assignments)',
        description: 'Refused with 409 and `blockers` (type, count, ids, description) while child units, members or assignments refer to it. 412 on a stale If-Match.',
        params: IdParams,
        headers: IfMatchHeaders,
        response: { 200: RevisionOnly },
      },
    },
    async (request, reply) => {
      const { revision } = await deleteOrgUnit(sd, actorOf(request), request.params.id, request.headers['if-match']);
      return sendWritten(reply, 200, {}, revision);
    },
  );
}
