/** Access requests: ask for a requestable permission or role, and follow my requests. */
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { z } from 'zod';
import { api, unwrap } from '../api/client';
import { useMe } from '../session';
import { applyFieldErrors, Empty, ErrorNote, Field, PageHeader, QueryState } from '../components/ui';
import { RequestsTable } from './Identity';

const RequestSchema = z
  .object({
    resource: z.string().min(1, 'Choose what you need'),
    justification: z.string().trim().min(1, 'Say why you need it').max(2000),
    validFrom: z.string().optional(),
    validTo: z.string().optional(),
  })
  .refine((v) => !v.validFrom || !v.validTo || v.validFrom < v.validTo, { path: ['validTo'], message: 'Must be after the start' });

export default function RequestsPage() {
  const me = useMe();
  const queryClient = useQueryClient();
  const [search, setSearch] = useState('');
  const [formError, setFormError] = useState<unknown>(null);
  const term = search.trim();
  const mine = useQuery({ queryKey: ['access-requests', 'mine', me.identityId], enabled: Boolean(me.identityId), queryFn: () => unwrap(api.GET('/api/v1/access-requests', { params: { query: { requesterId: me.identityId ?? '', limit: 100 } } })) });
  const requestable = useQuery({ queryKey: ['permissions', 'requestable', term], queryFn: () => unwrap(api.GET('/api/v1/permissions', { params: { query: { limit: 50, ...(term ? { q: term } : {}) } } })) });
  const form = useForm<z.infer<typeof RequestSchema>>({ resolver: zodResolver(RequestSchema), defaultValues: { resource: '', justification: '', validFrom: '', validTo: '' } });
  const submit = form.handleSubmit(async (v) => {
    setFormError(null);
    if (!me.identityId) return;
    try {
      await unwrap(
        api.POST('/api/v1/access-requests', {
          body: {
            action: 'add',
            targetIdentityId: me.identityId,
            resource: { type: 'permission', id: v.resource },
            justification: v.justification,
            ...(v.validFrom ? { validFrom: new Date(v.validFrom).toISOString() } : {}),
            ...(v.validTo ? { validTo: new Date(v.validTo).toISOString() } : {}),
          },
        }),
      );
      form.reset();
      await queryClient.invalidateQueries({ queryKey: ['access-requests'] });
    } catch (e) {
      setFormError(applyFieldErrors(e, form.setError, ['resource', 'justification', 'validFrom', 'validTo']));
    }
  });
  const options = (requestable.data?.items ?? []).filter((p) => p.requestable);
  return (
    <>
      <PageHeader title="Access requests" />
      {me.identityId ? (
        <form className="panel form" onSubmit={submit} noValidate aria-label="Request access">
          <h2>Request access</h2>
          <ErrorNote error={formError} />
          <Field label="Find a permission">{(p) => <input {...p} type="search" value={search} onChange={(e) => setSearch(e.target.value)} />}</Field>
          <Field label="Permission" error={form.formState.errors.resource?.message}>
            {(p) => (
              <select {...p} {...form.register('resource')}>
                <option value="">{options.length ? 'Choose…' : 'No requestable permission matches'}</option>
                {options.map((perm) => (
                  <option key={perm.id} value={perm.id}>
                    {perm.name}
                    {perm.description ? ` — ${perm.description}` : ''}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <div className="row">
            <Field label="From (optional)" error={form.formState.errors.validFrom?.message}>{(p) => <input {...p} type="datetime-local" {...form.register('validFrom')} />}</Field>
            <Field label="Until (optional)" error={form.formState.errors.validTo?.message}>{(p) => <input {...p} type="datetime-local" {...form.register('validTo')} />}</Field>
          </div>
          <Field label="Justification" error={form.formState.errors.justification?.message}>{(p) => <textarea {...p} rows={3} {...form.register('justification')} />}</Field>
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={form.formState.isSubmitting}>
              Submit request
            </button>
          </div>
        </form>
      ) : (
        <p>This credential is not an identity: it cannot request access for itself.</p>
      )}
      <section className="panel">
        <h2>My requests</h2>
        {me.identityId ? (
          <QueryState query={mine} isEmpty={(d) => d.items.length === 0} empty={<Empty title="You have no requests" />}>
            {(data) => <RequestsTable items={data.items} />}
          </QueryState>
        ) : null}
      </section>
    </>
  );
}
