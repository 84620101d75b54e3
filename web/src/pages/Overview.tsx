/** The start page: what needs attention now, each tile only when the caller may read it. */
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { useSession, useMe } from '../session';
import { LastVerification } from '../components/LastVerification';
import { Empty, ErrorNote, Loading, PageHeader, StatusBadge, formatDate } from '../components/ui';

function Tile({ title, children, to }: { title: string; children: React.ReactNode; to?: string }) {
  return (
    <section className="tile" aria-labelledby={`tile-${title}`}>
      <h2 id={`tile-${title}`}>{to ? <Link to={to}>{title}</Link> : title}</h2>
      {children}
    </section>
  );
}

function Count({ value, label }: { value: number | string; label: string }) {
  return (
    <p className="count">
      <span className="count-value">{value}</span> <span className="count-label">{label}</span>
    </p>
  );
}

export function OverviewPage() {
  const { can } = useSession();
  const me = useMe();
  const approvals = useQuery({ queryKey: ['approvals', 'mine'], queryFn: () => unwrap(api.GET('/api/v1/approvals', { params: { query: { limit: 100 } } })) });
  const imports = useQuery({
    queryKey: ['imports', 'attention'],
    enabled: can('manage-imports'),
    queryFn: async () => {
      const [held, failed] = await Promise.all([
        unwrap(api.GET('/api/v1/imports', { params: { query: { status: 'Held', limit: 50 } } })),
        unwrap(api.GET('/api/v1/imports', { params: { query: { status: 'Failed', limit: 50 } } })),
      ]);
      return [...held.items, ...failed.items];
    },
  });
  // Counts only (kept by the server per revision of the access index), not the rows behind them.
  const drift = useQuery({ queryKey: ['drift', 'summary'], enabled: can('read-permissions-any-application'), queryFn: () => unwrap(api.GET('/api/v1/access/drift/summary')) });
  const sod = useQuery({ queryKey: ['sod-violations', 'summary'], enabled: can('manage-roles'), queryFn: () => unwrap(api.GET('/api/v1/sod-violations/summary')) });
  const drifting = (drift.data?.items ?? []).filter((d) => d.assignedNotProvisioned + d.provisionedNotAssigned > 0);
  const audit = useQuery({ queryKey: ['audit', 'recent'], enabled: can('read-audit'), queryFn: () => unwrap(api.GET('/api/v1/audit-events', { params: { query: { limit: 8, order: 'desc' } } })) });

  return (
    <>
      <PageHeader title="Overview" />
      <p className="lead">Signed in as {me.signedIn?.name ?? me.name}.</p>
      <div className="tiles">
        <Tile title="Approvals for me" to="/approvals">
          {approvals.isPending ? <Loading /> : approvals.error ? <ErrorNote error={approvals.error} /> : <Count value={approvals.data.items.length} label="waiting" />}
        </Tile>
        {can('manage-imports') ? (
          <Tile title="Imports needing attention" to="/applications">
            {imports.isPending ? (
              <Loading />
            ) : imports.error ? (
              <ErrorNote error={imports.error} />
            ) : imports.data.length === 0 ? (
              <Count value={0} label="held or failed" />
            ) : (
              <ul className="plain">
                {imports.data.slice(0, 6).map((i) => (
                  <li key={i.id}>
                    <Link to={`/applications/${i.applicationId}?tab=imports`}>Import #{i.number}</Link> <StatusBadge status={i.status} />
                  </li>
                ))}
              </ul>
            )}
          </Tile>
        ) : null}
        {can('read-permissions-any-application') ? (
          <Tile title="Drift per application">
            {drift.isPending ? (
              <Loading />
            ) : drift.error ? (
              <ErrorNote error={drift.error} />
            ) : drifting.length === 0 ? (
              <Count value={0} label="applications with drift" />
            ) : (
              <>
                <Count value={drifting.length} label={`of ${drift.data.items.length} connected applications with drift`} />
                <ul className="plain" data-testid="drift-list">
                  {drifting
                    .sort((a, b) => b.assignedNotProvisioned + b.provisionedNotAssigned - (a.assignedNotProvisioned + a.provisionedNotAssigned))
                    .slice(0, 8)
                    .map((d) => (
                      <li key={d.applicationId}>
                        <Link to={`/applications/${d.applicationId}`}>{d.applicationName}</Link>: {d.assignedNotProvisioned.toLocaleString()} not provisioned, {d.provisionedNotAssigned.toLocaleString()} not assigned
                      </li>
                    ))}
                </ul>
              </>
            )}
          </Tile>
        ) : null}
        {can('manage-roles') ? (
          <Tile title="Separation-of-duties violations">
            {sod.isPending ? (
              <Loading />
            ) : sod.error ? (
              <ErrorNote error={sod.error} />
            ) : (
              <div data-testid="sod-summary">
                <Count value={sod.data.unmitigated.toLocaleString()} label="open" />
                {sod.data.total > sod.data.unmitigated ? <p className="muted">{(sod.data.total - sod.data.unmitigated).toLocaleString()} more mitigated by an exception</p> : null}
                {sod.data.unmitigated > 0 ? (
                  <p className="muted">
                    {(['critical', 'high', 'medium', 'low'] as const)
                      .filter((s) => sod.data.bySeverity[s].unmitigated > 0)
                      .map((s) => `${sod.data.bySeverity[s].unmitigated.toLocaleString()} ${s}`)
                      .join(', ')}
                  </p>
                ) : null}
              </div>
            )}
          </Tile>
        ) : null}
        {can('read-audit') ? (
          <Tile title="Audit chain" to="/audit">
            <LastVerification />
          </Tile>
        ) : null}
      </div>
      {can('read-audit') ? (
        <section className="panel">
          <h2>Recent audit events</h2>
          {audit.isPending ? (
            <Loading />
          ) : audit.error ? (
            <ErrorNote error={audit.error} />
          ) : audit.data.items.length === 0 ? (
            <Empty title="No audit events yet" />
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Action</th>
                  <th scope="col">Actor</th>
                </tr>
              </thead>
              <tbody>
                {audit.data.items.map((e) => (
                  <tr key={e.id}>
                    <td>{formatDate(e.time)}</td>
                    <td>
                      <Link to={`/audit?event=${e.seq}`}>{e.action}</Link>
                    </td>
                    <td>{e.actor.name ?? e.actor.type}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ) : null}
    </>
  );
}
