/** Identities: search and filter, a virtualised list that pages with the API's cursors. */
import { useCallback, useDeferredValue, useState } from 'react';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { useCursorList } from '../api/paging';
import { identityName } from '../api/names';
import { Empty, ErrorNote, Field, Loading, PageHeader, StatusBadge } from '../components/ui';
import { VirtualTable, type Column } from '../components/VirtualTable';
import type { paths } from '../api/client';

type Identity = paths['/api/v1/identities']['get']['responses'][200]['content']['application/json']['items'][number];

const COLUMNS: Column<Identity>[] = [
  { id: 'number', header: '#', width: '5rem', cell: (i) => i.number },
  { id: 'name', header: 'Name', width: 'minmax(12rem, 2fr)', cell: (i) => <Link to={`/identities/${i.id}`}>{identityName(i)}</Link> },
  { id: 'username', header: 'Username', width: 'minmax(8rem, 1fr)', cell: (i) => i.username ?? '—' },
  { id: 'email', header: 'Email', width: 'minmax(12rem, 2fr)', cell: (i) => i.email ?? '—' },
  { id: 'type', header: 'Type', width: '7rem', cell: (i) => i.type },
  { id: 'status', header: 'Status', width: '7rem', cell: (i) => <StatusBadge status={i.status} /> },
];

const PAGE_SIZE = 500;

export default function IdentitiesPage() {
  const [q, setQ] = useState('');
  const [status, setStatus] = useState<'' | 'active' | 'on_leave' | 'terminated'>('');
  const query = useDeferredValue(q.trim());
  const list = useCursorList(['identities', query, status], (cursor) =>
    unwrap(api.GET('/api/v1/identities', { params: { query: { limit: PAGE_SIZE, ...(cursor ? { cursor } : {}), ...(query ? { q: query } : {}), ...(status ? { status } : {}) } } })),
  );
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const loadMore = useCallback(() => void fetchNextPage(), [fetchNextPage]);

  return (
    <>
      <PageHeader title="Identities" />
      <div className="filters" role="search">
        <Field label="Search">
          {(p) => <input {...p} type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Name, username, email or employee number" />}
        </Field>
        <Field label="Status">
          {(p) => (
            <select {...p} value={status} onChange={(e) => setStatus(e.target.value as typeof status)}>
              <option value="">Any</option>
              <option value="active">Active</option>
              <option value="on_leave">On leave</option>
              <option value="terminated">Terminated</option>
            </select>
          )}
        </Field>
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorNote error={list.error} />
      ) : list.rows.length === 0 ? (
        <Empty title="No identities match">Change the search or the status filter.</Empty>
      ) : (
        <VirtualTable label="Identities" rows={list.rows} columns={COLUMNS} rowKey={(i) => i.id} hasMore={Boolean(hasNextPage)} loadingMore={isFetchingNextPage} onLoadMore={loadMore} />
      )}
    </>
  );
}
