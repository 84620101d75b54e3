/**
 * What an import keeps beside the accounts: its per-account diff (stored for review, read
 * back to apply an approved held import) and the application's orphan and ambiguous accounts.
 */
import type { AccountChange, AccountMatch, GrantCodes, GrantRef } from '../../domain/import-diff.ts';
import type { Database } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import { bulkInsert } from './bulk.ts';
import { CHUNK } from './current-accounts.ts';

/** Per-code JSON of grant references, built once per import. */
function refsJson(codes: GrantCodes): (list: number[]) => string {
  const parts: string[] = [];
  return (list) => {
    let out = '[';
    for (let i = 0; i < list.length; i += 1) {
      const code = list[i]!;
      parts[code] ??= JSON.stringify(codes.decode(code));
      out += (i ? ',' : '') + parts[code];
    }
    return `${out}]`;
  };
}

export async function storeChanges(tx: WriteTx, importId: string, changes: AccountChange[], codes: GrantCodes): Promise<void> {
  await tx.db.deleteFrom('import_changes').where('import_id', '=', importId).execute();
  const refs = refsJson(codes);
  const rows = bulkInsert(tx, 'import_changes', [
    'tenant_id',
    'import_id',
    'seq',
    'account_name',
    'op',
    'match_state',
    'match_rule',
    'identity_before',
    'identity_after',
    'status_before',
    'status_after',
    'grants_added',
    'grants_removed',
  ]);
  let seq = 0;
  for (const c of changes) {
    seq += 1;
    await rows.push([
      tx.tenantId,
      importId,
      seq,
      c.accountName,
      c.op,
      c.match?.state ?? 'removed',
      c.match?.state === 'matched' ? c.match.rule : null,
      c.identityBefore,
      c.identityAfter,
      c.statusBefore,
      c.statusAfter,
      refs(c.grantsAdded),
      refs(c.grantsRemoved),
    ]);
  }
  await rows.end();
}

/** The application's orphan and ambiguous accounts become those of this import. */
export async function replaceUnmatched(tx: WriteTx, applicationId: string, importId: string, matches: Map<string, AccountMatch>): Promise<void> {
  const before = new Map(
    (
      await tx.db
        .selectFrom('unmatched_accounts')
        .select(['account_name', 'state', 'candidates', 'first_seen_at'])
        .where('application_id', '=', applicationId)
        .execute()
    ).map((r) => [r.account_name, r]),
  );
  const rows: Database['unmatched_accounts'][] = [];
  for (const [name, m] of matches) {
    if (m.state !== 'orphan' && m.state !== 'ambiguous') continue;
    const candidates = JSON.stringify(m.state === 'ambiguous' ? m.candidates : []);
    const old = before.get(name);
    before.delete(name);
    if (old && old.state === m.state && old.candidates === candidates) continue;
    if (old) await tx.db.deleteFrom('unmatched_accounts').where('application_id', '=', applicationId).where('account_name', '=', name).execute();
    rows.push({ tenant_id: tx.tenantId, application_id: applicationId, account_name: name, state: m.state, candidates, import_id: importId, first_seen_at: old?.first_seen_at ?? tx.now, updated_at: tx.now });
  }
  const gone = [...before.keys()];
  for (let j = 0; j < gone.length; j += CHUNK) {
    await tx.db
      .deleteFrom('unmatched_accounts')
      .where('application_id', '=', applicationId)
      .where('account_name', 'in', gone.slice(j, j + CHUNK))
      .execute();
  }
  for (let j = 0; j < rows.length; j += 500) await tx.db.insertInto('unmatched_accounts').values(rows.slice(j, j + 500)).execute();
}

/** Reads a stored diff back (to apply an approved held import). */
export async function loadStoredChanges(tx: WriteTx, importId: string, codes: GrantCodes): Promise<AccountChange[]> {
  const rows = await tx.db.selectFrom('import_changes').selectAll().where('import_id', '=', importId).orderBy('seq').execute();
  const decode = (text: string) => (JSON.parse(text) as GrantRef[]).map((r) => codes.intern(r.permission, r.context));
  return rows.map((r) => {
    const match: AccountMatch | null =
      r.op === 'remove'
        ? null
        : r.match_state === 'matched' || r.match_state === 'linked'
          ? r.match_state === 'matched'
            ? { state: 'matched', identityId: r.identity_after ?? '', rule: (r.match_rule ?? 'employeeNumber') as 'employeeNumber' }
            : { state: 'linked', identityId: r.identity_after ?? '' }
          : r.match_state === 'ambiguous'
            ? { state: 'ambiguous', candidates: [] }
            : { state: r.match_state as 'orphan' | 'service' | 'ignored' };
    return {
      accountName: r.account_name,
      op: r.op as AccountChange['op'],
      match,
      identityBefore: r.identity_before,
      identityAfter: r.identity_after,
      statusBefore: r.status_before,
      statusAfter: r.status_after,
      grantsAdded: decode(r.grants_added),
      grantsRemoved: decode(r.grants_removed),
    };
  });
}

/** After an approved held import: orphan/ambiguous rows follow the applied changes. */
export async function updateUnmatchedFromChanges(tx: WriteTx, applicationId: string, importId: string, changes: AccountChange[]): Promise<void> {
  for (const c of changes) {
    await tx.db.deleteFrom('unmatched_accounts').where('application_id', '=', applicationId).where('account_name', '=', c.accountName).execute();
    if (c.match && (c.match.state === 'orphan' || c.match.state === 'ambiguous')) {
      await tx.db
        .insertInto('unmatched_accounts')
        .values({
          tenant_id: tx.tenantId,
          application_id: applicationId,
          account_name: c.accountName,
          state: c.match.state,
          candidates: JSON.stringify(c.match.state === 'ambiguous' ? c.match.candidates : []),
          import_id: importId,
          first_seen_at: tx.now,
          updated_at: tx.now,
        })
        .execute();
    }
  }
}

