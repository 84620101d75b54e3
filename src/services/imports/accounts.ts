/**
 * Accounts of an application with their matching state, the orphan list, and resolutions:
 * a person links an orphan or ambiguous account to an identity, or marks it as a service
 * account or ignored. A resolution is kept by account name, so it survives the next
 * import (matching consults it first).
 *
 * Matching state of an account: `linked` / `service` / `ignored` (a resolution), `orphan` /
 * `ambiguous` (the last import could not decide), `matched` (it has an identity), or
 * `unmatched` (recorded without an identity outside imports).
 */
import { AppError, notFound } from '../../domain/errors.ts';
import { requireRight, type Actor, openPager, type Page, writeAs } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { findApplication } from './connectors.ts';
import { accountView, type AccountView } from '../access/index.ts';
import { reportLinkedAccountSod } from '../sod/index.ts';

export const MATCHING_STATES = ['matched', 'linked', 'service', 'ignored', 'orphan', 'ambiguous', 'unmatched'] as const;
export type MatchingState = (typeof MATCHING_STATES)[number];

/** An account (as the access service shows it) with how imports matched it. */
export type AccountWithMatching = AccountView & { matching: { state: MatchingState; candidates: string[]; note: string | null } };

export async function listApplicationAccounts(
  deps: ServiceDeps,
  actor: Actor,
  applicationId: string,
  filter: { state?: MatchingState | undefined },
  page: { cursor?: string | undefined; limit?: number | undefined },
): Promise<Page<AccountWithMatching>> {
  requireRight(actor, 'manage-imports', 'read-permissions-any-application');
  const scope = deps.store.read(actor.caller.tenantId);
  if (!(await findApplication(scope, applicationId))) throw notFound('application', applicationId);
  const { db, tenantId } = scope;
  const pager = await openPager<string>(deps, tenantId, 'application-accounts', { applicationId, ...filter }, page);
  let q = db
    .selectFrom('accounts')
    .leftJoin('unmatched_accounts as u', (j) =>
      j.onRef('u.tenant_id', '=', 'accounts.tenant_id').onRef('u.application_id', '=', 'accounts.application_id').onRef('u.account_name', '=', 'accounts.name'),
    )
    .leftJoin('account_resolutions as r', (j) =>
      j.onRef('r.tenant_id', '=', 'accounts.tenant_id').onRef('r.application_id', '=', 'accounts.application_id').onRef('r.account_name', '=', 'accounts.name'),
    )
    .selectAll('accounts')
    .select(['u.state as unmatched_state', 'u.candidates', 'r.resolution', 'r.note'])
    .where('accounts.application_id', '=', applicationId);
  const state = filter.state;
  if (state === 'linked' || state === 'service' || state === 'ignored') q = q.where('r.resolution', '=', state);
  else if (state === 'orphan' || state === 'ambiguous') q = q.where('r.resolution', 'is', null).where('u.state', '=', state);
  else if (state === 'matched') q = q.where('r.resolution', 'is', null).where('u.state', 'is', null).where('accounts.identity_id', 'is not', null);
  else if (state === 'unmatched') q = q.where('r.resolution', 'is', null).where('u.state', 'is', null).where('accounts.identity_id', 'is', null);
  if (pager.after !== null) q = q.where('accounts.name', '>', pager.after);
  const rows = await q.orderBy('accounts.name').limit(pager.limit + 1).execute();
  const found = pager.page(
    rows,
    (r) => r.name,
    (r) => r,
  );
  const items: AccountWithMatching[] = [];
  for (const r of found.items) {
    const { unmatched_state, candidates, resolution, note, ...row } = r;
    const state: MatchingState = resolution
      ? (resolution as MatchingState)
      : unmatched_state
        ? (unmatched_state as MatchingState)
        : row.identity_id
          ? 'matched'
          : 'unmatched';
    items.push({ ...(await accountView(scope, row)), matching: { state, candidates: candidates ? (JSON.parse(candidates) as string[]) : [], note: note ?? null } });
  }
  return { items, nextCursor: found.nextCursor };
}

export interface OrphanView {
  applicationId: string;
  accountName: string;
  state: 'orphan' | 'ambiguous';
  candidates: string[];
  importId: string;
  firstSeenAt: string;
  updatedAt: string;
}

