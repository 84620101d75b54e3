/**
 * The Permission Assist profile (COMPAT.md §2): identities, applications and application
 * imports under `/api`, in the vendor's shapes, page envelope and error body. Bearer
 * tokens are Grantory API keys; what a token does is recorded with its name as the actor.
 */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../../deps.ts';
import { AppError } from '../../../domain/errors.ts';
import { challengeOf, toAppError } from '../../problem.ts';
import { actorOf } from '../../request-context.ts';
import { needs } from '../../route-auth.ts';
import { gateProfile } from '../profile-switch.ts';
import { UPLOAD } from '../../request-deadline.ts';
import { declareVendorErrors } from '../../error-responses.ts';
import { PaApplication, PaApplicationSummary, PaIdentity, PaImport, PaPage } from './schemas.ts';
import { registerUploadParsing, uploadParts } from '../../routes/imports.ts';
import { getApplicationRecord, getIdentityRecord, listApplicationsByPage, listIdentitiesByPage, cancelImport, getImport, listImportsByPage, stageImport, uploadImport, type ImportView } from '../../../services/imports/index.ts';
import type { ServiceDeps } from '../../../services/deps.ts';
import type { Actor } from '../../../services/kernel/index.ts';
import { registerPaAccessRequests } from './access-requests.ts';
import { registerPaPersonnelEventRoutes } from './personnel-events.ts';
import { paError, PaErrorBody, paStatusOf, paPage, PA_PAGE_SIZE, toPaApplication, toPaApplicationSummary, toPaIdentity, toPaImport } from './mapping.ts';

const tags = ['Permission Assist profile'];
const Guid = Type.String({ minLength: 1, maxLength: 64, description: 'GUID' });
const PageQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: 'Page number, from 1' })),
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: PA_PAGE_SIZE })),
});
const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function requireGuid(value: string, field: string): void {
  if (!GUID_RE.test(value)) throw new AppError('validation_failed', `${field} must be a GUID`, { errors: [{ field, message: 'must be a GUID' }] });
}

async function renderImport(deps: ServiceDeps, actor: Actor, view: ImportView) {
  const app = await getApplicationRecord(deps, actor, view.applicationId).catch((e: unknown) => {
    if (e instanceof AppError && e.code === 'not_found') return null;
    throw e;
  });
  return toPaImport(view, app?.row ?? null);
}

