/**
 * What keeps an identity, an organization unit or an application from being deleted. Deleting one while
 * something still refers to it is refused with `conflict` (409) naming every blocker — in
 * words in `detail`, and as `blockers: [{type, count, ids, description}]` for scripts (the
 * same shape the catalog's delete checks use).
 *
 * Each later table that refers to identities or units adds one entry to the lists below
 * (as access requests and personnel events do):
 *
 * ```ts
 * { type: 'personnelEvent', noun: ['open personnel event', 'open personnel events'],
 *   find: (s, id) => findRefs(s, 'personnel_events', (q) => q.where('identity_id', '=', id).where('status', 'in', OPEN)) },
 * ```
 */
import type { SelectQueryBuilder } from 'kysely';
import { AppError } from '../../domain/errors.ts';
import type { Database } from '../../store/schema.ts';
import type { TenantDb } from '../../store/store.ts';
import { FINAL_STATUSES } from '../../domain/import-status.ts';

/** Up to this many ids of each kind of blocker are named. */
const SAMPLE = 5;

export interface Blocker {
  /** What kind of object blocks: `assignment`, `apiKey`, ... */
  type: string;
  count: number;
  /** Up to 5 of their ids. */
  ids: string[];
  /** Human-readable, e.g. `2 API keys`. */
  description: string;
}

export interface DeleteBlocker {
  type: string;
  /** Singular and plural noun for the description. */
  noun: readonly [string, string];
  /** The rows that still refer to the object `id`. */
  find(scope: TenantDb, id: string): Promise<{ count: number; ids: string[] }>;
}

/** Tables whose rows have an `id` and a `tenant_id`. */
type RefTable = 'identities' | 'org_units' | 'assignments' | 'api_keys' | 'applications' | 'oauth_clients' | 'application_keys' | 'accounts' | 'imports' | 'personnel_events' | 'access_requests' | 'approval_tasks';

/**
 * Access requests still under way: waiting for approval (`pending`), approved and waiting for
 * an import to confirm the provisioning (`open`), or approved for a later `validFrom`
 * (`scheduled`). Their approval or provisioning would act for an identity that is gone.
 * Closed ones (completed, rejected, canceled, failed) are history: they keep the identity's
 * id and the requester's name, and read on without it.
 */
const UNDER_WAY_REQUEST = ['pending', 'open', 'scheduled'];
type Filter<TB extends RefTable> = (q: SelectQueryBuilder<Database, TB, object>) => SelectQueryBuilder<Database, TB, object>;

/** Counts the tenant's rows of `table` that `filter` keeps, and names a few of them. */
export async function findRefs<TB extends RefTable>(scope: TenantDb, table: TB, filter: Filter<TB>): Promise<{ count: number; ids: string[] }> {
  const base = () => filter(scope.db.selectFrom(table as RefTable) as unknown as SelectQueryBuilder<Database, TB, object>);
  const counted = await base()
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirst();
  const count = Number(counted?.n ?? 0);
  if (!count) return { count, ids: [] };
  const sample = (await (base() as unknown as SelectQueryBuilder<Database, RefTable, object>).select('id').orderBy('id').limit(SAMPLE).execute()) as { id: string }[];
  return { count, ids: sample.map((r) => r.id) };
}

/** Account resolutions (keyed by application and account name) that link an account to `identityId`. */
async function findResolutions(scope: TenantDb, identityId: string): Promise<{ count: number; ids: string[] }> {
  const rows = await scope.db
    .selectFrom('account_resolutions')
    .select(['application_id', 'account_name'])
    .where('identity_id', '=', identityId)
    .orderBy('application_id')
    .orderBy('account_name')
    .execute();
  return { count: rows.length, ids: rows.slice(0, SAMPLE).map((r) => `${r.application_id}/${r.account_name}`) };
}

export const IDENTITY_DELETE_BLOCKERS: readonly DeleteBlocker[] = [
  {
    // Any state: revoked assignments are the identity's access history.
    type: 'assignment',
    noun: ['assignment', 'assignments'],
    find: (s, id) => findRefs(s, 'assignments', (q) => q.where('assignee_type', '=', 'identity').where('assignee_id', '=', id)),
  },
  {
    type: 'assignmentContext',
    noun: ['assignment in its context', 'assignments in its context'],
    find: (s, id) => findRefs(s, 'assignments', (q) => q.where('context_type', '=', 'identity').where('context_id', '=', id)),
  },
  { type: 'apiKey', noun: ['API key', 'API keys'], find: (s, id) => findRefs(s, 'api_keys', (q) => q.where('identity_id', '=', id)) },
  { type: 'report', noun: ['managed report', 'managed reports'], find: (s, id) => findRefs(s, 'identities', (q) => q.where('manager_id', '=', id)) },
  { type: 'managedUnit', noun: ['managed organization unit', 'managed organization units'], find: (s, id) => findRefs(s, 'org_units', (q) => q.where('manager_id', '=', id)) },
  {
    // owner_ids is a JSON array of identity ids (UUIDs: no LIKE wildcards in them).
    type: 'application',
    noun: ['owned application', 'owned applications'],
    find: (s, id) => findRefs(s, 'applications', (q) => q.where('owner_ids', 'like', `%"${id}"%`)),
  },
  { type: 'oauthClient', noun: ['OAuth client', 'OAuth clients'], find: (s, id) => findRefs(s, 'oauth_clients', (q) => q.where('identity_id', '=', id)) },
  { type: 'account', noun: ['account matched to it', 'accounts matched to it'], find: (s, id) => findRefs(s, 'accounts', (q) => q.where('identity_id', '=', id)) },
  {
    // Not yet done (awaiting approval, scheduled, running): its stages would act on an identity that is gone.
    // Cancel them first (POST /personnel-events/{id}/cancel); done ones are history and do not block.
    type: 'personnelEvent',
    noun: ['open personnel event (cancel it first)', 'open personnel events (cancel them first)'],
    find: (s, id) => findRefs(s, 'personnel_events', (q) => q.where('identity_id', '=', id).where('status', 'in', ['pending_approval', 'scheduled', 'in_progress'])),
  },
  {
    type: 'accessRequest',
    noun: ['access request for it under way (cancel it first)', 'access requests for it under way (cancel them first)'],
    find: (s, id) => findRefs(s, 'access_requests', (q) => q.where('target_type', '=', 'identity').where('target_id', '=', id).where('status', 'in', UNDER_WAY_REQUEST)),
  },
  {
    type: 'requestedAccessRequest',
    noun: ['access request it made under way', 'access requests it made under way'],
    find: (s, id) => findRefs(s, 'access_requests', (q) => q.where('requester_id', '=', id).where('status', 'in', UNDER_WAY_REQUEST)),
  },
  {
    // Waiting or open approval tasks: the step would wait on someone who can no longer decide.
    // Decide them, or cancel their requests or events, first. Decided tasks are history.
    type: 'approvalTask',
    noun: ['approval task awaiting its decision', 'approval tasks awaiting its decision'],
    find: (s, id) => findRefs(s, 'approval_tasks', (q) => q.where('approver_id', '=', id).where('status', 'in', ['waiting', 'open'])),
  },
  {
    // Ids are `applicationId/accountName`: a resolution has no id of its own.
    type: 'accountResolution',
    noun: ['account resolution linking to it', 'account resolutions linking to it'],
    find: findResolutions,
  },
];

