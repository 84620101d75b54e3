/** The audit trail: filters, each event's before/after, chain links and checkpoints, exports. */
import { useMemo, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { api, download, unwrap, type paths } from '../api/client';
import { useCursorList } from '../api/paging';
import { useSession } from '../session';
import { Badge, Empty, ErrorNote, Field, Loading, PageHeader, QueryState, formatDate } from '../components/ui';
import { Diff } from '../components/Diff';
import { LastVerification, lastVerificationKey } from '../components/LastVerification';

type AuditEvent = paths['/api/v1/audit-events']['get']['responses'][200]['content']['application/json']['items'][number];

function toIso(local: string): string | undefined {
  return local ? new Date(local).toISOString() : undefined;
}

export default function AuditPage() {
  const [params, setParams] = useSearchParams();
  const [action, setAction] = useState('');
  const [targetType, setTargetType] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const filters = useMemo(() => {
    const f: Record<string, string> = {};
    if (action.trim()) f.action = action.trim();
    if (targetType.trim()) f.targetType = targetType.trim();
    const fromIso = toIso(from);
    const toIsoValue = toIso(to);
    if (fromIso) f.from = fromIso;
    if (toIsoValue) f.to = toIsoValue;
    return f;
  }, [action, targetType, from, to]);
  const list = useCursorList(['audit', filters], (cursor) => unwrap(api.GET('/api/v1/audit-events', { params: { query: { ...filters, order: 'desc', limit: 100, ...(cursor ? { cursor } : {}) } } })));
  const selectedSeq = Number(params.get('event') ?? NaN);
  const selected = list.rows.find((e) => e.seq === selectedSeq) ?? null;
  const shown: AuditEvent | null = selected;

  return (
    <>
      <PageHeader title="Audit" />
      <div className="filters" role="search">
        <Field label="Action">{(p) => <input {...p} value={action} onChange={(e) => setAction(e.target.value)} placeholder="e.g. assignment.revoke" />}</Field>
        <Field label="Target type">{(p) => <input {...p} value={targetType} onChange={(e) => setTargetType(e.target.value)} placeholder="e.g. identity" />}</Field>
        <Field label="From">{(p) => <input {...p} type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />}</Field>
        <Field label="To">{(p) => <input {...p} type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />}</Field>
      </div>
      <div className="split">
        <section aria-label="Audit events">
          {list.isPending ? (
            <Loading />
          ) : list.error ? (
            <ErrorNote error={list.error} />
          ) : list.rows.length === 0 ? (
            <Empty title="No audit events match" />
          ) : (
            <>
              <table className="table" data-testid="audit-table">
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">Time</th>
                    <th scope="col">Action</th>
                    <th scope="col">Target</th>
                    <th scope="col">Actor</th>
                  </tr>
                </thead>
                <tbody>
                  {list.rows.map((e) => (
                    <tr key={e.id} className={shown?.id === e.id ? 'row-selected' : undefined}>
                      <td>{e.seq}</td>
                      <td>{formatDate(e.time)}</td>
                      <td>
                        <button type="button" className="linklike" onClick={() => setParams({ event: String(e.seq) }, { replace: true })}>
                          {e.action}
                        </button>
                      </td>
                      <td>
                        {e.targetType}
                        {e.targetId ? ` ${e.targetId.slice(0, 8)}` : ''}
                      </td>
                      <td>{e.actor.name ?? e.actor.type}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {list.hasNextPage ? (
                <button type="button" className="btn" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
                  {list.isFetchingNextPage ? 'Loading…' : 'Load older events'}
                </button>
              ) : null}
            </>
          )}
        </section>
        <div>
          {shown ? (
            <section className="panel" aria-labelledby="event-title" data-testid="audit-event">
              <h2 id="event-title">
                Event {shown.seq}: <Badge tone="info">{shown.action}</Badge>
              </h2>
              <dl className="facts">
                <div>
                  <dt>When</dt>
                  <dd>{formatDate(shown.time)}</dd>
                </div>
                <div>
                  <dt>Actor</dt>
                  <dd>{shown.actor.name ?? shown.actor.type}</dd>
                </div>
                <div>
                  <dt>From</dt>
                  <dd>{shown.sourceIp ?? '—'}</dd>
                </div>
                <div>
                  <dt>Request</dt>
                  <dd>{shown.requestId ?? '—'}</dd>
                </div>
              </dl>
              <Diff before={shown.before} after={shown.after} />
              <p className="muted mono">hash {shown.hash.slice(0, 16)}… · previous {shown.prevHash.slice(0, 16)}…</p>
            </section>
          ) : null}
          <Verification />
          <Checkpoints />
          <Exports filters={filters} />
        </div>
      </div>
    </>
  );
}

/**
 * Verifies the whole chain on the server (GET /api/v1/audit-verification): every event's
 * hash, every link, the head and every signed checkpoint, not only the events loaded here.
 */
function Verification() {
  const queryClient = useQueryClient();
  const verify = useMutation({
    mutationFn: () => unwrap(api.GET('/api/v1/audit-verification')),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: lastVerificationKey }),
  });
  const result = verify.data;
  return (
    <section className="panel" aria-labelledby="verification-title">
      <div className="panel-head">
        <h2 id="verification-title">Chain verification</h2>
        <button type="button" className="btn btn-small btn-primary" onClick={() => verify.mutate()} disabled={verify.isPending}>
          {verify.isPending ? 'Verifying…' : result ? 'Verify again' : 'Verify the whole chain'}
        </button>
      </div>
      <ErrorNote error={verify.error} />
      {verify.isPending ? <Loading label="Reading the whole trail and checking every link…" /> : null}
      {result && !verify.isPending ? (
        result.ok ? (
          <div className="alert alert-good" role="status" data-testid="verification">
            <strong>The audit trail is intact.</strong>
            <span>
              All {result.events.toLocaleString()} events verified, from the first to event {result.headSeq} (head <span className="mono">{result.headHash.slice(0, 12)}…</span>);{' '}
              {result.checkpoints} signed {result.checkpoints === 1 ? 'checkpoint' : 'checkpoints'} matched. Checked {formatDate(result.verifiedAt)} in {result.durationMs} ms.
            </span>
          </div>
        ) : (
          <div className="alert alert-error" role="alert" data-testid="verification">
            <strong>The audit trail is broken at event {result.problem?.seq}.</strong>
            <span>
              {result.problem?.message}. {result.events.toLocaleString()} events verified before it. Checked {formatDate(result.verifiedAt)}.
            </span>
          </div>
        )
      ) : null}
      {result?.notes.map((n) => (
        <p key={n} className="muted">
          {n}
        </p>
      ))}
      {!result && !verify.isPending ? (
        <>
          <p className="muted">Re-computes every event's hash and link on the server, and compares the head and the signed checkpoints.</p>
          <LastVerification />
        </>
      ) : null}
    </section>
  );
}

function Checkpoints() {
  const queryClient = useQueryClient();
  const checkpoints = useQuery({ queryKey: ['audit-checkpoints'], queryFn: () => unwrap(api.GET('/api/v1/audit-checkpoints', { params: { query: { limit: 5 } } })) });
  const sign = useMutation({ mutationFn: () => unwrap(api.POST('/api/v1/audit-checkpoints', {})), onSuccess: () => queryClient.invalidateQueries({ queryKey: ['audit-checkpoints'] }) });
  return (
    <section className="panel" aria-labelledby="checkpoints-title">
      <div className="panel-head">
        <h2 id="checkpoints-title">Signed checkpoints</h2>
        <button type="button" className="btn btn-small" onClick={() => sign.mutate()} disabled={sign.isPending}>
          Sign a checkpoint now
        </button>
      </div>
      <ErrorNote error={sign.error} />
      <QueryState query={checkpoints} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No checkpoint yet" />}>
        {(data) => (
          <ul className="plain" data-testid="checkpoints">
            {data.items.map((c) => (
              <li key={c.seq}>
                Event {c.seq} · {formatDate(c.time)} · key {c.keyId} · <span className="mono">{c.hash.slice(0, 12)}…</span>
              </li>
            ))}
          </ul>
        )}
      </QueryState>
      <p className="muted">Save the list (GET /api/v1/audit-checkpoints) to check the trail later against it offline: `grantory audit verify --checkpoints FILE`.</p>
    </section>
  );
}

function Exports({ filters }: { filters: Record<string, string> }) {
  const { can } = useSession();
  const [error, setError] = useState<unknown>(null);
  const get = (path: string, name: string) => {
    setError(null);
    download(path, name).catch(setError);
  };
  const auditQuery = new URLSearchParams(filters);
  return (
    <section className="panel" aria-labelledby="exports-title">
      <h2 id="exports-title">Exports</h2>
      <ErrorNote error={error} />
      <div className="button-row">
        <button type="button" className="btn" onClick={() => get(`/api/v1/exports/audit-events?${auditQuery}&format=csv`, 'audit-events.csv')}>
          Audit events (CSV)
        </button>
        <button type="button" className="btn" onClick={() => get(`/api/v1/exports/audit-events?${auditQuery}&format=ndjson`, 'audit-events.ndjson')}>
          Audit events (NDJSON)
        </button>
        {can('read-permissions-any-application') ? (
          <>
            <button type="button" className="btn" onClick={() => get('/api/v1/exports/effective-permissions?format=csv', 'effective-permissions.csv')}>
              Effective permissions (CSV)
            </button>
            <button type="button" className="btn" onClick={() => get('/api/v1/exports/effective-permissions?format=ndjson', 'effective-permissions.ndjson')}>
              Effective permissions (NDJSON)
            </button>
          </>
        ) : null}
      </div>
    </section>
  );
}
