/** `grantory keys rotate`. */
import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import type { CommandContext, Io } from '../io.ts';
import { STORE_SETTINGS, settingsOf, withSettings } from '../settings.ts';

async function rotateKeys(settings: Record<string, string>, io: Io): Promise<number> {
  const config = loadConfig(process.env, settings);
  const [{ openMigratedStore }, { DEFAULT_SECURITY }, { findTenantByName, systemActor }, { DEFAULT_TENANT }, { rotateSigningKey }, { resolveSecretKey }, { createServerSecrets }] = await Promise.all([
    import('../../configured-store.ts'),
    import('../../services/index.ts'),
    import('../../services/kernel/index.ts'),
    import('../../services/bootstrap.ts'),
    import('../../services/credentials/index.ts'),
    import('../../secret-key.ts'),
    import('../../domain/server-secrets.ts'),
  ]);
  const store = await openMigratedStore(config);
  try {
    const tenant = await findTenantByName({ store }, DEFAULT_TENANT);
    if (!tenant) {
      io.err('grantory: no default tenant yet; start the server once first');
      return 2;
    }
    const deps = { store, now: () => new Date(), secrets: createServerSecrets(resolveSecretKey(config).secretKey) };
    const { kid } = await rotateSigningKey(deps, systemActor(tenant.id, 'grantory keys rotate'), DEFAULT_SECURITY.keyRing);
    io.out(`new signing key ${kid}; earlier keys keep verifying until their tokens expire (nodes pick it up within ${DEFAULT_SECURITY.keyRing.reloadSeconds} s)`);
    return 0;
  } finally {
    await store.close();
  }
}

export function registerKeysCommands(program: Command, { io, finish }: CommandContext): void {
  const keys = program.command('keys').description('the token-signing keys');
  withSettings(keys.command('rotate').description('make a new token-signing key the active one (earlier keys keep verifying)'), STORE_SETTINGS).action(
    async (options: Record<string, unknown>) => finish(await rotateKeys(settingsOf(options), io)),
  );
}
