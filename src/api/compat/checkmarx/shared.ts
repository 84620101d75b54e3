/** Pieces shared by the Checkmarx profile's routes. */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { App } from '../../deps.ts';
import { actorOf } from '../../request-context.ts';
import { needs } from '../../route-auth.ts';
import { type Actor, type Page, MAX_PAGE_SIZE } from '../../../services/kernel/index.ts';

export const tags = ['Checkmarx profile'];

/** Checkmarx ids are integers: Grantory's `number`s. A non-integer id is a 400. */
export const CxIdParams = Type.Object({
  id: Type.Integer({ minimum: 0, maximum: 2147483647, description: 'The integer id (Grantory `number`)' }),
});

/** Checkmarx lists are not paged: read every page of a Grantory list (bounded). */
export async function collectAll<T>(fetchPage: (page: { limit: number; cursor?: string | undefined }) => Promise<Page<T>>, max = 100_000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage({ limit: MAX_PAGE_SIZE, cursor });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && items.length < max);
  return items;
}

export const cxDescription = (text: string): string =>
  `${text} Send \`Accept: application/json;v=1.0\` (or no version); the version is echoed in the response Content-Type. ` +
  'Errors: `{messageCode, messageDetails, code}`.';

export const CX_PREFIX_ROLES = '/cxrestapi/auth/Roles';

/**
 * A Checkmarx catalog collection: `GET {path}` (every object, in id order) and
 * `GET {path}/{id}` (one by its integer id: 404 unknown, 400 not an integer), readable with
 * manage-roles or manage-users.
 */
export function registerCxCollection<T extends TSchema>(
  app: App,
  collection: {
    path: string;
    item: T;
    list: { summary: string; description: string; read: (actor: Actor) => Promise<Static<T>[]> };
    /** `status`: the success status (default 200). */
    one: { summary: string; description: string; status?: 200 | 201; read: (actor: Actor, id: number) => Promise<Static<T>> };
  },
): void {
  const config = needs('manage-roles', 'manage-users');
  // The callers' reads are checked against `item`; Fastify's reply typing cannot follow a generic schema.
  const readAll: (actor: Actor) => Promise<unknown[]> = collection.list.read;
  const readOne: (actor: Actor, id: number) => Promise<unknown> = collection.one.read;
  const item: TSchema = collection.item;
  const status = collection.one.status ?? 200;
  app.get(
    collection.path,
    { config, schema: { tags, summary: collection.list.summary, description: cxDescription(collection.list.description), response: { 200: Type.Array(item) } } },
    async (request) => readAll(actorOf(request)),
  );
  app.get(
    `${collection.path}/:id`,
    { config, schema: { tags, summary: collection.one.summary, description: cxDescription(collection.one.description), params: CxIdParams, response: { [status]: item } } },
    async (request, reply) => reply.status(status).send(await readOne(actorOf(request), (request.params as Static<typeof CxIdParams>).id)),
  );
}
