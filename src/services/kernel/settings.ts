/**
 * The tenant's settings (src/domain/settings.ts): read by workflows inside their writes, shown
 * to any caller of the tenant, changed by holders of manage-system-settings (audited).
 *
 * ```ts
 * const { timeZone } = await tenantSettings(deps.store.read(tenantId));
 * ```
 */
import { mergeSettings, parseSettings, type SettingsPatch, type TenantSettings } from '../../domain/settings.ts';
import type { TenantDb } from '../../store/store.ts';
import type { ServiceDeps } from '../deps.ts';
import { requireRight, type Actor } from './actor.ts';
import { writeAs } from './rights-guard.ts';

/** The settings of the handle's tenant (inside a write: as that write sees them). */
export async function tenantSettings(scope: TenantDb): Promise<TenantSettings> {
  // `tenants` has no tenant_id: the handle's scope does not apply, so the filter is by id.
  const row = await scope.db.selectFrom('tenants').select('settings').where('id', '=', scope.tenantId).executeTakeFirstOrThrow();
  return parseSettings(row.settings);
}

export async function getSettings(deps: ServiceDeps, actor: Actor): Promise<TenantSettings> {
  return tenantSettings(deps.store.read(actor.caller.tenantId));
}

export async function updateSettings(deps: ServiceDeps, actor: Actor, patch: SettingsPatch): Promise<{ settings: TenantSettings; revision: number }> {
  requireRight(actor, 'manage-system-settings');
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const before = await tenantSettings(tx);
    const after = mergeSettings(before, patch);
    await tx.db.updateTable('tenants').set({ settings: JSON.stringify(after) }).where('id', '=', tx.tenantId).execute();
    tx.audit({ action: 'settings.update', targetType: 'tenant', targetId: tx.tenantId, before, after });
    return after;
  });
  return { settings: value, revision };
}