/**
 * What keeps an application from being deleted (besides its permissions being in use, which
 * the catalog checks). Finished imports, unmatched accounts and account resolutions are the
 * application's own bookkeeping and go with it (see `deleteApplicationRecords`).
 */
export const APPLICATION_DELETE_BLOCKERS: readonly DeleteBlocker[] = [
  { type: 'oauthClient', noun: ['OAuth client', 'OAuth clients'], find: (s, id) => findRefs(s, 'oauth_clients', (q) => q.where('application_id', '=', id)) },
  { type: 'applicationKey', noun: ['application key', 'application keys'], find: (s, id) => findRefs(s, 'application_keys', (q) => q.where('application_id', '=', id)) },
  { type: 'account', noun: ['account', 'accounts'], find: (s, id) => findRefs(s, 'accounts', (q) => q.where('application_id', '=', id)) },
  {
    type: 'import',
    noun: ['import in progress', 'imports in progress'],
    find: (s, id) => findRefs(s, 'imports', (q) => q.where('application_id', '=', id).where('status', 'not in', FINAL_STATUSES)),
  },
];

/**
 * Deletes what belongs to an application alone — its finished imports with their changes,
 * its unmatched accounts and its account resolutions — and says how many of each went.
 * Run after {@link APPLICATION_DELETE_BLOCKERS} found nothing in the way.
 */
export async function deleteApplicationRecords(scope: TenantDb, applicationId: string): Promise<{ imports: number; unmatchedAccounts: number; accountResolutions: number }> {
  const { db } = scope;
  const imports = db.selectFrom('imports').select('id').where('application_id', '=', applicationId);
  await db.deleteFrom('import_changes').where('import_id', 'in', imports).execute();
  const counted = async (q: { executeTakeFirst(): Promise<{ numDeletedRows: bigint }> }) => Number((await q.executeTakeFirst()).numDeletedRows);
  return {
    imports: await counted(db.deleteFrom('imports').where('application_id', '=', applicationId)),
    unmatchedAccounts: await counted(db.deleteFrom('unmatched_accounts').where('application_id', '=', applicationId)),
    accountResolutions: await counted(db.deleteFrom('account_resolutions').where('application_id', '=', applicationId)),
  };
}

export const ORG_UNIT_DELETE_BLOCKERS: readonly DeleteBlocker[] = [
  { type: 'orgUnit', noun: ['child unit', 'child units'], find: (s, id) => findRefs(s, 'org_units', (q) => q.where('parent_id', '=', id)) },
  { type: 'member', noun: ['member', 'members'], find: (s, id) => findRefs(s, 'identities', (q) => q.where('org_unit_id', '=', id)) },
  {
    type: 'assignment',
    noun: ['assignment', 'assignments'],
    find: (s, id) => findRefs(s, 'assignments', (q) => q.where('assignee_type', '=', 'orgUnit').where('assignee_id', '=', id)),
  },
  {
    type: 'assignmentContext',
    noun: ['assignment in its context', 'assignments in its context'],
    find: (s, id) => findRefs(s, 'assignments', (q) => q.where('context_type', '=', 'orgUnit').where('context_id', '=', id)),
  },
];

/** Throws `conflict` naming every blocker that still refers to `id`. */
export async function assertNotBlocked(scope: TenantDb, blockers: readonly DeleteBlocker[], label: string, id: string): Promise<void> {
  const found: Blocker[] = [];
  for (const blocker of blockers) {
    const { count, ids } = await blocker.find(scope, id);
    if (count > 0) found.push({ type: blocker.type, count, ids, description: `${count} ${blocker.noun[count === 1 ? 0 : 1]}` });
  }
  if (!found.length) return;
  throw new AppError('conflict', `${label} cannot be deleted: it still has ${found.map((b) => b.description).join(', ')}`, {
    details: { blockers: found },
  });
}
