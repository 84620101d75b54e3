/**
 * Reads of effective access (`/check`, `/check/batch`, `/identities/{id}/access`,
 * `/permissions/{id}/holders`, `/access/explain`, `/access/drift`) and the provisioned space
 * of connected applications (`/applications/{id}/accounts`).
 */
import { Type, type TProperties } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { accessDrift, accessDriftSummary, checkAccess, checkAccessBatch, CheckSpans, explainAccess, identityAccess, permissionHolders, deleteAccount, putAccount } from '../../services/access/index.ts';
import { listApplicationAccounts, MATCHING_STATES } from '../../services/imports/index.ts';
import { ListQuery, PageOf } from '../schemas.ts';
import type { ContextType as ContextTypeValue } from '../../domain/access.ts';
import { actorOf, sendWritten } from '../request-context.ts';
import { AUTHENTICATED, DECISION, needs } from '../route-auth.ts';
import { Account, CheckBatchBody, CheckBody, Context, ContextType, HeldPermission, HeldVia, Id, MinRevision, Revision, Space } from './access-schemas.ts';
import { readCheckBatch } from './check-batch-body.ts';
import { readsBody } from '../route-body.ts';
import { errorResponses } from '../error-responses.ts';

const ExplainChain = Type.Object({
  via: HeldVia,
  unitPath: Type.Array(Type.String()),
  rolePath: Type.Array(Type.String()),
  delegatedFrom: Type.Array(Type.Object({ assignmentId: Type.String(), delegatorId: Type.Union([Type.String(), Type.Null()]) })),
});

const CheckAnswer = Type.Object({
  allowed: Type.Boolean(),
  reason: Type.Optional(Type.String({ description: 'Why the answer is no when the identity does not exist', examples: ['identity c1s:404 does not exist (by id, subject or username)'] })),
});

const DriftEntry = Type.Object({ identityId: Type.Union([Type.String(), Type.Null()]), permissionId: Type.String(), accountName: Type.Optional(Type.String()) });

/** A batch result as JSON: the two answers of a known identity as constant text, with the comma before it or not. */
const ALLOWED_JSON = ['{"allowed":true}', ',{"allowed":true}'] as const;
const DENIED_JSON = ['{"allowed":false}', ',{"allowed":false}'] as const;

/**
 * A batch answer as JSON, the fields of its response schema in its order: up to 1,000
 * results, nearly all one of two shared answers, each appended as one constant piece of
 * text instead of going through the schema's general serializer.
 */
export function batchJson(answer: { results: readonly { allowed: boolean; reason?: string | undefined }[]; revision: number }): string {
  const { results } = answer;
  let out = '{"results":[';
  for (let i = 0; i < results.length; i += 1) {
    const r = results[i]!;
    const comma = i === 0 ? 0 : 1;
    if (r.reason === undefined) out += r.allowed ? ALLOWED_JSON[comma] : DENIED_JSON[comma];
    else out += `${comma ? ',' : ''}{"allowed":${r.allowed ? 'true' : 'false'},"reason":${JSON.stringify(r.reason)}}`;
  }
  return `${out}],"revision":${JSON.stringify(answer.revision)}}`;
}

/** A drift answer: one entry per connected application with `fields`, and the revision. */
function perApplication<T extends TProperties>(fields: T) {
  return Type.Object({ items: Type.Array(Type.Object({ applicationId: Type.String(), applicationName: Type.String(), ...fields })), revision: Revision });
}

