/**
 * Choosing an identity in a form: a search by name and a list of the matches. Holders of
 * manage-users search GET /api/v1/identities (also by e-mail and employee number); everyone
 * else searches the directory lookup, GET /api/v1/directory/identities (active identities,
 * name and username only, from two characters). Suggested identities (an ambiguous account's
 * candidates) are listed first.
 */
import { useDeferredValue, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { UseFormRegisterReturn } from 'react-hook-form';
import { api, unwrap } from '../api/client';
import { identityName, useNames } from '../api/names';
import { useSession } from '../session';
import { Field } from './ui';

interface Match {
  id: string;
  name: string;
  username: string | null;
}

/** The lookup's shortest search (GET /api/v1/directory/identities refuses a shorter one). */
const DIRECTORY_MIN = 2;

async function findPeople(term: string, fullDirectory: boolean): Promise<Match[]> {
  if (fullDirectory) {
    const page = await unwrap(api.GET('/api/v1/identities', { params: { query: { q: term, status: 'active', limit: 20 } } }));
    return page.items.map((i) => ({ id: i.id, name: identityName(i), username: i.username }));
  }
  const found = await unwrap(api.GET('/api/v1/directory/identities', { params: { query: { q: term, limit: 20 } } }));
  return found.items.map((i) => ({ id: i.id, name: i.displayName ?? i.username ?? i.id, username: i.username }));
}

export function IdentityChoice({ label, error, registration, exclude, suggested = [] }: { label: string; error: string | undefined; registration: UseFormRegisterReturn; exclude?: string; suggested?: readonly string[] }) {
  const { can } = useSession();
  const [search, setSearch] = useState('');
  const term = useDeferredValue(search.trim());
  const fullDirectory = can('manage-users');
  const searchable = term.length >= (fullDirectory ? 1 : DIRECTORY_MIN);
  const people = useQuery({
    queryKey: ['identities', 'choice', fullDirectory ? 'all' : 'directory', term],
    enabled: searchable,
    queryFn: () => findPeople(term, fullDirectory),
    staleTime: 30_000,
  });
  const nameOf = useNames(suggested.map((id) => ({ kind: 'identity' as const, id })));
  const found = (people.data ?? []).filter((i) => i.id !== exclude && !suggested.includes(i.id));
  const hint = !searchable
    ? fullDirectory
      ? 'Type a name, username or e-mail address.'
      : `Type at least ${DIRECTORY_MIN} letters of a name or username.`
    : people.isPending
      ? 'Searching…'
      : `${found.length === 0 ? 'No active identity matches' : `${found.length}${found.length === 20 ? '+' : ''} found`}.`;
  return (
    <>
      <Field label="Find a person" hint={hint}>
        {(p) => <input {...p} type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder={fullDirectory ? 'Name, username or email' : 'Name or username'} autoComplete="off" />}
      </Field>
      <Field label={label} error={error}>
        {(p) => (
          <select {...p} {...registration} size={5}>
            {suggested.map((id) => (
              <option key={id} value={id}>
                {`Suggested: ${nameOf('identity', id)}`}
              </option>
            ))}
            {found.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name}
                {i.username && i.username !== i.name ? ` (${i.username})` : ''}
              </option>
            ))}
          </select>
        )}
      </Field>
    </>
  );
}
