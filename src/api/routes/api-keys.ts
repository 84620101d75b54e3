/** `/api-keys`: API keys that act as an identity. The secret is in the create response only. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { createApiKey, deleteApiKey, listApiKeys } from '../../services/credentials/index.ts';
import { actorOf, sendWritten } from '../request-context.ts';
import { needs } from '../route-auth.ts';
import { AUTHORITY_ID, CreatedKey, KEY_FIELDS, keyCreateFields } from './key-schemas.ts';

const { name, ...keyFields } = KEY_FIELDS;
const ApiKey = Type.Object({ id: Type.String(), name, identityId: Type.String(), authorityId: AUTHORITY_ID, ...keyFields });

const CreateApiKey = Type.Object(
  {
    ...keyCreateFields('Narrow the key to these scopes (e.g. grantory:manage-users); null keeps every right of the identity'),
    identityId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: "Defaults to the caller's identity; another identity needs manage-credentials-of-others" }),
    ),
  },
  { additionalProperties: false },
);

export function registerApiKeyRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  app.post(
    '/api-keys',
    {
      config: needs('manage-clients'),
      schema: {
        tags: ['Credentials'],
        summary: 'Create an API key (the secret is shown once)',
        body: CreateApiKey,
        response: { 201: CreatedKey(ApiKey) },
      },
    },
    async (request, reply) => {
      const { key, revision } = await createApiKey(sd, actorOf(request), request.body);
      return sendWritten(reply, 201, key, revision);
    },
  );
  app.get(
    '/api-keys',
    {
      config: needs('manage-clients'),
      schema: { tags: ['Credentials'], summary: 'List API keys (never their secrets)', response: { 200: Type.Object({ items: Type.Array(ApiKey) }) } },
    },
    async (request) => ({ items: await listApiKeys(sd, actorOf(request)) }),
  );
  app.delete(
    '/api-keys/:id',
    {
      config: needs('manage-clients'),
      schema: {
        tags: ['Credentials'],
        summary: 'Delete an API key; it stops working on the next request',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Object({ revision: Type.Integer() }) },
      },
    },
    async (request, reply) => {
      const { revision } = await deleteApiKey(sd, actorOf(request), request.params.id);
      return sendWritten(reply, 200, {}, revision);
    },
  );
}
