/**
 * Settings: API keys, OAuth clients and application keys (each new secret shown once with a
 * copy button), event sinks with their delivery state.
 */
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { z } from 'zod';
import { api, unwrap } from '../api/client';
import { useSession } from '../session';
import { applyFieldErrors, ConfirmButton, Empty, ErrorNote, Field, PageHeader, QueryState, SecretOnce, StatusBadge, Tabs, TabPanel, formatDate } from '../components/ui';
import { Name } from '../api/names';
import { DataTable } from '../components/DataTable';

const TABS = [
  { id: 'sessions', label: 'My sessions' },
  { id: 'api-keys', label: 'API keys' },
  { id: 'clients', label: 'OAuth clients' },
  { id: 'app-keys', label: 'Application keys' },
  { id: 'sinks', label: 'Event sinks' },
] as const;
type TabId = (typeof TABS)[number]['id'];

export default function SettingsPage() {
  const { can } = useSession();
  const tabs = TABS.filter((t) => (t.id === 'sessions' ? true : t.id === 'sinks' ? can('manage-system-settings') : can('manage-clients')));
  const [tab, setTab] = useState<TabId>(tabs[1]?.id ?? 'sessions');
  return (
    <>
      <PageHeader title="Settings" />
      <Tabs label="Settings sections" tabs={tabs} current={tab} onChange={setTab} />
      <TabPanel id={tab}>
        {tab === 'sessions' ? <Sessions /> : null}
        {tab === 'api-keys' ? <ApiKeys /> : null}
        {tab === 'clients' ? <Clients /> : null}
        {tab === 'app-keys' ? <AppKeys /> : null}
        {tab === 'sinks' ? <Sinks /> : null}
      </TabPanel>
    </>
  );
}

const NameSchema = z.object({ name: z.string().trim().min(1, 'Give it a name').max(200), expiresAt: z.string().optional() });
type NameForm = z.infer<typeof NameSchema>;

