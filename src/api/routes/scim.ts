/**
 * SCIM 2.0 at `/scim/v2` (RFC 7643/7644) for identity providers (Okta, Microsoft Entra ID,
 * OneLogin, JumpCloud): `Users` are identities, `Groups` organization units
 * (`src/services/scim` maps them; docs/scim.md).
 *
 * In this plugin's scope: bodies in `application/scim+json` (or `application/json`), every
 * answer in `application/scim+json`, failures as SCIM error bodies (`schemas` Error,
 * `status` as a string, `scimType`), and the scope check: a credential narrowed by scopes
 * needs `scim` (or `grantory:*`); one that is not narrowed needs only `manage-users`.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App, RouteDeps } from '../deps.ts';
import { AppError } from '../../domain/errors.ts';
import { ALL_RIGHTS_SCOPE, hasScope } from '../../domain/scopes.ts';
import {
  SCHEMA_ERROR,
  SCHEMA_LIST,
  SCHEMA_PATCH,
  SCHEMA_SEARCH,
  SCIM_CONTENT_TYPE,
  SCIM_DEFAULT_COUNT,
  SCIM_MAX_COUNT,
  SCIM_MAX_OPERATIONS,
  attributeLeftOut,
  projectAttributes,
  resourceTypes,
  schemaDefinitions,
  serviceProviderConfig,
} from '../../domain/scim.ts';
import {
  createScimGroup,
  createScimUser,
  deleteScimGroup,
  deleteScimUser,
  getScimGroup,
  getScimUser,
  listScimGroups,
  listScimUsers,
  patchScimGroup,
  patchScimUser,
  replaceScimGroup,
  replaceScimUser,
  searchScimResources,
  type ScimListQuery,
} from '../../services/scim/index.ts';
import { declareVendorErrors } from '../error-responses.ts';
import { challengeOf, toAppError } from '../problem.ts';
import type { Actor } from '../../services/kernel/index.ts';
import { actorOf, maybeActorOf } from '../request-context.ts';
import { needs } from '../route-auth.ts';
import { Nullable } from '../schemas.ts';
import { utf8Parser } from '../text-guard.ts';

export const SCIM_PREFIX = '/scim/v2';

const tags = ['SCIM 2.0'];
const config = needs('manage-users');

/* ---------- error bodies ---------- */

export const ScimErrorBody = Type.Object(
  {
    schemas: Type.Array(Type.String(), { examples: [[SCHEMA_ERROR]] }),
    status: Type.String({ description: 'The HTTP status, as a string', examples: ['409'] }),
    scimType: Type.Optional(Type.String({ description: 'RFC 7644 §3.12: invalidFilter, uniqueness, invalidSyntax, invalidPath, noTarget, invalidValue, mutability, tooMany', examples: ['uniqueness'] })),
    detail: Type.String({ examples: ['username "ada.lovelace" is already taken'] }),
  },
  { description: 'A SCIM error (RFC 7644 §3.12)' },
);

/** The SCIM error body of a Grantory error: `scimType` from the error, or from its code. */
export function scimErrorOf(error: AppError): Static<typeof ScimErrorBody> {
  const given = error.details?.scimType;
  let scimType = typeof given === 'string' ? given : undefined;
  if (!scimType && error.code === 'malformed_json') scimType = 'invalidSyntax';
  else if (!scimType && error.code === 'validation_failed') scimType = 'invalidValue';
  else if (!scimType && error.code === 'conflict' && error.errors?.length) scimType = 'uniqueness';
  const fields = error.errors?.length ? error.errors.filter((e) => !error.message.includes(e.message)).map((e) => `${e.field} ${e.message}`) : [];
  return {
    schemas: [SCHEMA_ERROR],
    status: String(error.status),
    ...(scimType ? { scimType } : {}),
    detail: fields.length ? `${error.message}: ${fields.join('; ')}` : error.message,
  };
}

