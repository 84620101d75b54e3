/** `GET /ServiceProviders`, `GET /ServiceProviders/{id}`: applications, Checkmarx-shaped. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../../deps.ts';
import { getApplicationByNumber, listApplications } from '../../../services/catalog/index.ts';
import { actorOf } from '../../request-context.ts';
import { needs } from '../../route-auth.ts';
import { CxIdParams, collectAll, cxDescription, tags } from './shared.ts';

export const CxServiceProvider = Type.Object({
  id: Type.Integer({ description: 'The application number' }),
  name: Type.String(),
});

export function registerCxServiceProviderRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  const readRights = needs('manage-roles', 'manage-users');

  app.get(
    '/ServiceProviders',
    {
      config: readRights,
      schema: {
        tags,
        summary: 'Checkmarx: get all service providers (applications)',
        description: cxDescription('Every application, in id order; `serviceProviderId` of a permission refers to these.'),
        response: { 200: Type.Array(CxServiceProvider) },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const apps = await collectAll((page) => listApplications(sd, actor, {}, page));
      return apps.map((a) => ({ id: a.number, name: a.name }));
    },
  );

  app.get(
    '/ServiceProviders/:id',
    {
      config: readRights,
      schema: {
        tags,
        summary: 'Checkmarx: get a service provider (application) by id',
        description: cxDescription('404 for an unknown id; 400 for a non-integer id.'),
        params: CxIdParams,
        response: { 200: CxServiceProvider },
      },
    },
    async (request) => {
      const a = await getApplicationByNumber(sd, actorOf(request), request.params.id);
      return { id: a.number, name: a.name };
    },
  );
}
