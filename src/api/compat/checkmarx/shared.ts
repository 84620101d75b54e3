/** Pieces shared by the Checkmarx profile's routes. */
import { Type } from '@sinclair/typebox';
import { type Page, MAX_PAGE_SIZE } from '../../../services/kernel/index.ts';

export const tags = ['checkmarx'];

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
