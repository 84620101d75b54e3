/**
 * One identity: effective access in both spaces with each permission's why (a graph),
 * assignments (grant, pause, resume, revoke), accounts, personnel events, requests, history.
 */
import { lazy, Suspense, useMemo, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams, useSearchParams } from 'react-router';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { z } from 'zod';
import { api, unwrap, type paths } from '../api/client';
import { identityName, Name, useNames, type NamedKind } from '../api/names';
import { useMe, useSession } from '../session';
import { applyFieldErrors, ConfirmButton, Empty, ErrorNote, Field, Loading, PageHeader, QueryState, StatusBadge, Tabs, TabPanel, formatDate, Badge, FormActions } from '../components/ui';
import type { ExplainChain } from '../components/ExplainGraph';
import { IdentityChoice } from '../components/IdentityChoice';

const ExplainGraph = lazy(() => import('../components/ExplainGraph'));

type AccessItem = paths['/api/v1/identities/{id}/access']['get']['responses'][200]['content']['application/json']['items'][number];
type Space = 'assigned' | 'provisioned';

/** The tabs, each with the right it needs (none: anyone reaching the page, e.g. their own). */
const TABS = [
  { id: 'access', label: 'Effective access', needs: 'read-permissions-any-application' },
  { id: 'assignments', label: 'Assignments', needs: null },
  { id: 'accounts', label: 'Accounts', needs: 'read-permissions-any-application' },
  { id: 'events', label: 'Personnel events', needs: 'manage-personnel-events' },
  { id: 'requests', label: 'Requests', needs: null },
  { id: 'history', label: 'History', needs: 'read-audit' },
] as const;
type TabId = (typeof TABS)[number]['id'];

export default function IdentityPage() {
  const { id = '' } = useParams();
  const { can } = useSession();
  const [params, setParams] = useSearchParams();
  // Without read-permissions-any-application (one's own page, reached from one's name) the page opens on one's assignments.
  const tabs = TABS.filter((t) => t.needs === null || can(t.needs));
  const tab = (tabs.find((t) => t.id === params.get('tab'))?.id ?? tabs[0]!.id) as TabId;
  const identity = useQuery({ queryKey: ['identity', id], queryFn: () => unwrap(api.GET('/api/v1/identities/{id}', { params: { path: { id } } })), enabled: can('manage-users') });
  const me = useMe();
  // Without manage-users one reads only one's own identity page (reached from one's name at the top).
  const name = identity.data ? identityName(identity.data) : id === me.identityId ? 'My access' : 'Identity';

  return (
    <>
      <PageHeader title={name} />
      {identity.data ? (
        <dl className="facts">
          <div>
            <dt>Username</dt>
            <dd>{identity.data.username ?? '—'}</dd>
          </div>
          <div>
            <dt>Email</dt>
            <dd>{identity.data.email ?? '—'}</dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={identity.data.status} />
            </dd>
          </div>
          <div>
            <dt>Unit</dt>
            <dd>{identity.data.orgUnitId ? <Name kind="unit" id={identity.data.orgUnitId} /> : '—'}</dd>
          </div>
          <div>
            <dt>Manager</dt>
            <dd>{identity.data.managerId ? <Link to={`/identities/${identity.data.managerId}`}><Name kind="identity" id={identity.data.managerId} /></Link> : '—'}</dd>
          </div>
        </dl>
      ) : identity.error ? (
        <ErrorNote error={identity.error} />
      ) : null}
      <Tabs label="Identity sections" tabs={tabs} current={tab} onChange={(t) => setParams({ tab: t }, { replace: true })} />
      <TabPanel id={tab}>
        {tab === 'access' ? <AccessTab identityId={id} identityName={name} /> : null}
        {tab === 'assignments' ? <AssignmentsTab identityId={id} /> : null}
        {tab === 'accounts' ? <AccountsTab identityId={id} /> : null}
        {tab === 'events' ? <EventsTab identityId={id} /> : null}
        {tab === 'requests' ? <RequestsTab identityId={id} /> : null}
        {tab === 'history' ? <HistoryTab identityId={id} /> : null}
      </TabPanel>
    </>
  );
}

