/**
 * One application: permissions and roles, owners, connector configuration (validated by the
 * API, its field errors shown at the field), imports with live progress, held imports to
 * approve or reject, orphan accounts to link to their owner, mark as service accounts or ignore.
 */
import { useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, ApiError, unwrap, type paths } from '../api/client';
import { Name } from '../api/names';
import { useSession } from '../session';
import { applyFieldErrors, ConfirmButton, Empty, ErrorNote, Field, Loading, PageHeader, QueryState, StatusBadge, Tabs, TabPanel, formatDate, FormActions } from '../components/ui';
import { IdentityChoice } from '../components/IdentityChoice';
import { DataTable } from '../components/DataTable';
import { useCursorList } from '../api/paging';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { z } from 'zod';

type Import = paths['/api/v1/imports/{id}']['get']['responses'][200]['content']['application/json'];

const TABS = [
  { id: 'catalog', label: 'Permissions' },
  { id: 'connector', label: 'Connector' },
  { id: 'imports', label: 'Imports' },
  { id: 'orphans', label: 'Orphan accounts' },
] as const;
type TabId = (typeof TABS)[number]['id'];

/** Imports still moving: the page polls them for live progress. */
const MOVING = new Set(['Pending', 'Running', 'Canceling']);

export default function ApplicationPage() {
  const { id = '' } = useParams();
  const { can } = useSession();
  const [params, setParams] = useSearchParams();
  const tab = (TABS.find((t) => t.id === params.get('tab'))?.id ?? 'catalog') as TabId;
  const app = useQuery({ queryKey: ['application', id], queryFn: () => unwrap(api.GET('/api/v1/applications/{id}', { params: { path: { id } } })) });
  const tabs = TABS.filter((t) => (t.id === 'imports' || t.id === 'orphans' ? can('manage-imports') : true) && (t.id === 'connector' ? app.data?.kind === 'connected' : true));
  return (
    <>
      <PageHeader title={app.data?.name ?? 'Application'} />
      {app.data ? (
        <dl className="facts">
          <div>
            <dt>Kind</dt>
            <dd>{app.data.kind}</dd>
          </div>
          <div>
            <dt>Priority</dt>
            <dd>{app.data.priority}</dd>
          </div>
          <div>
            <dt>Owners</dt>
            <dd>{app.data.ownerIds.length ? app.data.ownerIds.map((o, i) => <span key={o}>{i ? ', ' : ''}<Name kind="identity" id={o} /></span>) : 'none'}</dd>
          </div>
          <div>
            <dt>Description</dt>
            <dd>{app.data.description ?? '—'}</dd>
          </div>
        </dl>
      ) : (
        <ErrorNote error={app.error} />
      )}
      <Tabs label="Application sections" tabs={tabs} current={tab} onChange={(t) => setParams({ tab: t }, { replace: true })} />
      <TabPanel id={tab}>
        {tab === 'catalog' ? <CatalogTab applicationId={id} /> : null}
        {tab === 'connector' ? <ConnectorTab applicationId={id} /> : null}
        {tab === 'imports' ? <ImportsTab applicationId={id} /> : null}
        {tab === 'orphans' ? <OrphansTab applicationId={id} /> : null}
      </TabPanel>
    </>
  );
}

