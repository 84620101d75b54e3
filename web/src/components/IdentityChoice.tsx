/**
 * Choosing an identity in a form: a search over GET /api/v1/identities and a list of the
 * matches (for holders of manage-users, who may list identities), or the identity's id typed
 * in (for everyone else: the API checks it). Suggested identities (an ambiguous account's
 * candidates) are listed first.
 */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { UseFormRegisterReturn } from 'react-hook-form';
import { api, unwrap } from '../api/client';
import { identityName, useNames } from '../api/names';
import { useSession } from '../session';
import { Field } from './ui';

export function IdentityChoice({ label, error, registration, exclude, suggested = [] }: { label: string; error: string | undefined; registration: UseFormRegisterReturn; exclude?: string; suggested?: readonly string[] }) {
  const { can } = useSession();
  const [search, setSearch] = useState('');
  const term = search.trim();
  const canSearch = can('manage-users');
  const people = useQuery({
    queryKey: ['identities', 'choice', term],
    enabled: canSearch && term.length > 0,
    queryFn: () => unwrap(api.GET('/api/v1/identities', { params: { query: { q: term, status: 'active', limit: 20 } } })),
  });
  const nameOf = useNames(suggested.map((id) => ({ kind: 'identity' as const, id })));
  if (!canSearch && suggested.length === 0) {
    return <Field label={`${label} (identity id)`} error={error}>{(p) => <input {...p} {...registration} />}</Field>;
  }
  const found = (people.data?.items ?? []).filter((i) => i.id !== exclude && !suggested.includes(i.id));
  return (
    <>
      {canSearch ? <Field label="Find a person">{(p) => <input {...p} type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Name, username or email" />}</Field> : null}
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
                {identityName(i)}
                {i.username ? ` (${i.username})` : ''}
              </option>
            ))}
          </select>
        )}
      </Field>
    </>
  );
}