/** Name (and expiry) form shared by the three kinds of credential. */
function CreateCredential({ label, withExpiry, create }: { label: string; withExpiry: boolean; create: (v: { name: string; expiresAt?: string }) => Promise<void> }) {
  const form = useForm<NameForm>({ resolver: zodResolver(NameSchema), defaultValues: { name: '', expiresAt: '' } });
  const [error, setError] = useState<unknown>(null);
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      await create({ name: v.name, ...(v.expiresAt ? { expiresAt: new Date(v.expiresAt).toISOString() } : {}) });
      form.reset();
    } catch (e) {
      setError(applyFieldErrors(e, form.setError, ['name', 'expiresAt']));
    }
  });
  return (
    <form className="inline-form" onSubmit={submit} noValidate aria-label={label}>
      <Field label="Name" error={form.formState.errors.name?.message}>{(p) => <input {...p} {...form.register('name')} />}</Field>
      {withExpiry ? <Field label="Expires (optional)" error={form.formState.errors.expiresAt?.message}>{(p) => <input {...p} type="datetime-local" {...form.register('expiresAt')} />}</Field> : null}
      <button type="submit" className="btn btn-primary" disabled={form.formState.isSubmitting}>
        {label}
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

const METHOD_LABEL = { api_key: 'API key', password: 'Password', oidc: 'Single sign-on' } as const;

/** The signed-in identity's console sessions; any but this one can be signed out. */
function Sessions() {
  const queryClient = useQueryClient();
  const sessions = useQuery({ queryKey: ['sessions'], queryFn: () => unwrap(api.GET('/api/v1/sessions')) });
  const end = useMutation({ mutationFn: (id: string) => unwrap(api.DELETE('/api/v1/sessions/{id}', { params: { path: { id } } })), onSuccess: () => queryClient.invalidateQueries({ queryKey: ['sessions'] }) });
  return (
    <QueryState query={sessions} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No sessions" />}>
      {(data) => (
        <DataTable
          testId="sessions-table"
          rows={data.items}
          rowKey={(s) => s.id}
          columns={[
            { header: 'Signed in', cell: (s) => formatDate(s.createdAt) },
            { header: 'With', cell: (s) => METHOD_LABEL[s.method] },
            { header: 'Last seen', cell: (s) => formatDate(s.lastSeenAt) },
            { header: 'Expires', cell: (s) => formatDate(s.expiresAt) },
            {
              header: 'From',
              cell: (s) => (
                <>
                  {s.ip ?? '—'}
                  {s.userAgent ? <span className="muted"> · {s.userAgent.slice(0, 60)}</span> : null}
                </>
              ),
            },
            {
              header: 'Actions',
              hiddenHeader: true,
              cell: (s) =>
                s.current ? (
                  <span className="badge badge-info">This browser</span>
                ) : (
                  <ConfirmButton className="btn btn-small btn-danger-outline" label="Sign out" title="Sign out this session?" message={<p>That browser has to sign in again.</p>} confirmLabel="Sign out session" onConfirm={() => end.mutateAsync(s.id)} />
                ),
            },
          ]}
        />
      )}
    </QueryState>
  );
}

function ApiKeys() {
  const queryClient = useQueryClient();
  const [secret, setSecret] = useState<string | null>(null);
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => unwrap(api.GET('/api/v1/api-keys')) });
  const revoke = useMutation({ mutationFn: (id: string) => unwrap(api.DELETE('/api/v1/api-keys/{id}', { params: { path: { id } } })), onSuccess: () => queryClient.invalidateQueries({ queryKey: ['api-keys'] }) });
  return (
    <>
      {secret ? <SecretOnce label="Your new API key" secret={secret} onDone={() => setSecret(null)} /> : null}
      <CreateCredential
        label="Create API key"
        withExpiry
        create={async (v) => {
          const created = await unwrap(api.POST('/api/v1/api-keys', { body: v }));
          setSecret((created as { secret: string }).secret);
          await queryClient.invalidateQueries({ queryKey: ['api-keys'] });
        }}
      />
      <QueryState query={keys} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No API keys" />}>
        {(data) => (
          <DataTable
            testId="api-keys-table"
            rows={data.items}
            rowKey={(k) => k.id}
            columns={[
              { header: 'Name', cell: (k) => k.name },
              { header: 'Prefix', className: 'mono', cell: (k) => `${k.prefix}…` },
              { header: 'Acts as', cell: (k) => <Name kind="identity" id={k.identityId} /> },
              { header: 'Last used', cell: (k) => formatDate(k.lastUsedAt) },
              { header: 'Expires', cell: (k) => formatDate(k.expiresAt) },
              {
                header: 'Actions',
                hiddenHeader: true,
                cell: (k) => <ConfirmButton className="btn btn-small btn-danger-outline" label="Revoke" title={`Revoke API key ${k.name}?`} message={<p>Every program using it stops working at once.</p>} confirmLabel="Revoke key" onConfirm={() => revoke.mutateAsync(k.id)} />,
              },
            ]}
          />
        )}
      </QueryState>
    </>
  );
}