function CatalogTab({ applicationId }: { applicationId: string }) {
  const permissions = useQuery({ queryKey: ['permissions', applicationId], queryFn: () => unwrap(api.GET('/api/v1/applications/{id}/permissions', { params: { path: { id: applicationId }, query: { limit: 500 } } })) });
  return (
    <QueryState query={permissions} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No permissions yet">Permissions come from the catalog or from imports.</Empty>}>
      {(data) => (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Permission</th>
              <th scope="col">Category</th>
              <th scope="col">Risk</th>
              <th scope="col">Requestable</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td>
                <td>{p.category ?? '—'}</td>
                <td>{p.risk}</td>
                <td>{p.requestable ? 'yes' : 'no'}</td>
                <td>{p.description ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </QueryState>
  );
}

/** The connector as JSON, validated by the API on save (its field errors shown under the editor). */
function ConnectorTab({ applicationId }: { applicationId: string }) {
  const { can } = useSession();
  const queryClient = useQueryClient();
  const connector = useQuery({ queryKey: ['connector', applicationId], queryFn: () => unwrap(api.GET('/api/v1/applications/{id}/connector', { params: { path: { id: applicationId } } })) });
  const [text, setText] = useState<string | null>(null);
  const [parseError, setParseError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (body: unknown) => unwrap(api.PUT('/api/v1/applications/{id}/connector', { params: { path: { id: applicationId } }, body: body as never })),
    onSuccess: async () => {
      setText(null);
      await queryClient.invalidateQueries({ queryKey: ['connector', applicationId] });
    },
  });
  const fieldErrors = save.error instanceof ApiError ? (save.error.problem.errors ?? []) : [];
  return (
    <QueryState query={connector}>
      {(data) => {
        const value = text ?? JSON.stringify(data.connector ?? { type: 'file', fileGroups: [] }, null, 2);
        return (
          <form
            className="form"
            onSubmit={(e) => {
              e.preventDefault();
              setParseError(null);
              try {
                save.mutate(JSON.parse(value));
              } catch (err) {
                setParseError(`Not valid JSON: ${(err as Error).message}`);
              }
            }}
          >
            <Field label="Connector configuration (JSON)" error={parseError ?? (fieldErrors.length ? fieldErrors.map((f) => `${f.field}: ${f.message}`).join('; ') : undefined)} hint="File groups, columns, matching and thresholds; see docs/imports.md.">
              {(p) => <textarea {...p} className="code" rows={18} value={value} onChange={(e) => setText(e.target.value)} readOnly={!can('manage-imports') && !can('manage-applications')} spellCheck={false} />}
            </Field>
            {!fieldErrors.length ? <ErrorNote error={save.error} /> : null}
            {save.isSuccess ? <p role="status" className="alert alert-info">Saved.</p> : null}
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={save.isPending}>
                Save connector
              </button>
            </div>
          </form>
        );
      }}
    </QueryState>
  );
}

function ImportProgress({ item }: { item: Import }) {
  const { rowsRead, rowsTotal, bytesRead, bytesTotal } = item.progress;
  const total = rowsTotal ?? bytesTotal;
  const done = rowsTotal ? rowsRead : bytesRead;
  return (
    <div className="progress-line">
      {MOVING.has(item.status) && total ? <progress max={total} value={done} aria-label={`Import ${item.number} progress`} /> : null}
      <span>
        {item.phase ? `${item.phase}: ` : ''}
        {rowsRead.toLocaleString()} rows read{rowsTotal ? ` of ${rowsTotal.toLocaleString()}` : ''}
      </span>
    </div>
  );
}

function ImportsTab({ applicationId }: { applicationId: string }) {
  const queryClient = useQueryClient();
  const connector = useQuery({ queryKey: ['connector', applicationId], queryFn: () => unwrap(api.GET('/api/v1/applications/{id}/connector', { params: { path: { id: applicationId } } })) });
  const imports = useQuery({
    queryKey: ['imports', applicationId],
    queryFn: () => unwrap(api.GET('/api/v1/imports', { params: { query: { applicationId, limit: 50 } } })),
    // Live progress: poll while an import is moving.
    refetchInterval: (q) => (q.state.data?.items.some((i) => MOVING.has(i.status)) ? 1000 : false),
  });
  const [selected, setSelected] = useState<string | null>(null);
  const decide = useMutation({
    mutationFn: async ({ id, decision }: { id: string; decision: 'approve' | 'reject' | 'cancel' }) => {
      const path = { params: { path: { id } }, body: {} };
      if (decision === 'approve') return unwrap(api.POST('/api/v1/imports/{id}/approve', path));
      if (decision === 'reject') return unwrap(api.POST('/api/v1/imports/{id}/reject', path));
      return unwrap(api.POST('/api/v1/imports/{id}/cancel', { params: { path: { id } } }));
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['imports', applicationId] }),
  });
  const groups = connector.data?.connector?.fileGroups ?? [];
  const current = imports.data?.items.find((i) => i.id === selected) ?? null;
  return (
    <>
      {groups.length ? <UploadForm applicationId={applicationId} groups={groups as { id?: string; name: string; required?: boolean }[]} onStarted={(id) => setSelected(id)} /> : <p>Configure the connector to upload imports.</p>}
      <ErrorNote error={decide.error} />
      <QueryState query={imports} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No imports yet">Upload the application's files above.</Empty>}>
        {(data) => (
          <table className="table" data-testid="imports-table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Started</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((i) => (
                <tr key={i.id} data-status={i.status}>
                  <td>
                    <button type="button" className="linklike" onClick={() => setSelected(i.id)} aria-label={`Show import ${i.number}`}>
                      #{i.number}
                    </button>
                    {i.dryRun ? ' (dry run)' : ''}
                  </td>
                  <td>
                    <StatusBadge status={i.status} />
                  </td>
                  <td>
                    <ImportProgress item={i} />
                  </td>
                  <td>{formatDate(i.createdAt)}</td>
                  <td className="actions">
                    {i.status === 'Held' ? (
                      <>
                        <ConfirmButton danger={false} className="btn btn-small" label="Approve" title={`Apply held import #${i.number}?`} message={<p>{i.heldReason ?? 'The import was held.'} Approving applies its changes.</p>} confirmLabel="Approve and apply" onConfirm={() => decide.mutateAsync({ id: i.id, decision: 'approve' })} />
                        <ConfirmButton className="btn btn-small btn-danger-outline" label="Reject" title={`Reject held import #${i.number}?`} message={<p>Its changes are discarded.</p>} confirmLabel="Reject" onConfirm={() => decide.mutateAsync({ id: i.id, decision: 'reject' })} />
                      </>
                    ) : null}
                    {MOVING.has(i.status) ? (
                      <ConfirmButton className="btn btn-small btn-danger-outline" label="Cancel" title={`Cancel import #${i.number}?`} message={<p>The import stops; nothing it read is applied.</p>} confirmLabel="Cancel import" onConfirm={() => decide.mutateAsync({ id: i.id, decision: 'cancel' })} />
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryState>
      {current ? <ImportResult item={current} /> : null}
    </>
  );
}

function ImportResult({ item }: { item: Import }) {
  const m = item.metrics;
  return (
    <section className="panel" aria-labelledby="import-result" data-testid="import-result">
      <h2 id="import-result">
        Import #{item.number} <StatusBadge status={item.status} />
      </h2>
      <ImportProgress item={item} />
      {item.error ? <p className="alert alert-error">{item.error}</p> : null}
      {item.heldReason ? <p className="alert alert-info">Held: {item.heldReason}</p> : null}
      {m ? (
        <dl className="facts">
          {(
            [
              ['Accounts added', m.accountsAdded],
              ['Accounts removed', m.accountsRemoved],
              ['Accounts matched', m.accountsMatched],
              ['Orphans', m.accountsOrphaned],
              ['Grants added', m.grantsAdded],
              ['Grants removed', m.grantsRemoved],
              ['Bad rows', m.badRows],
            ] as const
          ).map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      {m && m.accountsOrphaned > 0 && item.status === 'Finished' ? (
        <p>
          <Link to={`?tab=orphans`} replace>
            Resolve the {m.accountsOrphaned} orphan {m.accountsOrphaned === 1 ? 'account' : 'accounts'}
          </Link>
        </p>
      ) : null}
      {item.log.length ? (
        <details>
          <summary>Log ({item.log.length})</summary>
          <ul className="log">
            {item.log.map((l, i) => (
              <li key={i}>
                <time dateTime={l.time}>{formatDate(l.time)}</time> [{l.level}] {l.message}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </section>
  );
}

function UploadForm({ applicationId, groups, onStarted }: { applicationId: string; groups: { id?: string; name: string; required?: boolean }[]; onStarted: (id: string) => void }) {
  const queryClient = useQueryClient();
  const formRef = useRef<HTMLFormElement>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [dryRun, setDryRun] = useState(false);
  useEffect(() => setError(null), [applicationId]);
  const submit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const data = new FormData(e.currentTarget);
      data.delete('dryRun');
      for (const [key, value] of [...data.entries()]) if (value instanceof File && value.size === 0 && !value.name) data.delete(key);
      const created = await unwrap(
        api.POST('/api/v1/imports/upload', {
          params: { query: { applicationId, ...(dryRun ? { dryRun: true } : {}) } },
          body: data as never,
          bodySerializer: (body: unknown) => body as FormData,
        }),
      );
      formRef.current?.reset();
      onStarted((created as { id: string }).id);
      await queryClient.invalidateQueries({ queryKey: ['imports', applicationId] });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form ref={formRef} className="panel form" onSubmit={submit} aria-label="Upload an import">
      <h2>Run an import</h2>
      <ErrorNote error={error} />
      {groups.map((g) => (
        <Field key={g.id ?? g.name} label={`${g.name}${g.required ? '' : ' (optional)'}`}>
          {(p) => <input {...p} type="file" name={g.id ?? g.name} required={g.required} />}
        </Field>
      ))}
      <label className="check">
        <input type="checkbox" name="dryRun" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} /> Dry run (report the changes, apply nothing)
      </label>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Uploading…' : 'Upload and import'}
        </button>
      </div>
    </form>
  );
}

type Orphan = paths['/api/v1/orphans']['get']['responses'][200]['content']['application/json']['items'][number];

const ResolveSchema = z.object({ identityId: z.string().trim().min(1, 'Choose the identity that owns this account'), note: z.string().max(1000).optional() });

/** Links an orphan or ambiguous account to the identity that owns it. */
function LinkAccountForm({ applicationId, orphan, onDone }: { applicationId: string; orphan: Orphan; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [formError, setFormError] = useState<unknown>(null);
  const form = useForm<z.infer<typeof ResolveSchema>>({ resolver: zodResolver(ResolveSchema), defaultValues: { identityId: orphan.candidates[0] ?? '', note: '' } });
  const submit = form.handleSubmit(async (values) => {
    setFormError(null);
    try {
      await resolveAccount(applicationId, orphan.accountName, { resolution: 'linked', identityId: values.identityId, ...(values.note ? { note: values.note } : {}) });
      await queryClient.invalidateQueries({ queryKey: ['orphans', applicationId] });
      onDone();
    } catch (e) {
      setFormError(applyFieldErrors(e, form.setError, ['identityId', 'note']));
    }
  });
  return (
    <form className="panel form" onSubmit={submit} noValidate aria-label={`Link account ${orphan.accountName}`}>
      <h2>Link account {orphan.accountName}</h2>
      <p className="muted">Its permissions count for the identity from now on, and the next imports keep the link.</p>
      <ErrorNote error={formError} />
      <IdentityChoice label="Owner" error={form.formState.errors.identityId?.message} registration={form.register('identityId')} suggested={orphan.candidates} />
      <Field label="Note" error={form.formState.errors.note?.message}>
        {(p) => <input {...p} {...form.register('note')} />}
      </Field>
      <FormActions onCancel={onDone} submitLabel="Link" submitting={form.formState.isSubmitting} />
    </form>
  );
}

function resolveAccount(applicationId: string, accountName: string, body: { resolution: 'linked' | 'service' | 'ignored'; identityId?: string; note?: string }) {
  return unwrap(api.PUT('/api/v1/applications/{id}/account-resolutions/{accountName}', { params: { path: { id: applicationId, accountName } }, body }));
}

/** Accounts the last import could not match: link each to its owner, or mark it a service account or ignored. */
function OrphansTab({ applicationId }: { applicationId: string }) {
  const queryClient = useQueryClient();
  const [linking, setLinking] = useState<Orphan | null>(null);
  const [resolved, setResolved] = useState<string | null>(null);
  const orphans = useCursorList(['orphans', applicationId], (cursor) => unwrap(api.GET('/api/v1/orphans', { params: { query: { applicationId, limit: 100, ...(cursor ? { cursor } : {}) } } })));
  const mark = useMutation({
    mutationFn: ({ orphan, resolution }: { orphan: Orphan; resolution: 'service' | 'ignored' }) => resolveAccount(applicationId, orphan.accountName, { resolution }),
    onSuccess: async (_, { orphan, resolution }) => {
      setResolved(`${orphan.accountName} is marked ${resolution === 'service' ? 'a service account' : 'ignored'}.`);
      await queryClient.invalidateQueries({ queryKey: ['orphans', applicationId] });
    },
  });
  if (orphans.isPending) return <Loading />;
  if (orphans.error) return <ErrorNote error={orphans.error} />;
  return (
    <>
      {resolved ? (
        <p className="alert alert-info" role="status">
          {resolved}
        </p>
      ) : null}
      <ErrorNote error={mark.error} />
      {linking ? (
        <LinkAccountForm
          key={linking.accountName}
          applicationId={applicationId}
          orphan={linking}
          onDone={() => {
            setLinking(null);
          }}
        />
      ) : null}
      {orphans.rows.length === 0 ? (
        <Empty title="No orphan accounts">Every imported account matched an identity or was resolved.</Empty>
      ) : (
        <DataTable
          testId="orphans-table"
          rows={orphans.rows}
          rowKey={(o) => o.accountName}
          columns={[
            { header: 'Account', cell: (o) => o.accountName },
            { header: 'State', cell: (o) => o.state },
            { header: 'Candidates', cell: (o) => (o.candidates.length ? o.candidates.map((c, i) => <span key={c}>{i ? ', ' : ''}<Name kind="identity" id={c} /></span>) : '—') },
            { header: 'First seen', cell: (o) => formatDate(o.firstSeenAt) },
            {
              header: 'Resolve',
              className: 'actions',
              cell: (o) => (
                <>
                  <button type="button" className="btn btn-small" onClick={() => { setResolved(null); setLinking(o); }} aria-label={`Link ${o.accountName} to an identity`}>
                    Link…
                  </button>
                  <button type="button" className="btn btn-small" onClick={() => mark.mutate({ orphan: o, resolution: 'service' })} aria-label={`Mark ${o.accountName} a service account`}>
                    Service account
                  </button>
                  <ConfirmButton
                    className="btn btn-small btn-danger-outline"
                    label="Ignore"
                    title={`Ignore account ${o.accountName}?`}
                    message={<p>It leaves the orphan list and later imports keep ignoring it. Its permissions count for nobody.</p>}
                    confirmLabel="Ignore account"
                    onConfirm={() => mark.mutateAsync({ orphan: o, resolution: 'ignored' })}
                  />
                </>
              ),
            },
          ]}
        />
      )}
      {orphans.hasNextPage ? (
        <button type="button" className="btn" onClick={() => void orphans.fetchNextPage()} disabled={orphans.isFetchingNextPage}>
          {orphans.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      ) : null}
    </>
  );
}
