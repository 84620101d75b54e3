/** `grantory serve` (the default command) and `grantory migrate`. */
import type { Command } from 'commander';
import cluster from 'node:cluster';
import { type Config, loadConfig } from '../../config.ts';
import type { CommandContext, Io } from '../io.ts';
import { SERVE_SETTINGS, STORE_SETTINGS, settingsOf, withSettings } from '../settings.ts';

/** Resolves with the first of SIGTERM and SIGINT. Listen before starting: once "listening" is printed a supervisor may send SIGTERM at any moment, and a signal without a listener kills the process on the spot. */
export function stopSignal(): Promise<string> {
  return new Promise<string>((resolveSignal) => {
    process.once('SIGTERM', () => resolveSignal('SIGTERM'));
    process.once('SIGINT', () => resolveSignal('SIGINT'));
  });
}

async function serve(settings: Record<string, string>, io: Io): Promise<number> {
  const config = loadConfig(process.env, settings);
  if (config.workers > 1 && cluster.isPrimary) return servePrimary(config, io);
  const { startServer } = await import('../../server.ts');
  // A signal that arrives during startup stops the server as soon as it is up.
  const stopped = stopSignal();
  const server = await startServer(config, io);
  const signal = await stopped;
  io.err(`grantory: ${signal} received, finishing in-flight requests`);
  try {
    await server.close();
  } catch (e) {
    io.err(`grantory: shutdown failed: ${(e as Error).message}`);
    return 1;
  } finally {
    // A worker's channel to the primary would keep it alive.
    if (cluster.isWorker && process.connected) process.disconnect();
  }
  return 0;
}

/** The primary of several workers (src/cluster.ts): starts them, stops them on SIGTERM/SIGINT. */
async function servePrimary(config: Config, io: Io): Promise<number> {
  const { startPrimary } = await import('../../cluster.ts');
  const stopped = stopSignal();
  const primary = await startPrimary(config, io);
  const signal = await stopped;
  io.err(`grantory: ${signal} received, finishing in-flight requests`);
  await primary.close();
  return 0;
}

async function migrate(settings: Record<string, string>, io: Io): Promise<number> {
  const config = loadConfig(process.env, settings);
  const { migrateConfiguredStore } = await import('../../configured-store.ts');
  const applied = await migrateConfiguredStore(config);
  io.out(applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date');
  return 0;
}

export function registerServeCommands(program: Command, { io, finish }: CommandContext): void {
  withSettings(program.command('serve').description('start the server (the default command)'), SERVE_SETTINGS).action(async (options: Record<string, unknown>) =>
    finish(await serve(settingsOf(options), io)),
  );
  withSettings(program.command('migrate').description('apply pending database migrations and exit'), STORE_SETTINGS).action(async (options: Record<string, unknown>) =>
    finish(await migrate(settingsOf(options), io)),
  );
}
