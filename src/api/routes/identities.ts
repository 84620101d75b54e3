/** `/identities`: the people and service accounts of the tenant. Right: manage-users. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import {
  ATTRIBUTE_LIMITS,
  createIdentity,
  deleteIdentity,
  getIdentity,
  IDENTITY_STATUSES,
  IDENTITY_TYPES,
  listIdentities,
  lookUpIdentities,
  DIRECTORY_LOOKUP_MAX,
  updateIdentity,
} from '../../services/directory/index.ts';
import { etagOf } from '../../domain/etag.ts';
import { actorOf, REVISION_HEADER, sendWithEtag, sendWritten } from '../request-context.ts';
import { AUTHENTICATED, needs } from '../route-auth.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, removePassword, setPassword } from '../../services/credentials/index.ts';
import { IdempotencyHeaders, IdParams, IfMatchHeaders, ListQuery, Nullable, PageOf, RevisionOnly, Timestamp, Written } from '../schemas.ts';

const TAGS = ['Directory'];
const Id = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });
const Text = (maxLength: number, description: string) => Type.String({ minLength: 1, maxLength, description });
const Token = (maxLength: number, description: string, examples: string[]) =>
  Type.String({ minLength: 1, maxLength, pattern: '^\\S+$', description, examples });

const Status = Type.Union(IDENTITY_STATUSES.map((s) => Type.Literal(s)), { description: 'active, on_leave or terminated' });
const Kind = Type.Union(IDENTITY_TYPES.map((s) => Type.Literal(s)), { description: IDENTITY_TYPES.join(', ') });
const Attributes = Type.Record(
  Type.String({ pattern: ATTRIBUTE_LIMITS.keyPattern }),
  Type.String({ maxLength: ATTRIBUTE_LIMITS.maxValueLength }),
  {
    maxProperties: ATTRIBUTE_LIMITS.maxCount,
    description: `Free text attributes (department, title, location...): at most ${ATTRIBUTE_LIMITS.maxCount}, keys ${ATTRIBUTE_LIMITS.keyPattern}, values up to ${ATTRIBUTE_LIMITS.maxValueLength} characters`,
    examples: [{ department: 'Finance', title: 'Accountant', location: 'Zurich' }],
  },
);

const Identity = Type.Object(
  {
    id: Type.String(),
    number: Type.Integer({ description: 'Stable integer id (vendor profiles use it); read-only' }),
    subject: Type.String({ description: 'Stable unique subject, e.g. c1s:17173' }),
    username: Nullable(Type.String()),
    email: Nullable(Type.String()),
    firstName: Nullable(Type.String()),
    lastName: Nullable(Type.String()),
    displayName: Nullable(Type.String()),
    employeeNumber: Nullable(Type.String()),
    type: Type.String(),
    status: Type.String(),
    managerId: Nullable(Type.String()),
    orgUnitId: Nullable(Type.String()),
    attributes: Type.Record(Type.String(), Type.String()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { description: 'A person or service account' },
);

const fields = {
  username: Type.Optional(Nullable(Token(200, 'Unique login name', ['ada.lovelace']))),
  email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254, examples: ['ada@example.com'] }))),
  firstName: Type.Optional(Nullable(Text(200, 'Given name'))),
  lastName: Type.Optional(Nullable(Text(200, 'Family name'))),
  displayName: Type.Optional(Nullable(Text(200, 'Name to show'))),
  employeeNumber: Type.Optional(Nullable(Token(64, 'Unique employee number from HR', ['E-1042']))),
  type: Type.Optional(Kind),
  status: Type.Optional(Status),
  managerId: Type.Optional(Nullable(Id('The manager (an identity of the tenant); no cycles'))),
  orgUnitId: Type.Optional(Nullable(Id('The primary organization unit'))),
  attributes: Type.Optional(Attributes),
};
const subject = Token(200, 'Unique; the prefix "grantory:" is reserved for generated subjects', ['c1s:17173']);

const CreateIdentity = Type.Object(
  { subject: Type.Optional(subject), ...fields },
  { additionalProperties: false, description: 'subject is generated as grantory:<number> when absent; type defaults to employee, status to active' },
);
const PatchIdentity = Type.Object(
  { subject: Type.Optional(subject), ...fields },
  { additionalProperties: false, description: 'Absent fields are kept; null clears; attributes replaces the whole map' },
);
const ListIdentitiesQuery = Type.Object(
  {
    ...ListQuery,
    status: Type.Optional(Status),
    orgUnitId: Type.Optional(Id('Members of this unit (not of its descendants)')),
    managerId: Type.Optional(Id('Direct reports of this identity')),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Case-insensitive search in names, e-mail, username and employee number' })),
  },
  { additionalProperties: false },
);

const Etag = { etag: Type.String({ description: 'The version of the object, for If-Match' }) };
const location = (id: string) => `/api/v1/identities/${encodeURIComponent(id)}`;

export function registerIdentityRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  app.post(
    '/identities',
    {
      config: needs('manage-users'),
      schema: {
        tags: TAGS,
        summary: 'Create an identity',
        description:
          'Needs manage-users. 201 with ETag and Location. 400 naming invalid or unknown fields (also a managerId/orgUnitId that does not exist, or a subject starting with "grantory:"); 409 naming a subject, username or employeeNumber already in use, or a manager cycle. Idempotency-Key makes retries safe.',
        headers: IdempotencyHeaders,
        body: CreateIdentity,
        response: { 201: { ...Written(Identity), headers: Etag } },
      },
    },
    async (request, reply) => {
      const { identity, version, revision } = await createIdentity(sd, actorOf(request), request.body);
      reply.header('etag', etagOf(version)).header('location', location(identity.id));
      return sendWritten(reply, 201, identity, revision);
    },
  );
  app.get(
    '/identities',
    {
      config: needs('manage-users'),
      schema: {
        tags: TAGS,
        summary: 'List identities in number order (cursor-paged)',
        description: 'Filters combine with AND. A cursor is bound to the list and its filters: a forged one or one from another filter is a 400 invalid_cursor.',
        querystring: ListIdentitiesQuery,
        response: { 200: PageOf(Identity) },
      },
    },
    async (request) => listIdentities(sd, actorOf(request), request.query),
  );
  app.get(
    '/identities/:id',
    {
      config: needs('manage-users'),
      schema: { tags: TAGS, summary: 'Get an identity (with its ETag)', description: '404 for an unknown id (or one of another tenant).', params: IdParams, response: { 200: { ...Identity, headers: Etag } } },
    },
    async (request, reply) => {
      const { identity, version } = await getIdentity(sd, actorOf(request), request.params.id);
      return sendWithEtag(reply, identity, version);
    },
  );
  app.get(
    '/directory/identities',
    {
      config: AUTHENTICATED,
      schema: {
        tags: TAGS,
        summary: 'Look up colleagues by name: the active identities whose name or username contains q (id, username and name only)',
        description:
          'For any caller acting as an identity (403 for an application key or a client bound to an application), without manage-users: what a person ' +
          `needs to pick a colleague (whom to delegate to). At most ${DIRECTORY_LOOKUP_MAX} matches in number order, no paging; only active identities; ` +
          'no e-mail, employee number, unit, manager or attributes (GET /identities, with manage-users, has those).',
        querystring: Type.Object(
          {
            q: Type.String({ minLength: 2, maxLength: 100, description: 'Part of the display name, first and last name, or username (case-insensitive)', examples: ['ada'] }),
            limit: Type.Integer({ minimum: 1, maximum: DIRECTORY_LOOKUP_MAX, default: 10 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                id: Type.String(),
                username: Nullable(Type.String()),
                displayName: Nullable(Type.String({ description: 'The display name, else the first and last name' })),
              }),
            ),
          }),
        },
      },
    },
    async (request) => lookUpIdentities(sd, actorOf(request), request.query),
  );
  app.patch(
    '/identities/:id',
    {
      config: needs('manage-users'),
      schema: {
        tags: TAGS,
        summary: 'Change an identity (If-Match: 412 when it changed since read)',
        description: 'Absent fields are kept, null clears a field, attributes replaces the whole map. Same 400/409 rules as create; 412 precondition_failed when If-Match does not match the current ETag.',
        params: IdParams,
        headers: IfMatchHeaders,
        body: PatchIdentity,
        response: { 200: { ...Written(Identity), headers: Etag } },
      },
    },
    async (request, reply) => {
      const { identity, version, revision } = await updateIdentity(sd, actorOf(request), request.params.id, request.body, request.headers['if-match']);
      reply.header('etag', etagOf(version));
      return sendWritten(reply, 200, identity, revision);
    },
  );
  app.delete(
    '/identities/:id',
    {
      config: needs('manage-users'),
      schema: {
        tags: TAGS,
        summary: 'Delete an identity (409 naming what still refers to it)',
        description: 'Refused with 409 and `blockers` while assignments, API keys, managed reports or owned applications refer to it (set status terminated instead to keep the history). 412 on a stale If-Match.',
        params: IdParams,
        headers: IfMatchHeaders,
        response: { 200: RevisionOnly },
      },
    },
    async (request, reply) => {
      const { revision } = await deleteIdentity(sd, actorOf(request), request.params.id, request.headers['if-match']);
      return sendWritten(reply, 200, {}, revision);
    },
  );

  const passwordAccess =
    'The identity itself, or a holder of manage-users; either way only for an identity whose Grantory rights the caller holds too ' +
    '(403 naming the rights otherwise: the password would let whoever knows it act with them).';
  app.put(
    '/identities/:id/password',
    {
      config: AUTHENTICATED,
      schema: {
        tags: TAGS,
        summary: "Set the identity's local password (argon2id); ends the sessions opened with the old one",
        description: `${passwordAccess} Policy: ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters, not containing the username, subject or e-mail address, not one character repeated.`,
        params: IdParams,
        body: Type.Object({ password: Type.String({ maxLength: 4 * MAX_PASSWORD_LENGTH }) }, { additionalProperties: false }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const { revision } = await setPassword(sd, actorOf(request), request.params.id, request.body.password);
      return reply.status(204).header(REVISION_HEADER, String(revision)).send(null);
    },
  );

  app.delete(
    '/identities/:id/password',
    {
      config: AUTHENTICATED,
      schema: { tags: TAGS, summary: "Remove the identity's local password (404 when it has none)", description: passwordAccess, params: IdParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      const { revision } = await removePassword(sd, actorOf(request), request.params.id);
      return reply.status(204).header(REVISION_HEADER, String(revision)).send(null);
    },
  );
}
