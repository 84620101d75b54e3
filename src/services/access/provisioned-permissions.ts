/**
 * Provisioned permissions by context or by holder — the use case behind the CoreOne
 * profile's `/api/permission` (any application) and `/api/permission/myapplication` (the
 * calling client's application). Reads the provisioned (IdP) space only: a paused
 * assignment is not provisioned and does not appear.
 *
 * - `context` = a user or an organization unit: the rights held *in that context*
 *   (assignments or grants made in exactly that context).
 * - `userSubject`: the rights *of that holder*, in every context.
 * - neither: every provisioned right of the application(s) the caller may read, as the
 *   vendor answers a query without parameters.
 *
 * Identifiers: a user is found by its integer `number`, id, subject, username or e-mail
 * address (case-insensitive, when exactly one identity has it); a unit by its `number`, id
 * or external id (an e-mail address or UID kept as the external id is matched
 * case-insensitively too). By context, rows echo `contextObjectIdentifier` exactly as the
 * caller sent it; otherwise it is the unit's external id (its number when it has none) or
 * the user's number. `userId` is the holder's `number`. Grants in an application-object
 * context have no CoreOne context type and are left out.
 *
 * `application` (and an application-bound caller's application) is matched by id, then by
 * exact name, then by name ignoring case when exactly one application has it.
 *
 * Paging (the vendor documents none, so every answer stays a plain array): rows come in a
 * total order (userId, application, role, contextType, contextObjectIdentifier), at most
 * `pageSize` (default and maximum {@link MAX_PROVISIONED_PAGE}) at a time; `nextPageToken`
 * continues after the last row of the page and is null on the last page. Without
 * parameters the holders are walked in `userId` order and the walk stops once the page is
 * full, so no answer holds (or builds) the whole tenant.
 */
import { AppError } from '../../domain/errors.ts';
import { NONE } from '../../engine/nodes.ts';
import { heldSlots, holdersInContext, type HeldVia } from '../../engine/queries.ts';
import type { TenantIndex } from '../../engine/tenant-index.ts';
import { requireRight, type Actor } from '../kernel/index.ts';
import { hasScope } from '../../domain/scopes.ts';
import { engineOf } from './common.ts';
import { findApplication } from './queries.ts';
import type { ServiceDeps } from '../deps.ts';

export interface ProvisionedQuery {
  contextType?: 'User' | 'OrganizationUnit' | undefined;
  contextObjectIdentifier?: string | undefined;
  application?: string | undefined;
  userSubject?: string | undefined;
  minRevision?: number | undefined;
  /** Rows per page, 1 to {@link MAX_PROVISIONED_PAGE} (the default). */
  pageSize?: number | undefined;
  /** The `nextPageToken` of the previous page. */
  pageToken?: string | undefined;
}

/** The largest (and the default) number of rows in one answer. */
export const MAX_PROVISIONED_PAGE = 1000;

export interface ProvisionedPage {
  rows: ProvisionedRow[];
  /** Continues after the last row; null on the last page. */
  nextPageToken: string | null;
}

export interface ProvisionedRow {
  username: string | null;
  userId: number;
  userEmail?: string | null;
  role: string;
  application: string;
  contextType: 'OrganizationUnit' | 'User' | 'All';
  contextObjectIdentifier: string | null;
}

/** The one slot whose key equals `ref` ignoring case; NONE when none or several do. */
function onlyIgnoringCase<N extends { exists: boolean }>(nodes: readonly N[], keyOf: (n: N) => string | null, ref: string): number {
  const wanted = ref.toLowerCase();
  let found = NONE;
  for (let i = 0; i < nodes.length; i += 1) {
    const node = nodes[i]!;
    if (!node.exists || keyOf(node)?.toLowerCase() !== wanted) continue;
    if (found !== NONE) return NONE;
    found = i;
  }
  return found;
}

const looksLikeEmail = (ref: string): boolean => ref.includes('@');

function findUser(index: TenantIndex, ref: string): number {
  if (/^\d{1,15}$/.test(ref)) {
    const byNumber = index.identityByNumber.get(Number(ref));
    if (byNumber !== undefined) return byNumber;
  }
  const byId = index.identities.find(ref);
  if (byId !== NONE && index.identities.get(byId).exists) return byId;
  const byKey = index.identitySlotByKey(ref);
  if (byKey !== NONE || !looksLikeEmail(ref)) return byKey;
  return onlyIgnoringCase(index.identities.nodes, (n) => n.email, ref);
}

