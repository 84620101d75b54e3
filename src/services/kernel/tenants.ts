/**
 * The tenants of the store, for the edges that act on every tenant or on one by name (the
 * CLI, jobs): a tenant is named by its id and name; which tenant a request acts in comes
 * from its credential, never from here.
 *
 * ```ts
 * for (const tenant of await listTenants(deps)) await createCheckpoint(deps, systemActor(tenant.id, 'grantory audit checkpoint'));
 * ```
 */
import type { ServiceDeps } from '../deps.ts';

export interface TenantRef {
  id: string;
  name: string;
}

/** Every tenant, in the store's order. */
export async function listTenants(deps: Pick<ServiceDeps, 'store'>): Promise<TenantRef[]> {
  return (await deps.store.listTenants()).map(({ id, name }) => ({ id, name }));
}

/** The tenant of this name, or undefined. */
export async function findTenantByName(deps: Pick<ServiceDeps, 'store'>, name: string): Promise<TenantRef | undefined> {
  const tenant = await deps.store.findTenantByName(name);
  return tenant && { id: tenant.id, name: tenant.name };
}