export function registerAccessRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  const revisionQuery = Type.Object({ minRevision: MinRevision });

  app.post(
    '/check',
    {
      // Any authenticated caller; the service asks for read-permissions-any-application, or
      // read-permissions-my-application for a check about the caller's own application.
      config: { ...AUTHENTICATED, ...DECISION },
      schema: {
        tags: ['Access'],
        summary: 'Does the identity hold the permission (in the context)?',
        description:
          'An application or permission that does not exist is a 404 naming which (`errors[].field`); an identity that does not exist is `allowed: false` with a `reason` (fail closed).',
        querystring: revisionQuery,
        body: CheckBody,
        response: { 200: Type.Intersect([CheckAnswer, Type.Object({ revision: Revision })]) },
      },
    },
    async (request) => checkAccess(sd, actorOf(request), request.body, { minRevision: request.query.minRevision }),
  );
  app.post(
    '/check/batch',
    {
      // The body is read from its text without JSON.parse when it can be (check-batch-body.ts).
      config: { ...AUTHENTICATED, ...DECISION, ...readsBody(readCheckBatch) },
      schema: {
        tags: ['Access'],
        summary: 'Up to 1,000 checks in one call, answered at one revision',
        description:
          'Results in the order of the checks. A check naming an application or permission that does not exist makes the batch a 404 naming its index (`checks.3.application`); an identity that does not exist is `allowed: false` with a `reason`.',
        querystring: revisionQuery,
        body: CheckBatchBody,
        response: { 200: Type.Object({ results: Type.Array(CheckAnswer), revision: Revision }) },
      },
    },
    async (request, reply) => {
      const body: unknown = request.body;
      const checks = body instanceof CheckSpans ? body : request.body.checks;
      const answer = await checkAccessBatch(sd, actorOf(request), checks, { minRevision: request.query.minRevision });
      reply.header('content-type', 'application/json; charset=utf-8').serializer(batchJson);
      return answer;
    },
  );
  app.get(
    '/identities/:id/access',
    {
      config: { ...needs('read-permissions-any-application'), ...DECISION },
      schema: {
        tags: ['Access'],
        summary: "An identity's effective permissions, each with the assignments (or account grants) behind it",
        params: Type.Object({ id: Id }),
        querystring: Type.Object({ applicationId: Type.Optional(Id), space: Type.Optional(Space), minRevision: MinRevision }),
        response: { 200: Type.Object({ identityId: Type.String(), space: Space, items: Type.Array(HeldPermission), revision: Revision }) },
      },
    },
    async (request) => identityAccess(sd, actorOf(request), request.params.id, request.query),
  );
  app.get(
    '/permissions/:id/holders',
    {
      config: needs('read-permissions-any-application'),
      schema: {
        tags: ['Access'],
        summary: 'Every identity that holds the permission, with why (cursor-paged, ordered by identity id)',
        params: Type.Object({ id: Id }),
        querystring: Type.Object({
          space: Type.Optional(Space),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          cursor: Type.Optional(Type.String({ maxLength: 400 })),
          minRevision: MinRevision,
        }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                identity: Type.Object({ id: Type.String(), subject: Type.String(), username: Type.Union([Type.String(), Type.Null()]), displayName: Type.Union([Type.String(), Type.Null()]), status: Type.String() }),
                via: Type.Array(HeldVia),
              }),
            ),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
            revision: Revision,
          }),
        },
      },
    },
    async (request) => permissionHolders(sd, actorOf(request), request.params.id, request.query),
  );
  app.get(
    '/access/explain',
    {
      config: needs('read-permissions-any-application'),
      schema: {
        tags: ['Access'],
        summary: 'Why does the identity hold (or not hold) the permission? The chains of assignments behind it',
        querystring: Type.Object({
          identity: Type.String({ minLength: 1, maxLength: 200 }),
          permission: Type.String({ minLength: 1, maxLength: 200 }),
          application: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          contextType: Type.Optional(ContextType),
          contextId: Type.Optional(Id),
          space: Type.Optional(Space),
          minRevision: MinRevision,
        }),
        response: {
          200: Type.Object({
            identityId: Type.String(),
            permissionId: Type.String(),
            allowed: Type.Boolean(),
            chains: Type.Array(ExplainChain),
            notCounting: Type.Array(Type.Object({ assignmentId: Type.Union([Type.String(), Type.Null()]), reason: Type.String() })),
            revision: Revision,
          }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const context = q.contextType ? { type: q.contextType as ContextTypeValue, id: q.contextId ?? null } : undefined;
      return explainAccess(sd, actorOf(request), { identity: q.identity, permission: q.permission, application: q.application, context }, { space: q.space, minRevision: q.minRevision });
    },
  );
  app.get(
    '/access/drift',
    {
      config: needs('read-permissions-any-application'),
      schema: {
        tags: ['Access'],
        summary: 'Assigned but not provisioned, and provisioned but not assigned, per connected application',
        querystring: Type.Object({ applicationId: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })), minRevision: MinRevision }),
        response: { 200: perApplication({ assignedNotProvisioned: Type.Array(DriftEntry), provisionedNotAssigned: Type.Array(DriftEntry), truncated: Type.Boolean() }) },
      },
    },
    async (request) => accessDrift(sd, actorOf(request), request.query),
  );
  app.get(
    '/access/drift/summary',
    {
      config: needs('read-permissions-any-application'),
      schema: {
        tags: ['Access'],
        summary: 'Drift counted per connected application (what GET /access/drift lists, without its rows)',
        description:
          'For every connected application (in name order, none left out): how many (identity, permission) pairs are assigned but held by no active account of the identity, ' +
          'and how many (account, permission) grants of active accounts are not assigned (`orphanGrants` of them belong to accounts of no identity) — the same pairs `GET /access/drift` lists, never truncated. ' +
          'Answered by the access index, which keeps the counts and re-counts only the identities each change touches.',
        querystring: Type.Object({ minRevision: MinRevision }, { additionalProperties: false }),
        response: {
          200: perApplication({
            assignedNotProvisioned: Type.Integer({ minimum: 0 }),
            provisionedNotAssigned: Type.Integer({ minimum: 0 }),
            orphanGrants: Type.Integer({ minimum: 0, description: 'Of provisionedNotAssigned: grants of accounts that belong to no identity' }),
          }),
        },
      },
    },
    async (request) => accessDriftSummary(sd, actorOf(request), request.query),
  );

  // ---- provisioned space of connected applications ----
  const AccountParams = Type.Object({ id: Id, accountName: Type.String({ minLength: 1, maxLength: 300 }) });
  app.put(
    '/applications/:id/accounts/:accountName',
    {
      config: needs('manage-imports'),
      schema: {
        tags: ['Access'],
        summary: "Record an account of a connected application and the grants it holds (replaces the account's grants)",
        params: AccountParams,
        body: Type.Object(
          {
            identityId: Type.Optional(Type.Union([Id, Type.Null()], { description: 'The identity the account belongs to; null for an orphan' })),
            status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
            grants: Type.Array(
              Type.Object({ permission: Type.String({ minLength: 1, maxLength: 200, description: 'Permission id or name' }), context: Type.Optional(Context) }, { additionalProperties: false }),
              { maxItems: 5000 },
            ),
            importId: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
            observedAt: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Intersect([Account, Type.Object({ revision: Revision })]), 201: Type.Intersect([Account, Type.Object({ revision: Revision })]), ...errorResponses(422) },
      },
    },
    async (request, reply) => {
      const { account, created, revision } = await putAccount(sd, actorOf(request), request.params.id, request.params.accountName, request.body);
      return sendWritten(reply, created ? 201 : 200, account, revision);
    },
  );
  app.get(
    '/applications/:id/accounts',
    {
      config: needs('manage-imports', 'read-permissions-any-application'),
      schema: {
        tags: ['Access'],
        summary: "A connected application's accounts and grants, with how imports matched each to an identity",
        params: Type.Object({ id: Id }),
        querystring: Type.Object({
          ...ListQuery,
          state: Type.Optional(Type.Union(MATCHING_STATES.map((m) => Type.Literal(m)), { description: 'Only accounts in this matching state' })),
        }),
        response: { 200: PageOf(Account) },
      },
    },
    async (request) => {
      const { limit, cursor, state } = request.query;
      return listApplicationAccounts(sd, actorOf(request), request.params.id, { state }, { limit, cursor });
    },
  );
  app.delete(
    '/applications/:id/accounts/:accountName',
    {
      config: needs('manage-imports'),
      schema: { tags: ['Access'], summary: 'Remove an account and its grants', params: AccountParams, response: { 200: Type.Object({ revision: Revision }) } },
    },
    async (request, reply) => {
      const { revision } = await deleteAccount(sd, actorOf(request), request.params.id, request.params.accountName);
      return sendWritten(reply, 200, {}, revision);
    },
  );
}
