/** The application catalog: search, kind, owners, last import. */
import { useCallback, useDeferredValue, useState } from 'react';
import { Link } from 'react-router';
import { api, unwrap, type paths } from '../api/client';
import { useCursorList } from '../api/paging';
import { Name } from '../api/names';
import { Empty, ErrorNote, Field, Loading, PageHeader, StatusBadge, formatDate } from '../components/ui';

type Application = paths['/api/v1/applications']['get']['responses'][200]['content']['application/json']['items'][number];

export default function ApplicationsPage() {
  const [q, setQ] = useState('');
  const [kind, setKind] = useState<'' | 'managed' | 'connected'>('');
  const term = useDeferredValue(q.trim());
  const list = useCursorList(['applications', term, kind], (cursor) =>
    unwrap(api.GET('/api/v1/applications', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}), ...(term ? { q: term } : {}), ...(kind ? { kind } : {}) } } })),
  );
  const { fetchNextPage } = list;
  const more = useCallback(() => void fetchNextPage(), [fetchNextPage]);
  return (
    <>
      <PageHeader title="Applications" />
      <div className="filters" role="search">
        <Field label="Search">{(p) => <input {...p} type="search" value={q} onChange={(e) => setQ(e.target.value)} />}</Field>
        <Field label="Kind">
          {(p) => (
            <select {...p} value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
              <option value="">Any</option>
              <option value="managed">Managed in Grantory</option>
              <option value="connected">Connected (imports)</option>
            </select>
          )}
        </Field>
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorNote error={list.error} />
      ) : list.rows.length === 0 ? (
        <Empty title="No applications match" />
      ) : (
        <>
          <table className="table" data-testid="applications-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Owners</th>
                <th scope="col">Priority</th>
                <th scope="col">Last import</th>
              </tr>
            </thead>
            <tbody>
              {list.rows.map((a: Application) => (
                <tr key={a.id}>
                  <td>
                    <Link to={`/applications/${a.id}`}>{a.name}</Link>
                  </td>
                  <td>{a.kind}</td>
                  <td>{a.ownerIds.length ? a.ownerIds.map((o, i) => <span key={o}>{i ? ', ' : ''}<Name kind="identity" id={o} /></span>) : '—'}</td>
                  <td>{a.priority}</td>
                  <td>{a.lastImport ? <><StatusBadge status={a.lastImport.status} /> {formatDate(a.lastImport.updatedAt)}</> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.hasNextPage ? (
            <button type="button" className="btn" onClick={more} disabled={list.isFetchingNextPage}>
              {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          ) : null}
        </>
      )}
    </>
  );
}
