/**
 * The members of a tenant (its identities), for directory exports such as the Celonis
 * Team API. Internal members — Grantory's own service identities (`type: service`) — are
 * left out unless asked for.
 */
import { requireRight, type Actor } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';

export interface MemberView {
  id: string;
  number: number;
  subject: string;
  username: string | null;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  displayName: string | null;
  type: string;
  status: string;
  internal: boolean;
}

const PAGE = 500;

export async function* streamMembers(deps: ServiceDeps, actor: Actor, input: { includeInternal: boolean }): AsyncGenerator<MemberView> {
  requireRight(actor, 'manage-users', 'read-permissions-any-application');
  const { db } = deps.store.read(actor.caller.tenantId);
  let after = '';
  for (;;) {
    let query = db.selectFrom('identities').selectAll().where('id', '>', after);
    if (!input.includeInternal) query = query.where('type', '<>', 'service');
    const rows = await query.orderBy('id').limit(PAGE).execute();
    for (const r of rows) {
      yield {
        id: r.id,
        number: Number(r.number),
        subject: r.subject,
        username: r.username,
        email: r.email,
        firstName: r.first_name,
        lastName: r.last_name,
        displayName: r.display_name,
        type: r.type,
        status: r.status,
        internal: r.type === 'service',
      };
    }
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.id;
  }
}