const accessQuery = (identityId: string, space: Space) => ({
  queryKey: ['access', identityId, space],
  queryFn: () => unwrap(api.GET('/api/v1/identities/{id}/access', { params: { path: { id: identityId }, query: { space } } })),
});

function useAccess(identityId: string, space: Space) {
  return useQuery(accessQuery(identityId, space));
}

function AccessTab({ identityId, identityName: name }: { identityId: string; identityName: string }) {
  const [space, setSpace] = useState<Space>('assigned');
  const [filter, setFilter] = useState('');
  const [selected, setSelected] = useState<AccessItem | null>(null);
  const access = useAccess(identityId, space);
  const items = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const all = access.data?.items ?? [];
    return f ? all.filter((i) => i.permissionName.toLowerCase().includes(f) || i.applicationName.toLowerCase().includes(f)) : all;
  }, [access.data, filter]);

  return (
    <div className="split">
      <div>
        <div className="filters">
          <fieldset className="segmented">
            <legend>Space</legend>
            {(['assigned', 'provisioned'] as const).map((s) => (
              <label key={s} className={space === s ? 'seg seg-on' : 'seg'}>
                <input type="radio" name="space" value={s} checked={space === s} onChange={() => { setSpace(s); setSelected(null); }} />
                {s === 'assigned' ? 'Assigned (in Grantory)' : 'Provisioned (in the applications)'}
              </label>
            ))}
          </fieldset>
          <Field label="Filter permissions">{(p) => <input {...p} type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />}</Field>
        </div>
        <GrantForm identityId={identityId} />
        <QueryState query={access} isEmpty={(d) => d.items.length === 0} empty={<Empty title={`No ${space} access`}>{space === 'assigned' ? 'Grant a permission or a role above.' : 'No imported account of this identity holds a permission.'}</Empty>}>
          {() => (
            <table className="table" data-testid="access-table">
              <caption className="sr-only">{space} permissions</caption>
              <thead>
                <tr>
                  <th scope="col">Permission</th>
                  <th scope="col">Application</th>
                  <th scope="col">Through</th>
                  <th scope="col">
                    <span className="sr-only">Explain</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((item) => (
                  <tr key={item.permissionId} className={selected?.permissionId === item.permissionId ? 'row-selected' : undefined}>
                    <td>{item.permissionName}</td>
                    <td>{item.applicationName}</td>
                    <td>{item.via.map((v) => (v.kind === 'assignment' ? v.source : `account ${v.accountName}`)).join(', ')}</td>
                    <td>
                      <button type="button" className="btn btn-small" onClick={() => setSelected(item)} aria-label={`Why does ${name} have ${item.permissionName}?`}>
                        Why?
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </QueryState>
      </div>
      {selected ? <WhyPanel identityId={identityId} identityName={name} item={selected} space={space} onClose={() => setSelected(null)} /> : null}
    </div>
  );
}

function WhyPanel({ identityId, identityName: name, item, space, onClose }: { identityId: string; identityName: string; item: AccessItem; space: Space; onClose: () => void }) {
  const explain = useQuery({
    queryKey: ['explain', identityId, item.permissionId, space],
    queryFn: () => unwrap(api.GET('/api/v1/access/explain', { params: { query: { identity: identityId, permission: item.permissionId, space } } })),
  });
  const chains = (explain.data?.chains ?? []) as ExplainChain[];
  const wanted = useMemo(() => {
    const list: { kind: NamedKind; id: string }[] = [];
    for (const c of chains) {
      for (const u of c.unitPath) list.push({ kind: 'unit', id: u });
      for (const r of c.rolePath) list.push({ kind: 'role', id: r });
      for (const d of c.delegatedFrom) list.push({ kind: 'identity', id: d.delegatorId });
    }
    return list;
  }, [chains]);
  const names = useNames(wanted);
  const identity = useMemo(() => ({ id: identityId, name }), [identityId, name]);
  const permission = useMemo(() => ({ id: item.permissionId, name: item.permissionName }), [item]);
  return (
    <section className="panel why" aria-labelledby="why-title" data-testid="why-panel">
      <div className="panel-head">
        <h2 id="why-title">
          Why {name} has {item.permissionName}
        </h2>
        <button type="button" className="btn btn-small" onClick={onClose}>
          Close
        </button>
      </div>
      {explain.isPending ? (
        <Loading label="Explaining…" />
      ) : explain.error ? (
        <ErrorNote error={explain.error} />
      ) : (
        <>
          <p>
            {chains.length} {chains.length === 1 ? 'path grants' : 'paths grant'} it ({space} space).
          </p>
          <Suspense fallback={<Loading label="Drawing…" />}>
            <ExplainGraph chains={chains} names={names as (k: 'unit' | 'role' | 'identity', id: string) => string} identity={identity} permission={permission} />
          </Suspense>
          <ol className="chains">
            {chains.map((c, i) => (
              <li key={i}>
                {[name, ...c.unitPath.map((u) => names('unit', u)), ...c.delegatedFrom.map((d) => `delegated by ${names('identity', d.delegatorId)}`), c.via.kind === 'assignment' ? `${c.via.source} assignment` : `account ${c.via.accountName}`, ...c.rolePath.map((r) => `role ${names('role', r)}`), item.permissionName].join(' → ')}
              </li>
            ))}
          </ol>
          {explain.data.notCounting.length ? (
            <details>
              <summary>{explain.data.notCounting.length} assignments do not count now</summary>
              <ul>
                {explain.data.notCounting.map((n, i) => (
                  <li key={i}>{n.reason}</li>
                ))}
              </ul>
            </details>
          ) : null}
        </>
      )}
    </section>
  );
}

const GrantSchema = z.object({
  resource: z.string().min(1, 'Choose a permission or role'),
  validTo: z.string().optional(),
  reason: z.string().max(1000).optional(),
});

/** Grants a permission or a role directly (POST /api/v1/assignments). */
function GrantForm({ identityId }: { identityId: string }) {
  const { can } = useSession();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [search, setSearch] = useState('');
  const [formError, setFormError] = useState<unknown>(null);
  const form = useForm<z.infer<typeof GrantSchema>>({ resolver: zodResolver(GrantSchema), defaultValues: { resource: '', validTo: '', reason: '' } });
  const term = search.trim();
  const permissions = useQuery({ queryKey: ['permissions', 'search', term], enabled: open, queryFn: () => unwrap(api.GET('/api/v1/permissions', { params: { query: { limit: 20, ...(term ? { q: term } : {}) } } })) });
  const roles = useQuery({ queryKey: ['roles', 'search', term], enabled: open, queryFn: () => unwrap(api.GET('/api/v1/roles', { params: { query: { limit: 20, ...(term ? { q: term } : {}) } } })) });
  if (!can('manage-users') && !can('manage-roles')) return null;
  if (!open)
    return (
      <button type="button" className="btn btn-primary" onClick={() => setOpen(true)}>
        Grant access
      </button>
    );
  const submit = form.handleSubmit(async (values) => {
    setFormError(null);
    const [type, id] = values.resource.split(':') as ['permission' | 'role', string];
    try {
      await unwrap(
        api.POST('/api/v1/assignments', {
          body: { assignee: { type: 'identity', id: identityId }, resource: { type, id }, ...(values.validTo ? { validTo: new Date(values.validTo).toISOString() } : {}), ...(values.reason ? { reason: values.reason } : {}) },
        }),
      );
      await queryClient.invalidateQueries({ queryKey: ['access', identityId] });
      await queryClient.invalidateQueries({ queryKey: ['assignments', identityId] });
      form.reset();
      setOpen(false);
    } catch (e) {
      setFormError(applyFieldErrors(e, form.setError, ['resource', 'validTo', 'reason']));
    }
  });
  return (
    <form className="panel form" onSubmit={submit} noValidate aria-label="Grant access">
      <h2>Grant access</h2>
      <ErrorNote error={formError} />
      <Field label="Search the catalog">{(p) => <input {...p} type="search" value={search} onChange={(e) => setSearch(e.target.value)} />}</Field>
      <Field label="Permission or role" error={form.formState.errors.resource?.message}>
        {(p) => (
          <select {...p} {...form.register('resource')} size={6}>
            {(permissions.data?.items ?? []).map((perm) => (
              <option key={perm.id} value={`permission:${perm.id}`}>
                Permission: {perm.name}
              </option>
            ))}
            {(roles.data?.items ?? []).map((role) => (
              <option key={role.id} value={`role:${role.id}`}>
                Role: {role.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Valid until (optional)" error={form.formState.errors.validTo?.message}>
        {(p) => <input {...p} type="datetime-local" {...form.register('validTo')} />}
      </Field>
      <Field label="Reason" error={form.formState.errors.reason?.message}>
        {(p) => <input {...p} {...form.register('reason')} />}
      </Field>
      <FormActions onCancel={() => setOpen(false)} submitLabel="Grant" submitting={form.formState.isSubmitting} />
    </form>
  );
}

type Assignment = paths['/api/v1/assignments']['get']['responses'][200]['content']['application/json']['items'][number];

const DelegateSchema = z.object({
  assigneeId: z.string().min(1, 'Choose who receives it'),
  validTo: z.string().optional(),
  reason: z.string().max(1000).optional(),
});

/**
 * Delegates what one of the signed-in identity's own assignments gives it to another
 * identity (POST /api/v1/assignments/{id}/delegate): only delegable permissions, no wider
 * than the source; the API says why when it refuses.
 */
function DelegateForm({ source, resourceName, onDone }: { source: Assignment; resourceName: string | undefined; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [formError, setFormError] = useState<unknown>(null);
  const form = useForm<z.infer<typeof DelegateSchema>>({ resolver: zodResolver(DelegateSchema), defaultValues: { assigneeId: '', validTo: '', reason: '' } });
  const submit = form.handleSubmit(async (values) => {
    setFormError(null);
    try {
      await unwrap(
        api.POST('/api/v1/assignments/{id}/delegate', {
          params: { path: { id: source.id } },
          body: { assigneeId: values.assigneeId.trim(), ...(values.validTo ? { validTo: new Date(values.validTo).toISOString() } : {}), ...(values.reason ? { reason: values.reason } : {}) },
        }),
      );
      await queryClient.invalidateQueries({ queryKey: ['assignments'] });
      await queryClient.invalidateQueries({ queryKey: ['access'] });
      onDone();
    } catch (e) {
      setFormError(applyFieldErrors(e, form.setError, ['assigneeId', 'validTo', 'reason']));
    }
  });
  return (
    <form className="panel form" onSubmit={submit} noValidate aria-label="Delegate access">
      <h2>
        Delegate {source.resource.type === 'role' ? 'role ' : ''}
        {resourceName ?? <Name kind={source.resource.type as NamedKind} id={source.resource.id} />}
      </h2>
      <p className="muted">The delegation counts only while this assignment gives you the access, and ends with it at the latest.</p>
      <ErrorNote error={formError} />
      <IdentityChoice label="Delegate to" error={form.formState.errors.assigneeId?.message} registration={form.register('assigneeId')} exclude={source.assignee.id} />
      <Field label="Valid until (optional)" error={form.formState.errors.validTo?.message}>
        {(p) => <input {...p} type="datetime-local" {...form.register('validTo')} />}
      </Field>
      <Field label="Reason" error={form.formState.errors.reason?.message}>
        {(p) => <input {...p} {...form.register('reason')} />}
      </Field>
      <FormActions onCancel={onDone} submitLabel="Delegate" submitting={form.formState.isSubmitting} />
    </form>
  );
}

function AssignmentsTab({ identityId }: { identityId: string }) {
  const queryClient = useQueryClient();
  const me = useMe();
  const { can } = useSession();
  const [delegating, setDelegating] = useState<Assignment | null>(null);
  // Permission names with their application from the identity's effective access (readable with
  // read-permissions-any-application); without it, the names the assignments list carries.
  const held = useQuery({ ...accessQuery(identityId, 'assigned'), enabled: can('read-permissions-any-application') });
  const permissionNames = useMemo(() => new Map((held.data?.items ?? []).map((p) => [p.permissionId, `${p.applicationName}: ${p.permissionName}`])), [held.data]);
  // Pausing, resuming and revoking need manage-users, except for a delegation one made oneself.
  const manages = (a: Assignment) => can('manage-users') || (a.delegatorId !== null && a.delegatorId === me.identityId);
  const assignments = useQuery({
    queryKey: ['assignments', identityId],
    queryFn: () => unwrap(api.GET('/api/v1/assignments', { params: { query: { assigneeType: 'identity', assigneeId: identityId, limit: 500 } } })),
  });
  const act = useMutation({
    mutationFn: async ({ id, action }: { id: string; action: 'pause' | 'resume' | 'revoke' }) => {
      const path = { params: { path: { id } }, body: {} };
      if (action === 'pause') return unwrap(api.POST('/api/v1/assignments/{id}/pause', path));
      if (action === 'resume') return unwrap(api.POST('/api/v1/assignments/{id}/resume', path));
      return unwrap(api.POST('/api/v1/assignments/{id}/revoke', path));
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['assignments', identityId] });
      await queryClient.invalidateQueries({ queryKey: ['access', identityId] });
    },
  });
  return (
    <QueryState query={assignments} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No assignments">{can('manage-users') ? 'Grant access from the Effective access tab.' : 'Request access from Access requests.'}</Empty>}>
      {(data) => (
        <>
          <ErrorNote error={act.error} />
          {delegating ? <DelegateForm key={delegating.id} source={delegating} resourceName={permissionNames.get(delegating.resource.id) ?? delegating.resourceName ?? undefined} onDone={() => setDelegating(null)} /> : null}
          <table className="table" data-testid="assignments-table">
            <thead>
              <tr>
                <th scope="col">Resource</th>
                <th scope="col">Source</th>
                <th scope="col">State</th>
                <th scope="col">Valid until</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((a) => (
                <tr key={a.id}>
                  <td>
                    {a.resource.type === 'role' ? 'Role ' : ''}
                    {permissionNames.get(a.resource.id) ?? a.resourceName ?? <Name kind={a.resource.type as NamedKind} id={a.resource.id} />}
                  </td>
                  <td>
                    {a.source}
                    {a.delegatorId ? (
                      <span className="muted">
                        {' '}
                        by <Name kind="identity" id={a.delegatorId} />
                      </span>
                    ) : null}
                  </td>
                  <td>
                    <StatusBadge status={a.state} />
                  </td>
                  <td>{formatDate(a.validTo)}</td>
                  <td className="actions">
                    {a.state === 'active' && manages(a) ? (
                      <button type="button" className="btn btn-small" onClick={() => act.mutate({ id: a.id, action: 'pause' })}>
                        Pause
                      </button>
                    ) : null}
                    {a.state === 'paused' && manages(a) ? (
                      <button type="button" className="btn btn-small" onClick={() => act.mutate({ id: a.id, action: 'resume' })}>
                        Resume
                      </button>
                    ) : null}
                    {a.state === 'active' && me.identityId === identityId ? (
                      <button type="button" className="btn btn-small" onClick={() => setDelegating(a)}>
                        Delegate
                      </button>
                    ) : null}
                    {a.state !== 'revoked' && manages(a) ? (
                      <ConfirmButton
                        className="btn btn-small btn-danger-outline"
                        label="Revoke"
                        title="Revoke this assignment?"
                        message={<p>The identity loses the access it gives at once. This cannot be undone; grant it again to restore it.</p>}
                        confirmLabel="Revoke"
                        onConfirm={() => act.mutateAsync({ id: a.id, action: 'revoke' })}
                      />
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </QueryState>
  );
}

/** The identity's accounts as the last imports observed them (the provisioned space). */
function AccountsTab({ identityId }: { identityId: string }) {
  const access = useAccess(identityId, 'provisioned');
  const accounts = useMemo(() => {
    const byAccount = new Map<string, { application: string; applicationId: string; account: string; observedAt: string; permissions: string[] }>();
    for (const item of access.data?.items ?? []) {
      for (const v of item.via) {
        if (v.kind !== 'account') continue;
        const key = `${item.applicationId}:${v.accountName}`;
        const entry = byAccount.get(key) ?? { application: item.applicationName, applicationId: item.applicationId, account: v.accountName, observedAt: v.observedAt, permissions: [] };
        entry.permissions.push(item.permissionName);
        byAccount.set(key, entry);
      }
    }
    return [...byAccount.values()];
  }, [access.data]);
  return (
    <QueryState query={access} isEmpty={() => accounts.length === 0} empty={<Empty title="No accounts observed">No import matched an account with permissions to this identity.</Empty>}>
      {() => (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Application</th>
              <th scope="col">Account</th>
              <th scope="col">Permissions</th>
              <th scope="col">Observed</th>
            </tr>
          </thead>
          <tbody>
            {accounts.map((a) => (
              <tr key={`${a.applicationId}:${a.account}`}>
                <td>
                  <Link to={`/applications/${a.applicationId}`}>{a.application}</Link>
                </td>
                <td>{a.account}</td>
                <td>{a.permissions.join(', ')}</td>
                <td>{formatDate(a.observedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </QueryState>
  );
}

function EventsTab({ identityId }: { identityId: string }) {
  const events = useQuery({ queryKey: ['personnel-events', identityId], queryFn: () => unwrap(api.GET('/api/v1/personnel-events', { params: { query: { identityId, limit: 100 } } })) });
  return (
    <QueryState query={events} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No personnel events" />}>
      {(data) => (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Type</th>
              <th scope="col">Effective</th>
              <th scope="col">Status</th>
              <th scope="col">Stages</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((e) => (
              <tr key={e.id}>
                <td>{e.number}</td>
                <td>{e.type}</td>
                <td>{e.effectiveDate}</td>
                <td>
                  <StatusBadge status={e.status} />
                </td>
                <td>{e.stages.map((s) => `${s.name}: ${s.status}`).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </QueryState>
  );
}

export function RequestsTable({ items }: { items: paths['/api/v1/access-requests']['get']['responses'][200]['content']['application/json']['items'] }) {
  return (
    <table className="table" data-testid="requests-table">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Action</th>
          <th scope="col">For</th>
          <th scope="col">Resource</th>
          <th scope="col">Requested by</th>
          <th scope="col">Status</th>
          <th scope="col">Created</th>
        </tr>
      </thead>
      <tbody>
        {items.map((r) => (
          <tr key={r.id}>
            <td>{r.number}</td>
            <td>{r.action}</td>
            <td>{r.target.name ?? r.target.id}</td>
            <td>{r.resource.name ?? r.resource.id}</td>
            <td>{r.requesterName}</td>
            <td>
              <StatusBadge status={r.status} />
            </td>
            <td>{formatDate(r.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RequestsTab({ identityId }: { identityId: string }) {
  const requests = useQuery({ queryKey: ['access-requests', 'target', identityId], queryFn: () => unwrap(api.GET('/api/v1/access-requests', { params: { query: { targetIdentityId: identityId, limit: 100 } } })) });
  return (
    <QueryState query={requests} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No access requests for this identity" />}>
      {(data) => <RequestsTable items={data.items} />}
    </QueryState>
  );
}

function HistoryTab({ identityId }: { identityId: string }) {
  const events = useQuery({ queryKey: ['audit', 'target', identityId], queryFn: () => unwrap(api.GET('/api/v1/audit-events', { params: { query: { targetId: identityId, order: 'desc', limit: 100 } } })) });
  return (
    <QueryState query={events} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No recorded changes" />}>
      {(data) => (
        <ul className="timeline">
          {data.items.map((e) => (
            <li key={e.id}>
              <time dateTime={e.time}>{formatDate(e.time)}</time> <Badge tone="info">{e.action}</Badge> by {e.actor.name ?? e.actor.type}{' '}
              <Link to={`/audit?event=${e.seq}`}>details</Link>
            </li>
          ))}
        </ul>
      )}
    </QueryState>
  );
}