function findUnit(index: TenantIndex, ref: string): number {
  if (/^\d{1,15}$/.test(ref)) {
    const byNumber = index.unitByNumber.get(Number(ref));
    if (byNumber !== undefined) return byNumber;
  }
  const byId = index.units.find(ref);
  if (byId !== NONE && index.units.get(byId).exists) return byId;
  const byExternalId = index.unitByExternalId.get(ref);
  if (byExternalId !== undefined || !looksLikeEmail(ref)) return byExternalId ?? NONE;
  return onlyIgnoringCase(index.units.nodes, (n) => n.externalId, ref);
}

/** The CoreOne application matching rule (see the file comment). */
export function findApplicationByName(index: TenantIndex, ref: string): number {
  const exact = findApplication(index, ref);
  if (exact !== NONE) return exact;
  return onlyIgnoringCase(index.apps.nodes, (n) => n.name, ref);
}

type RowKey = [userId: number, application: string, role: string, contextType: string, contextObjectIdentifier: string];

const keyOf = (r: ProvisionedRow): RowKey => [r.userId, r.application, r.role, r.contextType, r.contextObjectIdentifier ?? ''];

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function compareKeys(a: RowKey, b: RowKey): number {
  return a[0] - b[0] || compareText(a[1], b[1]) || compareText(a[2], b[2]) || compareText(a[3], b[3]) || compareText(a[4], b[4]);
}

function encodePageToken(key: RowKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

function decodePageToken(token: string | undefined): RowKey | null {
  if (token === undefined || token === '') return null;
  const invalid = () => new AppError('invalid_cursor', 'pageToken is not a token this list issued', { errors: [{ field: 'pageToken', message: 'is not valid' }] });
  if (token.length > 2000) throw invalid();
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(key) || key.length !== 5 || !Number.isSafeInteger(key[0]) || !key.slice(1).every((v) => typeof v === 'string')) throw invalid();
  if (encodePageToken(key as RowKey) !== token) throw invalid();
  return key as RowKey;
}

function pageSizeOf(value: number | undefined): number {
  if (value === undefined) return MAX_PROVISIONED_PAGE;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PROVISIONED_PAGE) {
    throw new AppError('validation_failed', `pageSize must be an integer from 1 to ${MAX_PROVISIONED_PAGE}`, { errors: [{ field: 'pageSize', message: `must be from 1 to ${MAX_PROVISIONED_PAGE}` }] });
  }
  return value;
}