function Clients() {
  const queryClient = useQueryClient();
  const [secret, setSecret] = useState<{ clientId: string; secret: string } | null>(null);
  const clients = useQuery({ queryKey: ['clients'], queryFn: () => unwrap(api.GET('/api/v1/clients')) });
  const remove = useMutation({ mutationFn: (id: string) => unwrap(api.DELETE('/api/v1/clients/{id}', { params: { path: { id } } })), onSuccess: () => queryClient.invalidateQueries({ queryKey: ['clients'] }) });
  return (
    <>
      {secret ? <SecretOnce label={`Client secret of ${secret.clientId}`} secret={secret.secret} onDone={() => setSecret(null)} /> : null}
      <CreateCredential
        label="Create OAuth client"
        withExpiry={false}
        create={async (v) => {
          const created = (await unwrap(api.POST('/api/v1/clients', { body: { name: v.name } }))) as { clientId: string; clientSecret: string };
          setSecret({ clientId: created.clientId, secret: created.clientSecret });
          await queryClient.invalidateQueries({ queryKey: ['clients'] });
        }}
      />
      <QueryState query={clients} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No OAuth clients" />}>
        {(data) => (
          <DataTable
            testId="clients-table"
            rows={data.items}
            rowKey={(c) => c.id}
            columns={[
              { header: 'Name', cell: (c) => c.name },
              { header: 'Client id', className: 'mono', cell: (c) => c.clientId },
              { header: 'Scopes', cell: (c) => c.scopes.join(' ') || '—' },
              { header: 'Last used', cell: (c) => formatDate(c.lastUsedAt) },
              {
                header: 'Actions',
                hiddenHeader: true,
                cell: (c) => <ConfirmButton className="btn btn-small btn-danger-outline" label="Delete" title={`Delete client ${c.name}?`} message={<p>Its tokens stop working.</p>} confirmLabel="Delete client" onConfirm={() => remove.mutateAsync(c.id)} />,
              },
            ]}
          />
        )}
      </QueryState>
    </>
  );
}