export function sendScimError(reply: FastifyReply, _request: FastifyRequest, error: AppError): FastifyReply {
  if (error.code === 'unauthenticated') reply.header('WWW-Authenticate', challengeOf(error));
  return reply.status(error.status).header('content-type', SCIM_CONTENT_TYPE).send(Buffer.from(JSON.stringify(scimErrorOf(error))));
}

/* ---------- schemas ---------- */

const Meta = Type.Object(
  {
    resourceType: Type.String({ examples: ['User'] }),
    created: Type.String({ format: 'date-time' }),
    lastModified: Type.String({ format: 'date-time' }),
    location: Type.String({ examples: ['https://grantory.example.com/scim/v2/Users/3f2b8c1e-7a4d-4e5f-9b6a-1c2d3e4f5a6b'] }),
    version: Type.String({ examples: ['"3"'] }),
  },
  { additionalProperties: true },
);

const text = (max: number, examples?: string[]) => Type.String({ maxLength: max, ...(examples ? { examples } : {}) });
/** Entra sends booleans as strings ("True", "False"). */
const ScimBoolean = Type.Union([Type.Boolean(), Type.String({ maxLength: 5, pattern: '^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$' })]);
const MultiValue = Type.Object(
  { value: Type.Optional(text(320)), type: Type.Optional(text(50)), primary: Type.Optional(ScimBoolean), display: Type.Optional(text(320)) },
  { additionalProperties: true },
);

/**
 * A User as sent. SCIM clients send attributes Grantory does not keep (phoneNumbers,
 * locale, ...): they are accepted and ignored (RFC 7644 §3.3), so the body is open.
 */
