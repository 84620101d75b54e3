/**
 * The audit chain's last verification (GET /api/v1/audit-verification/last): when, by whom
 * (the console or API, or `grantory audit verify`) and its result.
 */
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import { Name } from '../api/names';
import { ErrorNote, Loading, formatDate } from './ui';

export const lastVerificationKey = ['audit-verification', 'last'] as const;

export function LastVerification() {
  const last = useQuery({ queryKey: lastVerificationKey, queryFn: () => unwrap(api.GET('/api/v1/audit-verification/last')) });
  if (last.isPending) return <Loading />;
  if (last.error) return <ErrorNote error={last.error} />;
  const v = last.data.verification;
  if (!v) return <p data-testid="last-verification">The chain was never verified.</p>;
  const by = v.onBehalfOfId ? <Name kind="identity" id={v.onBehalfOfId} /> : (v.actor.name ?? v.actor.type);
  const how = v.source === 'cli' ? 'grantory audit verify' : 'the console or API';
  return (
    <div data-testid="last-verification">
      <p className={v.ok ? 'verified verified-good' : 'verified verified-bad'}>
        <strong>{v.ok ? 'Intact' : `Broken at event ${v.problem?.seq}`}</strong>
      </p>
      <p>
        Last verified {formatDate(v.verifiedAt)} by {by} ({how}): {v.events.toLocaleString()} events, {v.checkpoints} signed {v.checkpoints === 1 ? 'checkpoint' : 'checkpoints'} matched.
      </p>
      {v.problem ? <p className="muted">{v.problem.message}</p> : null}
    </div>
  );
}
