/** Whether the store can serve: reachable, and every migration applied. */
import type { ServiceDeps } from '../deps.ts';

/** Null when the store is ready, else what is wrong (for `/readyz`). */
export async function storeReadiness(deps: Pick<ServiceDeps, 'store'>, options: { checkMigrations: boolean }): Promise<string | null> {
  try {
    await deps.store.ping();
  } catch {
    return 'the store is not reachable';
  }
  if (!options.checkMigrations) return null;
  const pending = await deps.store.pendingMigrations();
  return pending.length ? `migrations not applied: ${pending.join(', ')}` : null;
}
