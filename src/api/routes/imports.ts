/**
 * `/imports`, `/applications/{id}/connector`, `/applications/{id}/accounts`, `/orphans`:
 * application imports and their reconciliation. Multipart parsing is registered in this
 * route scope only (uploads stream to disk with a size limit).
 */
import multipart from '@fastify/multipart';
import { assertCleanText } from '../text-guard.ts';
import { UPLOAD } from '../request-deadline.ts';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { App, RouteDeps } from '../deps.ts';
import { ConnectorSchema } from '../../domain/connector.ts';
import { AppError } from '../../domain/errors.ts';
import { listOrphans, resolveAccount, cancelImport, getConnector, getImport, importSettings, listImportChanges, listImports, rejectImport, setConnector, stageImport, uploadImport, type UploadPart, approveImport, IMPORT_STATUSES } from '../../services/imports/index.ts';
import { actorOf, sendWritten } from '../request-context.ts';
import { needs } from '../route-auth.ts';
import { IdParams, ListQuery, Nullable, PageOf } from '../schemas.ts';

const Metrics = Type.Object({
  rowsRead: Type.Integer(),
  badRows: Type.Integer(),
  accountsObserved: Type.Integer(),
  accountsMatched: Type.Integer(),
  accountsOrphaned: Type.Integer(),
  accountsAmbiguous: Type.Integer(),
  accountsAdded: Type.Integer(),
  accountsRemoved: Type.Integer(),
  accountsDisabled: Type.Integer(),
  accountsUpdated: Type.Integer(),
  grantsAdded: Type.Integer(),
  grantsRemoved: Type.Integer(),
  permissionsCreated: Type.Integer(),
  permissionsUnknown: Type.Integer(),
});