const UserBody = Type.Object(
  {
    schemas: Type.Optional(Type.Array(text(200), { maxItems: 10 })),
    userName: text(200, ['ada.lovelace@example.com']),
    externalId: Type.Optional(text(200, ['00u1abcd2EFGH3ijk4l5'])),
    name: Type.Optional(Type.Object({ givenName: Type.Optional(text(200)), familyName: Type.Optional(text(200)), formatted: Type.Optional(text(400)) }, { additionalProperties: true })),
    displayName: Type.Optional(text(200)),
    title: Type.Optional(text(500)),
    active: Type.Optional(ScimBoolean),
    emails: Type.Optional(Type.Array(MultiValue, { maxItems: 20 })),
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': Type.Optional(
      Type.Object(
        {
          employeeNumber: Type.Optional(text(100, ['E-1042'])),
          department: Type.Optional(text(500, ['Finance'])),
          manager: Type.Optional(Type.Union([text(64), Type.Object({ value: Type.Optional(text(64)) }, { additionalProperties: true }), Type.Array(Type.Object({ value: Type.Optional(text(64)) }, { additionalProperties: true }), { maxItems: 1 })])),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true, examples: [{ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ada.lovelace@example.com', name: { givenName: 'Ada', familyName: 'Lovelace' }, emails: [{ value: 'ada.lovelace@example.com', type: 'work', primary: true }], active: true }] },
);

/** A reference to another resource; its `$ref` (the URI) is sent but not declared: a property of that name reads as a JSON reference. */
const REFERENCE = { additionalProperties: true, description: 'With `$ref`, the URI of the resource' };

const User = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    id: Type.String({ format: 'uuid' }),
    externalId: Type.Optional(Type.String()),
    userName: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    name: Type.Optional(Type.Object({ formatted: Type.Optional(Type.String()), givenName: Type.Optional(Type.String()), familyName: Type.Optional(Type.String()) })),
    displayName: Type.Optional(Type.String()),
    title: Type.Optional(Type.String()),
    active: Type.Optional(Type.Boolean()),
    emails: Type.Optional(Type.Array(Type.Object({ value: Type.String(), type: Type.String({ examples: ['work'] }), primary: Type.Boolean() }))),
    groups: Type.Optional(Type.Array(Type.Object({ value: Type.String({ format: 'uuid' }), display: Type.Optional(Type.String()) }, REFERENCE))),
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': Type.Optional(
      Type.Object({
        employeeNumber: Type.Optional(Type.String()),
        department: Type.Optional(Type.String()),
        manager: Type.Optional(Type.Object({ value: Type.String({ format: 'uuid' }), displayName: Type.Optional(Type.String()) }, REFERENCE)),
      }),
    ),
    meta: Meta,
  },
  { additionalProperties: true },
);

/**
 * A member as sent: `value` is a User id; `display`, `$ref` (Entra sends `null`) and others are
 * ignored. (`$ref` is not declared: a property of that name reads as a JSON reference.)
 */
const MemberBody = Type.Object({ value: text(64), display: Type.Optional(Nullable(text(400))), type: Type.Optional(text(20)) }, { additionalProperties: true });

const GroupBody = Type.Object(
  {
    schemas: Type.Optional(Type.Array(text(200), { maxItems: 10 })),
    displayName: text(200, ['Finance']),
    externalId: Type.Optional(text(200)),
    members: Type.Optional(Type.Array(MemberBody, { maxItems: 100_000 })),
  },
  { additionalProperties: true, examples: [{ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Finance', members: [] }] },
);

const Group = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    id: Type.String({ format: 'uuid' }),
    externalId: Type.Optional(Type.String()),
    displayName: Type.Optional(Type.String({ examples: ['Finance'] })),
    members: Type.Optional(Type.Array(Type.Object({ value: Type.String({ format: 'uuid' }), display: Type.Optional(Type.String()), type: Type.String({ examples: ['User'] }) }, REFERENCE))),
    meta: Meta,
  },
  { additionalProperties: true },
);

const PatchBody = Type.Object(
  {
    schemas: Type.Array(text(200), { maxItems: 10, examples: [[SCHEMA_PATCH]] }),
    Operations: Type.Array(
      Type.Object(
        {
          op: text(20, ['replace']),
          path: Type.Optional(text(1000, ['members[value eq "3f2b8c1e-7a4d-4e5f-9b6a-1c2d3e4f5a6b"]'])),
          value: Type.Optional(Type.Unknown()),
        },
        { additionalProperties: true },
      ),
      { maxItems: SCIM_MAX_OPERATIONS },
    ),
  },
  { additionalProperties: true, examples: [{ schemas: [SCHEMA_PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] }] },
);

const SortOrder = Type.Union([Type.Literal('ascending'), Type.Literal('descending')], { description: 'ascending (the default) or descending; resources without the value come last when ascending' });
const paging = {
  filter: Type.Optional(Type.String({ maxLength: 2000, description: 'eq, ne, co, sw, ew, gt, ge, lt, le, pr, and, or, not, value paths', examples: ['userName eq "ada.lovelace@example.com"'] })),
  startIndex: Type.Optional(Type.Integer({ minimum: -2147483648, maximum: 2147483647, description: '1-based; less than 1 is 1' })),
  count: Type.Optional(Type.Integer({ minimum: -2147483648, maximum: 2147483647, description: `Page size (default ${SCIM_DEFAULT_COUNT}, at most ${SCIM_MAX_COUNT}); 0 answers the total only` })),
  sortBy: Type.Optional(Type.String({ maxLength: 200, description: 'The attribute to sort by (then by number); text sorts without case', examples: ['userName'] })),
  sortOrder: Type.Optional(SortOrder),
};

const ListQuery = Type.Object({
  ...paging,
  attributes: Type.Optional(Type.String({ maxLength: 1000, examples: ['userName,emails'] })),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 1000, examples: ['members'] })),
});

/** A SearchRequest (RFC 7644 §3.4.3): the list query in a body; `attributes` and `excludedAttributes` as lists. */
const SearchBody = Type.Object(
  {
    schemas: Type.Array(text(200), { maxItems: 10, examples: [[SCHEMA_SEARCH]] }),
    ...paging,
    attributes: Type.Optional(Type.Array(text(200), { maxItems: 100, examples: [['userName', 'emails']] })),
    excludedAttributes: Type.Optional(Type.Array(text(200), { maxItems: 100, examples: [['members']] })),
  },
  { additionalProperties: true, examples: [{ schemas: [SCHEMA_SEARCH], filter: 'userName sw "ada"', sortBy: 'userName', startIndex: 1, count: 10, attributes: ['userName', 'emails'] }] },
);

