/** The approval inbox: the steps waiting for me, approve or reject with a comment. */
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import { Empty, ErrorNote, Field, PageHeader, QueryState, formatDate } from '../components/ui';

function RequestSummary({ requestId }: { requestId: string }) {
  const request = useQuery({ queryKey: ['access-request', requestId], queryFn: () => unwrap(api.GET('/api/v1/access-requests/{id}', { params: { path: { id: requestId } } })) });
  if (!request.data) return <span>Request {requestId.slice(0, 8)}</span>;
  const r = request.data;
  return (
    <span>
      <strong>{r.requesterName}</strong> asks to {r.action} <strong>{r.resource.name ?? r.resource.id}</strong> for {r.target.name ?? r.target.id}
      {r.justification ? <>: “{r.justification}”</> : null}
    </span>
  );
}

export default function ApprovalsPage() {
  const queryClient = useQueryClient();
  const inbox = useQuery({ queryKey: ['approvals', 'mine'], queryFn: () => unwrap(api.GET('/api/v1/approvals', { params: { query: { limit: 100 } } })) });
  const [comments, setComments] = useState<Record<string, string>>({});
  const decide = useMutation({
    mutationFn: ({ id, decision }: { id: string; decision: 'approve' | 'reject' }) => {
      const body = { comment: comments[id]?.trim() || null };
      return decision === 'approve' ? unwrap(api.POST('/api/v1/approvals/{id}/approve', { params: { path: { id } }, body })) : unwrap(api.POST('/api/v1/approvals/{id}/reject', { params: { path: { id } }, body }));
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['approvals'] }),
  });
  return (
    <>
      <PageHeader title="Approvals" />
      <ErrorNote error={decide.error} />
      <QueryState query={inbox} isEmpty={(d) => d.items.length === 0} empty={<Empty title="Nothing waits for your approval" />}>
        {(data) => (
          <ul className="cards">
            {data.items.map((a) => (
              <li key={a.id} className="card">
                <p>{a.requestId ? <RequestSummary requestId={a.requestId} /> : <span>Personnel event step {a.step}</span>}</p>
                <p className="muted">
                  Step {a.step} · waiting since {formatDate(a.createdAt)}
                  {a.dueAt ? ` · due ${formatDate(a.dueAt)}` : ''}
                </p>
                <Field label="Comment (optional)">{(p) => <input {...p} value={comments[a.id] ?? ''} onChange={(e) => setComments({ ...comments, [a.id]: e.target.value })} />}</Field>
                <div className="form-actions">
                  <button type="button" className="btn btn-danger-outline" onClick={() => decide.mutate({ id: a.id, decision: 'reject' })} disabled={decide.isPending}>
                    Reject
                  </button>
                  <button type="button" className="btn btn-primary" onClick={() => decide.mutate({ id: a.id, decision: 'approve' })} disabled={decide.isPending}>
                    Approve
                  </button>
                </div>
              </li>
            ))}
          </ul>
        )}
      </QueryState>
    </>
  );
}