export const ImportSchema = Type.Object({
  id: Type.String(),
  number: Type.Integer(),
  applicationId: Type.String(),
  type: Type.String({ description: 'Scheduled, Manual, API' }),
  source: Type.String({ description: 'stage (import directory) or upload' }),
  status: Type.String({ description: IMPORT_STATUSES.join(', ') }),
  dryRun: Type.Boolean(),
  phase: Nullable(Type.String({ description: 'queued, parse, match, apply while Running' })),
  createdBy: Type.String({ description: 'The name of the credential that queued it' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  scheduledFor: Nullable(Type.String()),
  buildStart: Nullable(Type.String()),
  buildEnd: Nullable(Type.String()),
  progress: Type.Object({
    rowsRead: Type.Integer(),
    rowsTotal: Nullable(Type.Integer({ description: 'Estimated from the line count before reading' })),
    bytesRead: Type.Integer(),
    bytesTotal: Nullable(Type.Integer()),
  }),
  files: Type.Array(Type.Object({ id: Type.String(), fileGroupId: Type.String(), fileGroup: Type.String(), name: Type.String(), size: Type.Integer() })),
  log: Type.Array(Type.Object({ time: Type.String(), level: Type.String(), message: Type.String() })),
  metrics: Nullable(Metrics),
  error: Nullable(Type.String()),
  heldReason: Nullable(Type.String()),
  decidedBy: Nullable(Type.String()),
  decidedAt: Nullable(Type.String()),
});

const GrantRef = Type.Object({ permission: Type.String(), context: Nullable(Type.String()) });
const ChangeSchema = Type.Object({
  seq: Type.Integer(),
  accountName: Type.String(),
  op: Type.String({ description: 'add, remove, update' }),
  matchState: Type.String(),
  matchRule: Nullable(Type.String()),
  identityBefore: Nullable(Type.String()),
  identityAfter: Nullable(Type.String()),
  statusBefore: Nullable(Type.String()),
  statusAfter: Nullable(Type.String()),
  grantsAdded: Type.Array(GrantRef),
  grantsRemoved: Type.Array(GrantRef),
});

const OrphanSchema = Type.Object({
  applicationId: Type.String(),
  accountName: Type.String(),
  state: Type.String({ description: 'orphan or ambiguous' }),
  candidates: Type.Array(Type.String()),
  importId: Type.String(),
  firstSeenAt: Type.String(),
  updatedAt: Type.String(),
});

const Written = <T extends ReturnType<typeof Type.Object>>(s: T) => Type.Intersect([s, Type.Object({ revision: Type.Integer() })]);
const tags = ['Imports'];

/** Adapts @fastify/multipart's parts to the service's upload parts. */
export async function* uploadParts(request: FastifyRequest): AsyncGenerator<UploadPart> {
  for await (const part of request.parts()) {
    // Part names, field values and file names are checked like any other request text.
    assertCleanText(part.fieldname, 'fieldname', false);
    if (part.type === 'field') {
      const value = typeof part.value === 'string' ? part.value : String(part.value);
      assertCleanText(value, part.fieldname, false);
      yield { kind: 'field', name: part.fieldname, value };
    } else {
      assertCleanText(part.filename, `${part.fieldname}.filename`, false);
      yield { kind: 'file', name: part.fieldname, filename: part.filename, stream: part.file };
    }
  }
}

/** Registers multipart parsing in the calling scope with the import upload limits. */
export async function registerUploadParsing(app: App, deps: RouteDeps): Promise<void> {
  await app.register(multipart, {
    limits: { fileSize: importSettings(deps.services.deps).uploadLimit, files: 20, fields: 10, fieldSize: 1024, parts: 40, headerPairs: 100 },
  });
}

export async function registerImportRoutes(app: App, deps: RouteDeps): Promise<void> {
  const sd = deps.services.deps;
  await registerUploadParsing(app, deps);

  app.get(
    '/imports',
    {
      config: needs('manage-imports'),
      schema: {
        tags,
        summary: 'List imports, newest first',
        querystring: Type.Object({
          ...ListQuery,
          applicationId: Type.Optional(Type.String({ maxLength: 64 })),
          status: Type.Optional(Type.Union(IMPORT_STATUSES.map((s) => Type.Literal(s)))),
        }),
        response: { 200: PageOf(ImportSchema) },
      },
    },
    async (request) => {
      const { cursor, limit, applicationId, status } = request.query;
      return listImports(sd, actorOf(request), { applicationId, status }, { cursor, limit });
    },
  );

  app.get(
    '/imports/:id',
    { config: needs('manage-imports'), schema: { tags, summary: 'An import: status, progress, files, log, metrics', params: IdParams, response: { 200: ImportSchema } } },
    async (request) => getImport(sd, actorOf(request), request.params.id),
  );

  const StageBody = Type.Object(
    { applicationId: Type.String({ minLength: 1, maxLength: 64 }), dryRun: Type.Optional(Type.Boolean({ description: 'Compute the full result, apply nothing' })) },
    { additionalProperties: false },
  );
  app.post(
    '/imports/stage',
    {
      config: needs('manage-imports'),
      schema: { tags, summary: "Stage an import from the application's folder of the import directory", body: StageBody, response: { 201: Written(ImportSchema) } },
    },
    async (request, reply) => {
      const { value, revision } = await stageImport(sd, actorOf(request), request.body, 'API');
      return sendWritten(reply, 201, value, revision);
    },
  );

  app.post(
    '/imports/dry-run',
    {
      config: needs('manage-imports'),
      schema: {
        tags,
        summary: 'Stage a dry run: the full result (metrics, diff) with nothing applied',
        body: Type.Object({ applicationId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        response: { 201: Written(ImportSchema) },
      },
    },
    async (request, reply) => {
      const { value, revision } = await stageImport(sd, actorOf(request), { applicationId: request.body.applicationId, dryRun: true }, 'API');
      return sendWritten(reply, 201, value, revision);
    },
  );

  app.post(
    '/imports/upload',
    {
      config: { ...needs('manage-imports'), ...UPLOAD },
      schema: {
        tags,
        summary: 'Upload an import: multipart/form-data with applicationId and one file part per file group, named by its id',
        consumes: ['multipart/form-data'],
        querystring: Type.Object({ applicationId: Type.Optional(Type.String({ maxLength: 64 })), dryRun: Type.Optional(Type.Boolean()) }),
        response: { 201: Written(ImportSchema) },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw new AppError('unsupported_media_type', 'send the files as multipart/form-data');
      const { value, revision } = await uploadImport(sd, actorOf(request), uploadParts(request), {
        type: 'API',
        applicationId: request.query.applicationId,
        dryRun: request.query.dryRun,
      });
      return sendWritten(reply, 201, value, revision);
    },
  );

  app.post(
    '/imports/:id/cancel',
    { config: needs('manage-imports'), schema: { tags, summary: 'Cancel a Pending, Running or Held import (409 otherwise)', params: IdParams, response: { 200: Written(ImportSchema) } } },
    async (request, reply) => {
      const { value, revision } = await cancelImport(sd, actorOf(request), request.params.id);
      return sendWritten(reply, 200, value, revision);
    },
  );

  app.post(
    '/imports/:id/approve',
    {
      config: needs('manage-imports'),
      schema: {
        tags,
        summary: 'Approve a held import: its reviewed diff is applied',
        params: IdParams,
        body: Type.Optional(Type.Object({ note: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false })),
        response: { 200: Written(ImportSchema) },
      },
    },
    async (request, reply) => {
      const { value, revision } = await approveImport(sd, actorOf(request), request.params.id, request.body?.note);
      return sendWritten(reply, 200, value, revision);
    },
  );

  app.post(
    '/imports/:id/reject',
    {
      config: needs('manage-imports'),
      schema: {
        tags,
        summary: 'Reject a held import: nothing of it is applied',
        params: IdParams,
        body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false })),
        response: { 200: Written(ImportSchema) },
      },
    },
    async (request, reply) => {
      const { value, revision } = await rejectImport(sd, actorOf(request), request.params.id, request.body?.reason);
      return sendWritten(reply, 200, value, revision);
    },
  );

  app.get(
    '/imports/:id/changes',
    {
      config: needs('manage-imports'),
      schema: {
        tags,
        summary: "The import's per-account diff",
        params: IdParams,
        querystring: Type.Object({ ...ListQuery, op: Type.Optional(Type.Union([Type.Literal('add'), Type.Literal('remove'), Type.Literal('update')])) }),
        response: { 200: PageOf(ChangeSchema) },
      },
    },
    async (request) => {
      const { cursor, limit, op } = request.query;
      return listImportChanges(sd, actorOf(request), request.params.id, { cursor, limit }, { op });
    },
  );

  app.get(
    '/applications/:id/connector',
    {
      config: needs('manage-imports', 'manage-applications'),
      schema: { tags, summary: "The application's connector configuration", params: IdParams, response: { 200: Type.Object({ connector: Nullable(ConnectorSchema) }) } },
    },
    async (request) => ({ connector: await getConnector(sd, actorOf(request), request.params.id) }),
  );

  app.put(
    '/applications/:id/connector',
    {
      config: needs('manage-imports', 'manage-applications'),
      schema: {
        tags,
        summary: 'Set the connector configuration (file groups get GUID ids when they have none)',
        params: IdParams,
        body: ConnectorSchema,
        response: { 200: Type.Object({ connector: ConnectorSchema, revision: Type.Integer() }) },
      },
    },
    async (request, reply) => {
      const { value, revision } = await setConnector(sd, actorOf(request), request.params.id, request.body);
      return sendWritten(reply, 200, { connector: value }, revision);
    },
  );

  app.put(
    '/applications/:id/account-resolutions/:accountName',
    {
      config: needs('manage-imports'),
      schema: {
        tags,
        summary: 'Resolve an orphan or ambiguous account: link it to an identity, or mark it service or ignored (kept across imports)',
        params: Type.Object({ id: Type.String({ maxLength: 64 }), accountName: Type.String({ minLength: 1, maxLength: 500 }) }),
        body: Type.Object(
          {
            resolution: Type.Union([Type.Literal('linked'), Type.Literal('service'), Type.Literal('ignored')]),
            identityId: Type.Optional(Type.String({ maxLength: 64 })),
            note: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            applicationId: Type.String(),
            accountName: Type.String(),
            resolution: Type.String(),
            identityId: Nullable(Type.String()),
            note: Nullable(Type.String()),
            createdBy: Type.String(),
            createdAt: Type.String(),
            updatedAt: Type.String(),
            revision: Type.Integer(),
          }),
        },
      },
    },
    async (request, reply) => {
      const { value, revision } = await resolveAccount(sd, actorOf(request), request.params.id, request.params.accountName, request.body);
      return sendWritten(reply, 200, value, revision);
    },
  );

  app.get(
    '/orphans',
    {
      config: needs('manage-imports'),
      schema: {
        tags,
        summary: 'Accounts the last import of their application could not match (orphan) or matched to several identities (ambiguous)',
        querystring: Type.Object({
          ...ListQuery,
          applicationId: Type.Optional(Type.String({ maxLength: 64 })),
          state: Type.Optional(Type.Union([Type.Literal('orphan'), Type.Literal('ambiguous')])),
        }),
        response: { 200: PageOf(OrphanSchema) },
      },
    },
    async (request) => {
      const { cursor, limit, applicationId, state } = request.query;
      return listOrphans(sd, actorOf(request), { applicationId, state }, { cursor, limit });
    },
  );
}
