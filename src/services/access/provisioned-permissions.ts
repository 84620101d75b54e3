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

export async function provisionedPermissions(deps: ServiceDeps, actor: Actor, mode: 'any' | 'mine', q: ProvisionedQuery): Promise<ProvisionedRow[]> {
  if (mode === 'any') requireRight(actor, 'read-permissions-any-application');
  else requireRight(actor, 'read-permissions-my-application');
  const byContext = q.contextType !== undefined || q.contextObjectIdentifier !== undefined;
  if (byContext && (!q.contextType || !q.contextObjectIdentifier)) {
    throw new AppError('validation_failed', 'contextType and contextObjectIdentifier go together', {
      errors: [{ field: q.contextType ? 'contextObjectIdentifier' : 'contextType', message: 'is required' }],
    });
  }
  const engine = engineOf(deps);
  const { index } = await engine.at(actor.caller.tenantId, q.minRevision);
  const now = engine.now();

  let app = NONE;
  if (mode === 'mine') {
    if (!actor.caller.applicationId) throw new AppError('forbidden', 'this credential is not bound to an application; /myapplication needs a client of an application');
    app = findApplicationByName(index, actor.caller.applicationId);
    if (app === NONE) return [];
  } else if (q.application !== undefined && q.application !== '') {
    app = findApplicationByName(index, q.application);
    if (app === NONE) return [];
  }
  const withEmail = actor.caller.scopes === null || hasScope(actor.caller.scopes, 'email');
  // By context, the identifier comes back as the caller sent it (an external id stays one).
  const echoed = byContext ? q.contextObjectIdentifier! : null;

  const rows: ProvisionedRow[] = [];
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

  if (byContext) {
    if (q.contextType === 'User') {
      const target = findUser(index, q.contextObjectIdentifier!);
      if (target === NONE) return [];
      for (const h of holdersInContext(index, 'identity', index.identities.get(target).id, now, 'provisioned')) emit(h.identity, h.permission, h.via);
    } else {
      const target = findUnit(index, q.contextObjectIdentifier!);
      if (target === NONE) return [];
      for (const h of holdersInContext(index, 'orgUnit', index.units.get(target).id, now, 'provisioned')) emit(h.identity, h.permission, h.via);
    }
  } else if (q.userSubject) {
    const holder = index.identitySlotByKey(q.userSubject);
    if (holder === NONE) return [];
    for (const [permission, vias] of heldSlots(index, holder, now, 'provisioned', app)) for (const v of vias) emit(holder, permission, v);
  } else {
    // No parameters: every provisioned right of the application(s) the caller may read.
    const identities = index.identities.nodes;
    for (let holder = 0; holder < identities.length; holder += 1) {
      if (!identities[holder]!.exists) continue;
      for (const [permission, vias] of heldSlots(index, holder, now, 'provisioned', app)) for (const v of vias) emit(holder, permission, v);
    }
  }
  rows.sort((a, b) => a.userId - b.userId || (a.application < b.application ? -1 : a.application > b.application ? 1 : 0) || (a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
  return rows;
}
