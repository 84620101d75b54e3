/** Lists paged with the API's cursors (`nextCursor`), cached by TanStack Query. */
import { useInfiniteQuery } from '@tanstack/react-query';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * ```ts
 * const list = useCursorList(['identities', q], (cursor) => unwrap(api.GET('/api/v1/identities', { params: { query: { q, cursor, limit: 200 } } })));
 * ```
 */
export function useCursorList<T>(key: readonly unknown[], fetchPage: (cursor: string | undefined) => Promise<Page<T>>, enabled = true) {
  const query = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }) => fetchPage(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: Page<T>) => last.nextCursor ?? undefined,
    enabled,
  });
  const rows = query.data?.pages.flatMap((p) => p.items) ?? [];
  return { ...query, rows };
}
