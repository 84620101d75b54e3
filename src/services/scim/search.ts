/**
 * `POST /scim/v2/.search` (RFC 7644 §3.4.3): one query over Users and Groups at once.
 *
 * The filter is applied to each resource type; a type the filter cannot be applied to (it
 * names an attribute that type does not have, such as `userName` for Groups) has no matches,
 * and a filter no type takes is the 400 `invalidFilter` of the first. The list holds the
 * matching Users, then the matching Groups, each type in `sortBy` order; a type without the
 * `sortBy` attribute comes in its number order, after the others when ascending and before
 * them when descending (resources without the value sort last, RFC 7644 §3.4.2.3).
 */
import { AppError } from '../../domain/errors.ts';
import type { Actor } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { listScimGroups, type ScimGroup } from './groups.ts';
import type { ListQuery, ListResult } from './resources.ts';
import { listScimUsers, type ScimUser } from './users.ts';

type Lister = (query: ListQuery) => Promise<ListResult<ScimUser | ScimGroup>>;

/** Whether `error` is the 400 a query gets for naming an attribute (of `field`) a type lacks. */
const refusedFor = (error: unknown, field: 'filter' | 'sortBy') => error instanceof AppError && error.code === 'validation_failed' && error.errors?.[0]?.field === field;

export async function searchScimResources(deps: ServiceDeps, actor: Actor, query: ListQuery & { withMembers: boolean }, base: string): Promise<ListResult<ScimUser | ScimGroup>> {
  const listers: Lister[] = [(q) => listScimUsers(deps, actor, q, base), (q) => listScimGroups(deps, actor, { ...q, withMembers: query.withMembers }, base)];
  // Each type's total, and whether it takes the sort.
  const types: { list: Lister; total: number; sorted: boolean }[] = [];
  let refusal: unknown;
  for (const list of listers) {
    const tryCount = async (q: ListQuery) => (await list({ ...q, startIndex: 1, count: 0 })).total;
    try {
      types.push({ list, total: await tryCount(query), sorted: true });
    } catch (e) {
      if (query.sortBy && refusedFor(e, 'sortBy')) {
        types.push({ list, total: await tryCount({ ...query, sortBy: undefined }).catch((again: unknown) => (refusedFor(again, 'filter') ? 0 : Promise.reject(again))), sorted: false });
      } else if (refusedFor(e, 'filter')) {
        refusal ??= e;
      } else {
        throw e;
      }
    }
  }
  if (!types.length) throw refusal;
  if (query.sortBy) types.sort((a, b) => (a.sorted === b.sorted ? 0 : a.sorted === (query.sortOrder !== 'descending') ? -1 : 1));

  const resources: (ScimUser | ScimGroup)[] = [];
  let skip = query.startIndex - 1;
  for (const type of types) {
    if (resources.length >= query.count) break;
    if (skip >= type.total) {
      skip -= type.total;
      continue;
    }
    const page = await type.list({ ...query, ...(type.sorted ? {} : { sortBy: undefined }), startIndex: skip + 1, count: query.count - resources.length });
    resources.push(...page.resources);
    skip = 0;
  }
  return { total: types.reduce((sum, t) => sum + t.total, 0), resources };
}