export async function listOrphans(
  deps: ServiceDeps,
  actor: Actor,
  filter: { applicationId?: string | undefined; state?: 'orphan' | 'ambiguous' | undefined },
  page: { cursor?: string | undefined; limit?: number | undefined },
): Promise<Page<OrphanView>> {
  requireRight(actor, 'manage-imports');
  const { db, tenantId } = deps.store.read(actor.caller.tenantId);
  const pager = await openPager<string>(deps, tenantId, 'orphans', { ...filter }, page);
  let q = db.selectFrom('unmatched_accounts').selectAll();
  if (filter.applicationId) q = q.where('application_id', '=', filter.applicationId);
  if (filter.state) q = q.where('state', '=', filter.state);
  if (pager.after !== null) {
    const [appId, name] = JSON.parse(pager.after) as [string, string];
    q = q.where((eb) => eb.or([eb('application_id', '>', appId), eb.and([eb('application_id', '=', appId), eb('account_name', '>', name)])]));
  }
  const rows = await q.orderBy('application_id').orderBy('account_name').limit(pager.limit + 1).execute();
  return pager.page(
    rows,
    (r) => JSON.stringify([r.application_id, r.account_name]),
    (r) => ({
      applicationId: r.application_id,
      accountName: r.account_name,
      state: r.state as 'orphan' | 'ambiguous',
      candidates: JSON.parse(r.candidates) as string[],
      importId: r.import_id,
      firstSeenAt: r.first_seen_at,
      updatedAt: r.updated_at,
    }),
  );
}

export interface ResolutionInput {
  resolution: 'linked' | 'service' | 'ignored';
  identityId?: string | undefined;
  note?: string | undefined;
}

export interface ResolutionView {
  applicationId: string;
  accountName: string;
  resolution: 'linked' | 'service' | 'ignored';
  identityId: string | null;
  note: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

/** Resolves an account (present or expected); links its account row at once when there is one. */
export async function resolveAccount(
  deps: ServiceDeps,
  actor: Actor,
  applicationId: string,
  accountName: string,
  input: ResolutionInput,
): Promise<{ value: ResolutionView; revision: number }> {
  requireRight(actor, 'manage-imports');
  if (input.resolution === 'linked' && !input.identityId) {
    throw new AppError('validation_failed', 'identityId is required to link an account', { errors: [{ field: 'identityId', message: 'is required when resolution is linked' }] });
  }
  if (input.resolution !== 'linked' && input.identityId != null) {
    throw new AppError('validation_failed', 'identityId is only for resolution linked', { errors: [{ field: 'identityId', message: 'is only for resolution linked' }] });
  }
  return writeAs(deps, actor, async (tx) => {
    const app = await findApplication(tx, applicationId);
    if (!app) throw notFound('application', applicationId);
    const identityId = input.identityId ?? null;
    if (identityId) {
      const identity = await tx.db.selectFrom('identities').select('id').where('id', '=', identityId).executeTakeFirst();
      if (!identity) throw new AppError('validation_failed', `identity ${identityId} does not exist`, { errors: [{ field: 'identityId', message: 'no such identity' }] });
    }
    const before = await tx.db
      .selectFrom('account_resolutions')
      .selectAll()
      .where('application_id', '=', applicationId)
      .where('account_name', '=', accountName)
      .executeTakeFirst();
    const view: ResolutionView = {
      applicationId,
      accountName,
      resolution: input.resolution,
      identityId,
      note: input.note ?? null,
      createdBy: before?.created_by ?? actor.caller.name,
      createdAt: before?.created_at ?? tx.now,
      updatedAt: tx.now,
    };
    if (before) {
      await tx.db
        .updateTable('account_resolutions')
        .set({ resolution: input.resolution, identity_id: identityId, note: view.note, updated_at: tx.now })
        .where('application_id', '=', applicationId)
        .where('account_name', '=', accountName)
        .execute();
    } else {
      await tx.db
        .insertInto('account_resolutions')
        .values({ tenant_id: tx.tenantId, application_id: applicationId, account_name: accountName, resolution: input.resolution, identity_id: identityId, note: view.note, created_by: actor.caller.name, created_at: tx.now, updated_at: tx.now })
        .execute();
    }
    await tx.db.deleteFrom('unmatched_accounts').where('application_id', '=', applicationId).where('account_name', '=', accountName).execute();
    const account = await tx.db
      .selectFrom('accounts')
      .select(['id', 'identity_id', 'version'])
      .where('application_id', '=', applicationId)
      .where('name', '=', accountName)
      .executeTakeFirst();
    if (account && account.identity_id !== identityId) {
      await tx.db
        .updateTable('accounts')
        .set({ identity_id: identityId, updated_at: tx.now, version: account.version + 1 })
        .where('id', '=', account.id)
        .execute();
      tx.change('account', account.id, 'update');
      // Its grants are new access for the identity it now belongs to.
      if (identityId) await reportLinkedAccountSod(tx, deps, actor, { accountId: account.id, identityId });
    }
    tx.audit({
      action: 'account.resolve',
      targetType: 'account',
      targetId: account?.id ?? null,
      before: before ? { resolution: before.resolution, identityId: before.identity_id } : null,
      after: { applicationId, accountName, resolution: input.resolution, identityId, note: view.note },
    });
    return view;
  });
}
