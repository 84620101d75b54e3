/** Names of objects the API answers by id (roles, units, identities, permissions), cached. */
import { useMemo } from 'react';
import { useQueries, useQuery } from '@tanstack/react-query';
import { api, unwrap } from './client';

export type NamedKind = 'role' | 'unit' | 'identity' | 'permission' | 'application';

async function fetchName(kind: NamedKind, id: string): Promise<string> {
  const path = { params: { path: { id } } };
  switch (kind) {
    case 'role':
      return (await unwrap(api.GET('/api/v1/roles/{id}', path))).name;
    case 'unit':
      return (await unwrap(api.GET('/api/v1/org-units/{id}', path))).name;
    case 'permission':
      return (await unwrap(api.GET('/api/v1/permissions/{id}', path))).name;
    case 'application':
      return (await unwrap(api.GET('/api/v1/applications/{id}', path))).name;
    case 'identity': {
      const identity = await unwrap(api.GET('/api/v1/identities/{id}', path));
      return identityName(identity);
    }
  }
}

export function identityName(identity: { displayName: string | null; firstName: string | null; lastName: string | null; username: string | null; subject: string }): string {
  return identity.displayName ?? ([identity.firstName, identity.lastName].filter(Boolean).join(' ') || identity.username || identity.subject);
}

const nameQuery = (kind: NamedKind, id: string) => ({
  queryKey: ['name', kind, id],
  queryFn: () => fetchName(kind, id),
  staleTime: 5 * 60_000,
  retry: false,
});

/** One object's name (its id while loading or when the caller may not read it). */
export function useName(kind: NamedKind, id: string | null | undefined): string {
  const query = useQuery({ ...nameQuery(kind, id ?? ''), enabled: Boolean(id) });
  return query.data ?? (id ? `${kind} ${id.slice(0, 8)}` : '—');
}

export function Name({ kind, id }: { kind: NamedKind; id: string | null | undefined }) {
  return <>{useName(kind, id)}</>;
}

/** Names of many objects at once: a lookup function for the graph. */
export function useNames(wanted: readonly { kind: NamedKind; id: string }[]): (kind: NamedKind, id: string) => string {
  const results = useQueries({ queries: wanted.map((w) => nameQuery(w.kind, w.id)) });
  const names = new Map<string, string>();
  wanted.forEach((w, i) => {
    const data = results[i]?.data;
    if (data) names.set(`${w.kind}:${w.id}`, data);
  });
  const key = wanted.map((w) => `${w.kind}:${w.id}=${names.get(`${w.kind}:${w.id}`) ?? ''}`).join('|');
  // A new function only when a name arrived: the graph lays out again only then.
  return useMemo(() => (kind: NamedKind, id: string) => names.get(`${kind}:${id}`) ?? `${kind} ${id.slice(0, 8)}`, [key]);
}
