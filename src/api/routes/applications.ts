/** `/applications`: the systems whose access Grantory governs. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { etagOf } from '../../domain/etag.ts';
import { CATALOG_READ_RIGHTS, createApplication, deleteApplication, getApplication, listApplications, updateApplication } from '../../services/catalog/index.ts';
import { actorOf, sendWithEtag, sendWritten } from '../request-context.ts';
import { needs } from '../route-auth.ts';
import { IdParams, IdempotencyHeaders, IfMatchHeaders, ListQuery, PageOf, RevisionOnly, Written } from '../schemas.ts';
import { Application, ApplicationListQuery, CreateApplication, PatchApplication } from './catalog-schemas.ts';

const tags = ['Applications'];

export function registerApplicationRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;

  app.post(
    '/applications',
    {
      config: needs('manage-applications'),
      schema: {
        tags,
        summary: 'Create an application',
        description: 'Names are unique in the tenant (409 naming `name`); `ownerIds` must be existing identities.',
        headers: IdempotencyHeaders,
        body: CreateApplication,
        response: { 201: Written(Application) },
      },
    },
    async (request, reply) => {
      const { value, version, revision } = await createApplication(sd, actorOf(request), request.body);
      reply.header('etag', etagOf(version)).header('location', `/api/v1/applications/${value.id}`);
      return sendWritten(reply, 201, value, revision);
    },
  );

  app.get(
    '/applications',
    {
      config: needs(...CATALOG_READ_RIGHTS),
      schema: {
        tags,
        summary: 'List applications',
        description: 'In `number` order, cursor-paged. Filters: `q` (part of the name), `kind`, `archived`.',
        querystring: Type.Object({ ...ListQuery, ...ApplicationListQuery }, { additionalProperties: false }),
        response: { 200: PageOf(Application) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return listApplications(sd, actorOf(request), filter, { limit, cursor });
    },
  );

  app.get(
    '/applications/:id',
    {
      config: needs(...CATALOG_READ_RIGHTS),
      schema: { tags, summary: 'Get an application (with its ETag)', params: IdParams, response: { 200: Application } },
    },
    async (request, reply) => {
      const { value, version } = await getApplication(sd, actorOf(request), request.params.id);
      return sendWithEtag(reply, value, version);
    },
  );

  app.patch(
    '/applications/:id',
    {
      config: needs('manage-applications'),
      schema: {
        tags,
        summary: 'Change an application',
        description: 'Only the fields sent change; `null` clears a nullable field. The built-in `grantory` application is read-only (409).',
        params: IdParams,
        headers: IfMatchHeaders,
        body: PatchApplication,
        response: { 200: Written(Application) },
      },
    },
    async (request, reply) => {
      const { value, version, revision } = await updateApplication(sd, actorOf(request), request.params.id, request.body, request.headers['if-match']);
      reply.header('etag', etagOf(version));
      return sendWritten(reply, 200, value, revision);
    },
  );

  app.delete(
    '/applications/:id',
    {
      config: needs('manage-applications'),
      schema: {
        tags,
        summary: 'Delete an application and its permissions',
        description: 'Refused (409) while any of its permissions is assigned or held by a role, and for the built-in application.',
        params: IdParams,
        headers: IfMatchHeaders,
        response: { 200: RevisionOnly },
      },
    },
    async (request, reply) => {
      const { revision } = await deleteApplication(sd, actorOf(request), request.params.id, request.headers['if-match']);
      return sendWritten(reply, 200, {}, revision);
    },
  );
}