const OneQuery = Type.Object({
  attributes: Type.Optional(Type.String({ maxLength: 1000 })),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 1000, examples: ['members'] })),
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'The resource id' }) });
const IfMatch = Type.Object({ 'if-match': Type.Optional(Type.String({ maxLength: 200, description: 'The ETag (meta.version) the change expects' })) });

const ListOf = (resource: TSchema) =>
  Type.Object({
    schemas: Type.Array(Type.String(), { examples: [[SCHEMA_LIST]] }),
    totalResults: Type.Integer(),
    startIndex: Type.Integer(),
    itemsPerPage: Type.Integer(),
    Resources: Type.Array(resource),
  });

const Open = Type.Object({}, { additionalProperties: true });

/* ---------- helpers ---------- */

/** A success response in `application/scim+json` (set before serialization, so the schema applies). */
const scimJson = <T extends TSchema>(schema: T) => ({ description: 'OK', content: { [SCIM_CONTENT_TYPE]: { schema } } });

const baseOf = (request: FastifyRequest) => `${request.protocol}://${request.host}${SCIM_PREFIX}`;

function pageOf(query: Pick<Static<typeof ListQuery>, keyof typeof paging>): ScimListQuery {
  const startIndex = Math.max(1, query.startIndex ?? 1);
  const count = Math.min(SCIM_MAX_COUNT, Math.max(0, query.count ?? SCIM_DEFAULT_COUNT));
  return { filter: query.filter, startIndex, count, sortBy: query.sortBy, sortOrder: query.sortOrder };
}

/** A SearchRequest body as the list query's projection (lists joined as the query string sends them). */
function projectionOf(body: Static<typeof SearchBody>): Static<typeof OneQuery> {
  return { attributes: body.attributes?.join(','), excludedAttributes: body.excludedAttributes?.join(',') };
}

function listBody<T extends Record<string, unknown>>(result: { total: number; resources: T[] }, startIndex: number, query: Static<typeof OneQuery>) {
  return {
    schemas: [SCHEMA_LIST],
    totalResults: result.total,
    startIndex,
    itemsPerPage: result.resources.length,
    Resources: result.resources.map((r) => projectAttributes(r, query.attributes, query.excludedAttributes)),
  };
}

/** A list answered whole, in one page (the discovery resources). */
function wholeList<T>(items: T[]) {
  return { schemas: [SCHEMA_LIST], totalResults: items.length, startIndex: 1, itemsPerPage: items.length, Resources: items };
}

/** One resource with its ETag (and `Location` when created). */
function sendResource<T extends { meta: { version: string; location: string } }>(reply: FastifyReply, status: number, resource: T, query: Static<typeof OneQuery> = {}): FastifyReply {
  reply.header('etag', resource.meta.version);
  if (status === 201) reply.header('location', resource.meta.location);
  return reply.status(status).send(projectAttributes(resource as unknown as Record<string, unknown>, query.attributes, query.excludedAttributes));
}

/* ---------- routes ---------- */

