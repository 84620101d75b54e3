/** Who an organization-unit request reaches: the members of the unit and of its descendants. */
import { sql } from 'kysely';
import type { TenantDb } from '../../store/store.ts';

/** Identities of the unit and of its descendants. */
export async function unitMemberIds(scope: TenantDb, path: string): Promise<string[]> {
  const rows = await scope.db
    .selectFrom('identities')
    .innerJoin('org_units', 'org_units.id', 'identities.org_unit_id')
    .select('identities.id')
    .where((eb) => eb.or([eb('org_units.path', '=', path), eb(sql<string>`substr(org_units.path, 1, ${[...path].length + 1})`, '=', `${path}/`)]))
    .execute();
  return rows.map((r) => r.id);
}
