/** `GET /ServiceProviders`, `GET /ServiceProviders/{id}`: applications, Checkmarx-shaped. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../../deps.ts';
import { getApplicationByNumber, listApplications } from '../../../services/catalog/index.ts';
import { collectAll, registerCxCollection } from './shared.ts';

export const CxServiceProvider = Type.Object({
  id: Type.Integer({ description: 'The application number' }),
  name: Type.String(),
});

export function registerCxServiceProviderRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  registerCxCollection(app, {
    path: '/ServiceProviders',
    item: CxServiceProvider,
    list: {
      summary: 'Checkmarx: get all service providers (applications)',
      description: 'Every application, in id order; `serviceProviderId` of a permission refers to these.',
      read: async (actor) => (await collectAll((page) => listApplications(sd, actor, {}, page))).map((a) => ({ id: a.number, name: a.name })),
    },
    one: {
      summary: 'Checkmarx: get a service provider (application) by id',
      description: '404 for an unknown id; 400 for a non-integer id.',
      read: async (actor, id) => {
        const a = await getApplicationByNumber(sd, actor, id);
        return { id: a.number, name: a.name };
      },
    },
  });
}