export async function registerScimRoutes(app: App, deps: RouteDeps): Promise<void> {
  await app.register(
    async (scim) => {
      declareVendorErrors(scim, { statusOf: (status) => status, bodyOf: () => ScimErrorBody, description: 'a SCIM error body', contentType: SCIM_CONTENT_TYPE });

      const json = utf8Parser(scim.getDefaultJsonParser('error', 'error'));
      scim.addContentTypeParser(SCIM_CONTENT_TYPE, { parseAs: 'buffer' }, json);

      // A credential narrowed by scopes needs the scim scope (after the app's authentication).
      scim.addHook('onRequest', async (request) => {
        const scopes = maybeActorOf(request)?.caller.scopes;
        if (scopes && !scopes.includes(ALL_RIGHTS_SCOPE) && !hasScope(scopes, 'scim')) {
          throw new AppError('forbidden', 'this credential is narrowed by scopes without scim; give it the scim scope', { details: { requiredScopes: ['scim'] } });
        }
      });

      // Before serialization: Fastify picks the response schema by the reply's content type.
      scim.addHook('preSerialization', async (_request, reply, payload) => {
        reply.header('content-type', SCIM_CONTENT_TYPE);
        return payload;
      });
      scim.addHook('onSend', async (_request, reply, payload) => {
        if (payload !== undefined && payload !== null && payload !== '') reply.header('content-type', SCIM_CONTENT_TYPE);
        return payload;
      });

      scim.setErrorHandler(async (error, request, reply) => {
        const { appError, unexpected } = toAppError(error);
        if (unexpected) request.log.error({ err: error }, 'unexpected error');
        return sendScimError(reply, request, appError);
      });

      registerDiscoveryRoutes(scim);
      registerUserRoutes(scim, deps);
      registerGroupRoutes(scim, deps);
      registerSearchRoutes(scim, deps);
    },
    { prefix: SCIM_PREFIX },
  );
}

function registerDiscoveryRoutes(app: App): void {
  const bodyLimit = app.initialConfig.bodyLimit ?? 1024 * 1024;
  app.get(
    '/ServiceProviderConfig',
    { config, schema: { tags, summary: 'SCIM: what this service provider supports', description: 'RFC 7643 §5: PATCH, filters and ETags are supported; bulk, sorting and password changes are not.', response: { 200: scimJson(Open) } } },
    async (request) => serviceProviderConfig(baseOf(request), bodyLimit),
  );
  app.get(
    '/ResourceTypes',
    { config, schema: { tags, summary: 'SCIM: the resource types (User, Group)', response: { 200: scimJson(ListOf(Open)) } } },
    async (request) => {
      return wholeList(resourceTypes(baseOf(request)));
    },
  );
  app.get(
    '/ResourceTypes/:id',
    { config, schema: { tags, summary: 'SCIM: one resource type', params: IdParams, response: { 200: scimJson(Open) } } },
    async (request) => {
      const found = resourceTypes(baseOf(request)).find((t) => t.id === request.params.id);
      if (!found) throw new AppError('not_found', `resource type ${request.params.id} does not exist (User, Group)`);
      return found;
    },
  );
  app.get(
    '/Schemas',
    { config, schema: { tags, summary: 'SCIM: the schemas and the attributes kept', response: { 200: scimJson(ListOf(Open)) } } },
    async (request) => {
      return wholeList(schemaDefinitions(baseOf(request)));
    },
  );
  app.get(
    '/Schemas/:id',
    { config, schema: { tags, summary: 'SCIM: one schema', params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200, description: 'The schema URN' }) }), response: { 200: scimJson(Open) } } },
    async (request) => {
      const found = schemaDefinitions(baseOf(request)).find((s) => s.id === request.params.id);
      if (!found) throw new AppError('not_found', `schema ${request.params.id} does not exist`);
      return found;
    },
  );
}

function registerUserRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  app.get(
    '/Users',
    {
      config,
      schema: { tags, summary: 'SCIM: list or filter Users (identities)', description: 'In identity number order; `filter`, `startIndex` (1-based), `count`, `attributes`, `excludedAttributes`.', querystring: ListQuery, response: { 200: scimJson(ListOf(User)) } },
    },
    async (request) => {
      const page = pageOf(request.query);
      return listBody(await listScimUsers(sd, actorOf(request), page, baseOf(request)), page.startIndex, request.query);
    },
  );
  app.get(
    '/Users/:id',
    { config, schema: { tags, summary: 'SCIM: get a User', params: IdParams, querystring: OneQuery, response: { 200: scimJson(User) } } },
    async (request, reply) => sendResource(reply, 200, await getScimUser(sd, actorOf(request), request.params.id, baseOf(request)), request.query),
  );
  app.post(
    '/Users',
    { config, schema: { tags, summary: 'SCIM: create a User (identity)', description: '201 with the User, its `Location` and `ETag`; a userName, externalId or employeeNumber taken is a 409 `uniqueness`.', body: UserBody, response: { 201: scimJson(User) } } },
    async (request, reply) => sendResource(reply, 201, await createScimUser(sd, actorOf(request), request.body, baseOf(request))),
  );
  registerResourceWrites(app, {
    path: '/Users/:id',
    resource: 'User',
    item: User,
    body: UserBody,
    describe: {
      put: 'Every attribute SCIM knows is replaced (absent ones are cleared); `active: false` ends its access (status terminated).',
      patch: 'add, replace and remove, with value paths (`emails[type eq "work"].value`) and the forms Okta and Entra send.',
      delete: '204; 409 while the identity has access history or credentials (deactivate it with `active: false` instead).',
    },
    replace: (actor, id, body, ifMatch, base) => replaceScimUser(sd, actor, id, body, ifMatch, base),
    patch: (actor, id, operations, ifMatch, base) => patchScimUser(sd, actor, id, operations, ifMatch, base),
    remove: (actor, id, ifMatch) => deleteScimUser(sd, actor, id, ifMatch),
  });
}

function registerGroupRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  app.get(
    '/Groups',
    {
      config,
      schema: { tags, summary: 'SCIM: list or filter Groups (organization units)', description: 'In unit number order; `excludedAttributes=members` leaves the members out (and unread).', querystring: ListQuery, response: { 200: scimJson(ListOf(Group)) } },
    },
    async (request) => {
      const page = pageOf(request.query);
      const withMembers = !attributeLeftOut('members', request.query.attributes, request.query.excludedAttributes);
      return listBody(await listScimGroups(sd, actorOf(request), { ...page, withMembers }, baseOf(request)), page.startIndex, request.query);
    },
  );
  app.get(
    '/Groups/:id',
    { config, schema: { tags, summary: 'SCIM: get a Group', params: IdParams, querystring: OneQuery, response: { 200: scimJson(Group) } } },
    async (request, reply) => {
      const withMembers = !attributeLeftOut('members', request.query.attributes, request.query.excludedAttributes);
      return sendResource(reply, 200, await getScimGroup(sd, actorOf(request), request.params.id, baseOf(request), withMembers), request.query);
    },
  );
  app.post(
    '/Groups',
    { config, schema: { tags, summary: 'SCIM: create a Group (a root organization unit)', description: '201 with the Group; members move into it (an identity has one unit).', body: GroupBody, response: { 201: scimJson(Group) } } },
    async (request, reply) => sendResource(reply, 201, await createScimGroup(sd, actorOf(request), request.body, baseOf(request))),
  );
  registerResourceWrites(app, {
    path: '/Groups/:id',
    resource: 'Group',
    item: Group,
    body: GroupBody,
    describe: {
      put: 'Name, externalId and members replaced; members not listed leave the unit.',
      patch: 'Rename, and add or remove members (`members[value eq "…"]`, or `remove` with a value list as Entra sends).',
      delete: '204; its members leave the unit first. 409 while it has child units or assignments.',
    },
    replace: (actor, id, body, ifMatch, base) => replaceScimGroup(sd, actor, id, body, ifMatch, base),
    patch: (actor, id, operations, ifMatch, base) => patchScimGroup(sd, actor, id, operations, ifMatch, base),
    remove: (actor, id, ifMatch) => deleteScimGroup(sd, actor, id, ifMatch),
  });
}