export async function registerPermissionAssist(app: App, deps: RouteDeps): Promise<void> {
  const sd = deps.services.deps;

  // The vendor's error body for everything in this scope (validation, auth, services).
  declareVendorErrors(app, { statusOf: paStatusOf, bodyOf: () => PaErrorBody, description: 'the Permission Assist error body', always: [403] }); // 403: the profile turned off (profile-switch.ts)
  app.setErrorHandler(async (error, request, reply) => {
    const { appError, unexpected } = toAppError(error);
    if (unexpected) request.log.error({ err: error }, 'unexpected error');
    const { status, body } = paError(appError, request.id, request.method === 'POST');
    if (status === 401) reply.header('WWW-Authenticate', challengeOf(appError));
    return reply.status(status).type('application/json').send(body);
  });
  gateProfile(app, deps, 'permissionAssist');
  await registerUploadParsing(app, deps);

  app.get(
    '/api/identities',
    { config: needs('manage-users', 'manage-imports', 'approve-requests', 'manage-personnel-events'), schema: { tags, summary: 'Identities (Permission Assist)', querystring: PageQuery, response: { 200: PaPage(PaIdentity) } } },
    async (request) => {
      const page = request.query.page ?? 1;
      const size = request.query.pageSize ?? PA_PAGE_SIZE;
      const { items, total } = await listIdentitiesByPage(sd, actorOf(request), (page - 1) * size, size);
      return paPage(items.map(toPaIdentity), total, page, size);
    },
  );

  app.get(
    '/api/identities/:id',
    { config: needs('manage-users', 'manage-imports', 'approve-requests', 'manage-personnel-events'), schema: { tags, summary: 'One identity (Permission Assist)', params: Type.Object({ id: Guid }), response: { 200: PaIdentity } } },
    async (request) => {
      requireGuid(request.params.id, 'id');
      return toPaIdentity(await getIdentityRecord(sd, actorOf(request), request.params.id));
    },
  );

  app.get(
    '/api/applications',
    { config: needs('manage-applications', 'manage-imports'), schema: { tags, summary: 'Applications (Permission Assist)', querystring: PageQuery, response: { 200: PaPage(PaApplicationSummary) } } },
    async (request) => {
      const page = request.query.page ?? 1;
      const size = request.query.pageSize ?? PA_PAGE_SIZE;
      const { items, total } = await listApplicationsByPage(sd, actorOf(request), (page - 1) * size, size);
      return paPage(items.map(toPaApplicationSummary), total, page, size);
    },
  );

  app.get(
    '/api/applications/:id',
    {
      config: needs('manage-applications', 'manage-imports'),
      schema: { tags, summary: 'One application with its connector configuration and last import status (Permission Assist)', params: Type.Object({ id: Guid }), response: { 200: PaApplication } },
    },
    async (request) => {
      requireGuid(request.params.id, 'id');
      return toPaApplication(await getApplicationRecord(sd, actorOf(request), request.params.id));
    },
  );

  app.get(
    '/api/application-imports',
    {
      config: needs('manage-imports'),
      schema: {
        tags,
        summary: 'Application imports, newest first (Permission Assist)',
        querystring: Type.Intersect([PageQuery, Type.Object({ applicationId: Type.Optional(Guid) })]),
        response: { 200: PaPage(PaImport) },
      },
    },
    async (request) => {
      const page = request.query.page ?? 1;
      const size = request.query.pageSize ?? PA_PAGE_SIZE;
      if (request.query.applicationId) requireGuid(request.query.applicationId, 'applicationId');
      const actor = actorOf(request);
      const { items, total } = await listImportsByPage(sd, actor, { applicationId: request.query.applicationId }, (page - 1) * size, size);
      const rendered = [];
      for (const v of items) rendered.push(await renderImport(sd, actor, v));
      return paPage(rendered, total, page, size);
    },
  );

  app.get(
    '/api/application-imports/:id',
    { config: needs('manage-imports'), schema: { tags, summary: 'One application import (Permission Assist)', params: Type.Object({ id: Guid }), response: { 200: PaImport } } },
    async (request) => {
      requireGuid(request.params.id, 'id');
      const actor = actorOf(request);
      return renderImport(sd, actor, await getImport(sd, actor, request.params.id));
    },
  );

  app.post(
    '/api/application-imports/stage',
    {
      config: needs('manage-imports'),
      schema: {
        tags,
        summary: "Stage an import from the application's folder of the shared import directory (Permission Assist)",
        body: Type.Object({ applicationId: Guid }, { additionalProperties: false }),
        response: { 201: PaImport },
      },
    },
    async (request, reply) => {
      requireGuid(request.body.applicationId, 'applicationId');
      const actor = actorOf(request);
      const { value } = await stageImport(sd, actor, { applicationId: request.body.applicationId }, 'API');
      return reply.status(201).send(await renderImport(sd, actor, value));
    },
  );

  app.post(
    '/api/application-imports/upload',
    {
      config: { ...needs('manage-imports'), ...UPLOAD },
      schema: { tags, summary: 'Upload an import: multipart with applicationId and one file part per file group, named by its id (Permission Assist)', consumes: ['multipart/form-data'], response: { 201: PaImport } },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw new AppError('validation_failed', 'send multipart/form-data with applicationId and the files', { errors: [{ field: 'applicationId', message: 'is required' }] });
      const actor = actorOf(request);
      const { value } = await uploadImport(sd, actor, uploadParts(request), { type: 'API' });
      return reply.status(201).send(await renderImport(sd, actor, value));
    },
  );

  app.post(
    '/api/application-imports/cancel',
    {
      config: needs('manage-imports'),
      schema: { tags, summary: 'Cancel a Pending or Running import (Permission Assist)', body: Type.Object({ applicationImportId: Guid }, { additionalProperties: false }), response: { 200: PaImport } },
    },
    async (request, reply) => {
      requireGuid(request.body.applicationImportId, 'applicationImportId');
      const actor = actorOf(request);
      const { value } = await cancelImport(sd, actor, request.body.applicationImportId, 'applicationImportId');
      return reply.status(200).send(await renderImport(sd, actor, value));
    },
  );

  await registerPaAccessRequests(app, deps);
  registerPaPersonnelEventRoutes(app, deps);
}