export async function provisionedPermissions(deps: ServiceDeps, actor: Actor, mode: 'any' | 'mine', q: ProvisionedQuery): Promise<ProvisionedPage> {
  if (mode === 'any') requireRight(actor, 'read-permissions-any-application');
  else requireRight(actor, 'read-permissions-my-application');
  const byContext = q.contextType !== undefined || q.contextObjectIdentifier !== undefined;
  if (byContext && (!q.contextType || !q.contextObjectIdentifier)) {
    throw new AppError('validation_failed', 'contextType and contextObjectIdentifier go together', {
      errors: [{ field: q.contextType ? 'contextObjectIdentifier' : 'contextType', message: 'is required' }],
    });
  }
  const pageSize = pageSizeOf(q.pageSize);
  const after = decodePageToken(q.pageToken);
  const engine = engineOf(deps);
  const { index } = await engine.at(actor.caller.tenantId, q.minRevision);
  const now = engine.now();
  const empty: ProvisionedPage = { rows: [], nextPageToken: null };

  let app = NONE;
  if (mode === 'mine') {
    if (!actor.caller.applicationId) throw new AppError('forbidden', 'this credential is not bound to an application; /myapplication needs a client of an application');
    app = findApplicationByName(index, actor.caller.applicationId);
    if (app === NONE) return empty;
  } else if (q.application !== undefined && q.application !== '') {
    app = findApplicationByName(index, q.application);
    if (app === NONE) return empty;
  }
  const withEmail = actor.caller.scopes === null || hasScope(actor.caller.scopes, 'email');
  // By context, the identifier comes back as the caller sent it (an external id stays one).
  const echoed = byContext ? q.contextObjectIdentifier! : null;

  let rows: ProvisionedRow[] = [];
  const seen = new Set<string>();
  const emit = (identity: number, permission: number, via: HeldVia) => {
    const perm = index.perms.get(permission);
    if (app !== NONE && perm.app !== app) return;
    const ctx = via.context;
    let contextType: ProvisionedRow['contextType'];
    let contextObjectIdentifier: string | null = null;
    if (ctx.type === 'all') contextType = 'All';
    else if (ctx.type === 'orgUnit') {
      contextType = 'OrganizationUnit';
      const u = index.units.find(ctx.id ?? '');
      const unit = u !== NONE && index.units.get(u).exists ? index.units.get(u) : null;
      contextObjectIdentifier = echoed ?? (unit ? (unit.externalId ?? String(unit.number)) : ctx.id);
    } else if (ctx.type === 'identity') {
      contextType = 'User';
      const i = index.identities.find(ctx.id ?? '');
      contextObjectIdentifier = echoed ?? (i !== NONE && index.identities.get(i).exists ? String(index.identities.get(i).number) : ctx.id);
    } else return;
    const key = `${identity}|${permission}|${contextType}|${contextObjectIdentifier ?? ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    const holder = index.identities.get(identity);
    const application = index.apps.get(perm.app);
    rows.push({
      username: holder.username,
      userId: holder.number,
      ...(withEmail ? { userEmail: holder.email } : {}),
      role: perm.name,
      application: application.name,
      contextType,
      contextObjectIdentifier,
    });
  };

  /** Sorts the rows gathered, drops those up to the token, and cuts the page. */
  const page = (): ProvisionedPage => {
    const sorted = rows.map((r) => ({ r, k: keyOf(r) })).sort((a, b) => compareKeys(a.k, b.k));
    const remaining = after ? sorted.filter((x) => compareKeys(x.k, after) > 0) : sorted;
    const more = remaining.length > pageSize;
    const taken = remaining.slice(0, pageSize);
    return { rows: taken.map((x) => x.r), nextPageToken: more ? encodePageToken(taken[taken.length - 1]!.k) : null };
  };

  if (byContext) {
    if (q.contextType === 'User') {
      const target = findUser(index, q.contextObjectIdentifier!);
      if (target === NONE) return empty;
      for (const h of holdersInContext(index, 'identity', index.identities.get(target).id, now, 'provisioned')) emit(h.identity, h.permission, h.via);
    } else {
      const target = findUnit(index, q.contextObjectIdentifier!);
      if (target === NONE) return empty;
      for (const h of holdersInContext(index, 'orgUnit', index.units.get(target).id, now, 'provisioned')) emit(h.identity, h.permission, h.via);
    }
    return page();
  }
  if (q.userSubject) {
    const holder = index.identitySlotByKey(q.userSubject);
    if (holder === NONE) return empty;
    for (const [permission, vias] of heldSlots(index, holder, now, 'provisioned', app)) for (const v of vias) emit(holder, permission, v);
    return page();
  }
  // No parameters: every provisioned right of the application(s) the caller may read, the
  // holders walked in userId order from the token's holder on, until the page is full (a
  // holder's rows are gathered whole, so a page may end inside one holder's rows).
  const numbers: number[] = [];
  for (const [number, slot] of index.identityByNumber) if ((after === null || number >= after[0]) && index.identities.get(slot).exists) numbers.push(number);
  numbers.sort((a, b) => a - b);
  const pageRows: ProvisionedRow[] = [];
  let more = false;
  for (const number of numbers) {
    const holder = index.identityByNumber.get(number)!;
    rows = [];
    seen.clear();
    for (const [permission, vias] of heldSlots(index, holder, now, 'provisioned', app)) for (const v of vias) emit(holder, permission, v);
    const held = page();
    pageRows.push(...held.rows);
    if (pageRows.length > pageSize || (held.nextPageToken !== null && pageRows.length >= pageSize)) {
      more = true;
      break;
    }
  }
  // Rows past the page are dropped; the next page finds them again from the token.
  if (pageRows.length > pageSize) more = true;
  const taken = pageRows.slice(0, pageSize);
  return { rows: taken, nextPageToken: more && taken.length ? encodePageToken(keyOf(taken[taken.length - 1]!)) : null };
}
