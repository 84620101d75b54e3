/** `/applications/{id}/keys`: application keys for `Authorization: AppKey <key>`. The secret is in the create response only. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { createApplicationKey, deleteApplicationKey, listApplicationKeys } from '../../services/credentials/index.ts';
import { actorOf, sendWritten } from '../request-context.ts';
import { needs } from '../route-auth.ts';
import { CreatedKey, KEY_FIELDS, keyCreateFields } from './key-schemas.ts';

const { name, ...keyFields } = KEY_FIELDS;
const ApplicationKey = Type.Object({ id: Type.String(), applicationId: Type.String(), name, ...keyFields });

const CreateApplicationKey = Type.Object(
  keyCreateFields('Narrow the key further (e.g. add email to see e-mail addresses where a profile offers them); null: not narrowed'),
  { additionalProperties: false },
);

const AppParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export function registerApplicationKeyRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  app.post(
    '/applications/:id/keys',
    {
      config: needs('manage-clients'),
      schema: {
        tags: ['Credentials'],
        summary: "Create an application key (the secret is shown once); it reads its application's permissions",
        params: AppParams,
        body: CreateApplicationKey,
        response: { 201: CreatedKey(ApplicationKey) },
      },
    },
    async (request, reply) => {
      const { key, revision } = await createApplicationKey(sd, actorOf(request), request.params.id, request.body);
      return sendWritten(reply, 201, key, revision);
    },
  );
  app.get(
    '/applications/:id/keys',
    {
      config: needs('manage-clients'),
      schema: {
        tags: ['Credentials'],
        summary: "List an application's keys (never their secrets)",
        params: AppParams,
        response: { 200: Type.Object({ items: Type.Array(ApplicationKey) }) },
      },
    },
    async (request) => ({ items: await listApplicationKeys(sd, actorOf(request), request.params.id) }),
  );
  app.delete(
    '/applications/:id/keys/:keyId',
    {
      config: needs('manage-clients'),
      schema: {
        tags: ['Credentials'],
        summary: 'Delete an application key; it stops working on the next request',
        params: Type.Object({ id: Type.String({ maxLength: 64 }), keyId: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Object({ revision: Type.Integer() }) },
      },
    },
    async (request, reply) => {
      const { revision } = await deleteApplicationKey(sd, actorOf(request), request.params.id, request.params.keyId);
      return sendWritten(reply, 200, {}, revision);
    },
  );
}
