/** `/clients`: OAuth 2.0 clients for the client credentials grant. The secret is in the create response only. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { createClient, deleteClient, listClients } from '../../services/credentials/index.ts';
import { actorOf, sendWritten } from '../request-context.ts';
import { needs } from '../route-auth.ts';
import { AUTHORITY_ID } from './key-schemas.ts';

const Client = Type.Object({
  id: Type.String(),
  clientId: Type.String({ description: 'The client_id to authenticate with at POST /oauth/token' }),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  applicationId: Type.Union([Type.String(), Type.Null()]),
  identityId: Type.Union([Type.String(), Type.Null()]),
  authorityId: AUTHORITY_ID,
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
});

const CreateClient = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
        minItems: 1,
        maxItems: 50,
        description: 'Scopes the client may ask for (grantory:*, grantory:<right>, or a vendor scope such as cos_auth_api); default grantory:*',
      }),
    ),
    applicationId: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], { description: 'The application that "my application" reads mean' })),
    identityId: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], {
        description:
          "Whose rights the client uses; another identity than the caller's needs manage-credentials-of-others. Default: none when applicationId is given (the client acts as no identity, with read-permissions-my-application), else the caller's identity",
      }),
    ),
  },
  { additionalProperties: false },
);

export function registerClientRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  app.post(
    '/clients',
    {
      config: needs('manage-clients'),
      schema: {
        tags: ['Credentials'],
        summary: 'Create an OAuth 2.0 client (the secret is shown once)',
        body: CreateClient,
        response: { 201: Type.Intersect([Client, Type.Object({ clientSecret: Type.String(), revision: Type.Integer() })]) },
      },
    },
    async (request, reply) => {
      const { client, revision } = await createClient(sd, actorOf(request), request.body);
      return sendWritten(reply, 201, client, revision);
    },
  );
  app.get(
    '/clients',
    {
      config: needs('manage-clients'),
      schema: { tags: ['Credentials'], summary: 'List OAuth 2.0 clients (never their secrets)', response: { 200: Type.Object({ items: Type.Array(Client) }) } },
    },
    async (request) => ({ items: await listClients(sd, actorOf(request)) }),
  );
  app.delete(
    '/clients/:id',
    {
      config: needs('manage-clients'),
      schema: {
        tags: ['Credentials'],
        summary: 'Delete an OAuth 2.0 client (by id or client_id); its tokens stop working on the next request',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Object({ revision: Type.Integer() }) },
      },
    },
    async (request, reply) => {
      const { revision } = await deleteClient(sd, actorOf(request), request.params.id);
      return sendWritten(reply, 200, {}, revision);
    },
  );
}