function AppKeys() {
  const queryClient = useQueryClient();
  const [applicationId, setApplicationId] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const apps = useQuery({ queryKey: ['applications', 'all-for-keys'], queryFn: () => unwrap(api.GET('/api/v1/applications', { params: { query: { limit: 500 } } })) });
  const keys = useQuery({ queryKey: ['app-keys', applicationId], enabled: Boolean(applicationId), queryFn: () => unwrap(api.GET('/api/v1/applications/{id}/keys', { params: { path: { id: applicationId } } })) });
  const revoke = useMutation({ mutationFn: (keyId: string) => unwrap(api.DELETE('/api/v1/applications/{id}/keys/{keyId}', { params: { path: { id: applicationId, keyId } } })), onSuccess: () => queryClient.invalidateQueries({ queryKey: ['app-keys', applicationId] }) });
  return (
    <>
      <Field label="Application">
        {(p) => (
          <select {...p} value={applicationId} onChange={(e) => setApplicationId(e.target.value)}>
            <option value="">Choose an application…</option>
            {(apps.data?.items ?? []).map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      {secret ? <SecretOnce label="The new application key" secret={secret} onDone={() => setSecret(null)} /> : null}
      {applicationId ? (
        <>
          <CreateCredential
            label="Create application key"
            withExpiry
            create={async (v) => {
              const created = await unwrap(api.POST('/api/v1/applications/{id}/keys', { params: { path: { id: applicationId } }, body: v }));
              setSecret((created as { secret: string }).secret);
              await queryClient.invalidateQueries({ queryKey: ['app-keys', applicationId] });
            }}
          />
          <QueryState query={keys} isEmpty={(d) => d.items.length === 0} empty={<Empty title="This application has no keys" />}>
            {(data) => (
              <DataTable
                testId="app-keys-table"
                rows={data.items}
                rowKey={(k) => k.id}
                columns={[
                  { header: 'Name', cell: (k) => k.name },
                  { header: 'Prefix', className: 'mono', cell: (k) => `${k.prefix}…` },
                  { header: 'Last used', cell: (k) => formatDate(k.lastUsedAt) },
                  { header: 'Expires', cell: (k) => formatDate(k.expiresAt) },
                  {
                    header: 'Actions',
                    hiddenHeader: true,
                    cell: (k) => <ConfirmButton className="btn btn-small btn-danger-outline" label="Revoke" title={`Revoke key ${k.name}?`} message={<p>The application can no longer call Grantory with it.</p>} confirmLabel="Revoke key" onConfirm={() => revoke.mutateAsync(k.id)} />,
                  },
                ]}
              />
            )}
          </QueryState>
        </>
      ) : null}
    </>
  );
}

function Sinks() {
  const queryClient = useQueryClient();
  const sinks = useQuery({ queryKey: ['event-sinks'], queryFn: () => unwrap(api.GET('/api/v1/event-sinks')), refetchInterval: 5000 });
  const retry = useMutation({ mutationFn: (id: string) => unwrap(api.POST('/api/v1/event-sinks/{id}/retry', { params: { path: { id } } })), onSuccess: () => queryClient.invalidateQueries({ queryKey: ['event-sinks'] }) });
  const remove = useMutation({ mutationFn: (id: string) => unwrap(api.DELETE('/api/v1/event-sinks/{id}', { params: { path: { id } } })), onSuccess: () => queryClient.invalidateQueries({ queryKey: ['event-sinks'] }) });
  const form = useForm<{ name: string; url: string; format: 'grantory' | 'ocsf' }>({ defaultValues: { name: '', url: '', format: 'grantory' } });
  const [error, setError] = useState<unknown>(null);
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      await unwrap(api.POST('/api/v1/event-sinks', { body: { name: v.name, type: 'webhook', format: v.format, webhook: { url: v.url } } }));
      form.reset();
      await queryClient.invalidateQueries({ queryKey: ['event-sinks'] });
    } catch (e) {
      setError(applyFieldErrors(e, form.setError, ['name', 'format']));
    }
  });
  return (
    <>
      <form className="inline-form" onSubmit={submit} noValidate aria-label="Add a webhook sink">
        <Field label="Name" error={form.formState.errors.name?.message}>{(p) => <input {...p} {...form.register('name', { required: 'Give it a name' })} />}</Field>
        <Field label="Webhook URL" error={form.formState.errors.url?.message}>{(p) => <input {...p} type="url" {...form.register('url', { required: 'Enter the URL' })} />}</Field>
        <Field label="Format">
          {(p) => (
            <select {...p} {...form.register('format')}>
              <option value="grantory">Grantory</option>
              <option value="ocsf">OCSF</option>
            </select>
          )}
        </Field>
        <button type="submit" className="btn btn-primary">
          Add webhook
        </button>
        <ErrorNote error={error} />
      </form>
      <ErrorNote error={retry.error ?? remove.error} />
      <QueryState query={sinks} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No event sinks">Add a webhook to stream audit events to your SIEM.</Empty>}>
        {(data) => (
          <DataTable
            testId="sinks-table"
            rows={data.items}
            rowKey={(s) => s.id}
            columns={[
              { header: 'Name', cell: (s) => s.name },
              { header: 'Destination', className: 'mono', cell: (s) => s.webhook?.url ?? (s.syslog ? `${s.syslog.host}:${s.syslog.port}` : '—') },
              {
                header: 'State',
                cell: (s) => (
                  <>
                    <StatusBadge status={s.status} />
                    {s.deadLetterCount ? ` ${s.deadLetterCount} dead letters` : ''}
                  </>
                ),
              },
              { header: 'Delivered up to', cell: (s) => `event ${s.cursor}` },
              { header: 'Last delivery', cell: (s) => formatDate(s.lastDeliveredAt) },
              { header: 'Last error', cell: (s) => s.lastError ?? '—' },
              {
                header: 'Actions',
                hiddenHeader: true,
                className: 'actions',
                cell: (s) => (
                  <>
                    {s.status !== 'active' ? (
                      <button type="button" className="btn btn-small" onClick={() => retry.mutate(s.id)}>
                        Retry now
                      </button>
                    ) : null}
                    <ConfirmButton className="btn btn-small btn-danger-outline" label="Delete" title={`Delete sink ${s.name}?`} message={<p>Events stop flowing to it.</p>} confirmLabel="Delete sink" onConfirm={() => remove.mutateAsync(s.id)} />
                  </>
                ),
              },
            ]}
          />
        )}
      </QueryState>
    </>
  );
}
