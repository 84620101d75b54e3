/** `grantory demo`: the server on a seeded demo tenant in ./data-demo. */
import { InvalidArgumentError, type Command } from 'commander';
import type { CommandContext } from '../io.ts';
import { SERVER_SETTINGS, settingsOf, withSettings } from '../settings.ts';

/** A parser for a whole-number flag up to `max`. */
const wholeNumber = (max: number) => (text: string): number => {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > max) throw new InvalidArgumentError(`needs a whole number up to ${max}`);
  return value;
};

export function registerDemoCommand(program: Command, { io, finish }: CommandContext): void {
  withSettings(
    program
      .command('demo')
      .description('start the server on a seeded demo tenant (in ./data-demo on 127.0.0.1 unless --data-dir / --host say otherwise; seeded on the first start)')
      .option('--seed <n>', 'seed of the generated data', wholeNumber(2 ** 31))
      .option('--identities <n>', 'how many identities to generate (default 300)', wholeNumber(100_000)),
    SERVER_SETTINGS,
    { dataDir: './data-demo', host: '127.0.0.1' },
  ).action(async (options: Record<string, unknown> & { seed?: number; identities?: number }) => {
    const { demo } = await import('../../demo/command.ts');
    finish(await demo(settingsOf(options), { seed: options.seed, identities: options.identities }, io));
  });
}