/** `POST /.search`, `/Users/.search` and `/Groups/.search` (RFC 7644 §3.4.3): the list query sent as a SearchRequest body. */
function registerSearchRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  const search = (summary: string, description: string, item: TSchema) => ({ config, schema: { tags, summary, description, body: SearchBody, response: { 200: scimJson(ListOf(item)) } } });
  const membersWanted = (body: Static<typeof SearchBody>) => !attributeLeftOut('members', projectionOf(body).attributes, projectionOf(body).excludedAttributes);
  app.post(
    '/.search',
    search(
      'SCIM: search Users and Groups (a SearchRequest at the root)',
      'The filter is applied to Users and to Groups; a type whose attributes it does not name has no matches. The matching Users come first, then the Groups, each in `sortBy` order.',
      Type.Union([User, Group]),
    ),
    async (request) => {
      const page = pageOf(request.body);
      return listBody(await searchScimResources(sd, actorOf(request), { ...page, withMembers: membersWanted(request.body) }, baseOf(request)), page.startIndex, projectionOf(request.body));
    },
  );
  app.post(
    '/Users/.search',
    search('SCIM: search Users (a SearchRequest)', 'As `GET /Users`, with the query in the body: the filter stays out of URLs and logs.', User),
    async (request) => {
      const page = pageOf(request.body);
      return listBody(await listScimUsers(sd, actorOf(request), page, baseOf(request)), page.startIndex, projectionOf(request.body));
    },
  );
  app.post(
    '/Groups/.search',
    search('SCIM: search Groups (a SearchRequest)', 'As `GET /Groups`, with the query in the body; `excludedAttributes: ["members"]` leaves the members out (and unread).', Group),
    async (request) => {
      const page = pageOf(request.body);
      return listBody(await listScimGroups(sd, actorOf(request), { ...page, withMembers: membersWanted(request.body) }, baseOf(request)), page.startIndex, projectionOf(request.body));
    },
  );
}

type Resource = { meta: { version: string; location: string } };

/** `PUT`, `PATCH` and `DELETE` of one resource (`/Users/:id`, `/Groups/:id`), each with If-Match. */
function registerResourceWrites(
  app: App,
  spec: {
    path: string;
    resource: 'User' | 'Group';
    item: TSchema;
    body: TSchema;
    describe: { put: string; patch: string; delete: string };
    replace: (actor: Actor, id: string, body: Record<string, unknown>, ifMatch: string | undefined, base: string) => Promise<Resource>;
    patch: (actor: Actor, id: string, operations: Static<typeof PatchBody>['Operations'], ifMatch: string | undefined, base: string) => Promise<Resource>;
    remove: (actor: Actor, id: string, ifMatch: string | undefined) => Promise<void>;
  },
): void {
  // The schemas are the spec's: Fastify's request typing cannot follow them, so id and If-Match are read here.
  const idOf = (request: FastifyRequest) => (request.params as Static<typeof IdParams>).id;
  const ifMatchOf = (request: FastifyRequest) => (request.headers as Static<typeof IfMatch>)['if-match'];
  const { path, resource, describe } = spec;
  app.put(
    path,
    { config, schema: { tags, summary: `SCIM: replace a ${resource}`, description: describe.put, params: IdParams, headers: IfMatch, body: spec.body, response: { 200: scimJson(spec.item) } } },
    async (request, reply) => sendResource(reply, 200, await spec.replace(actorOf(request), idOf(request), request.body as Record<string, unknown>, ifMatchOf(request), baseOf(request))),
  );
  app.patch(
    path,
    { config, schema: { tags, summary: `SCIM: change a ${resource} (PatchOp)`, description: describe.patch, params: IdParams, headers: IfMatch, body: PatchBody, response: { 200: scimJson(spec.item) } } },
    async (request, reply) => sendResource(reply, 200, await spec.patch(actorOf(request), idOf(request), (request.body as Static<typeof PatchBody>).Operations, ifMatchOf(request), baseOf(request))),
  );
  app.delete(
    path,
    { config, schema: { tags, summary: `SCIM: delete a ${resource}`, description: describe.delete, params: IdParams, headers: IfMatch, response: { 204: Type.Null() } } },
    async (request, reply) => {
      await spec.remove(actorOf(request), idOf(request), ifMatchOf(request));
      return reply.status(204).send(null);
    },
  );
}
