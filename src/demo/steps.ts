/** What a step of the demo seed is given and what it is. */
import type { Actor } from '../services/kernel/index.ts';
import type { ServiceDeps } from '../services/deps.ts';
import type { DirectoryOptions, DirectoryPlan } from './generator.ts';

export interface SeedContext {
  deps: ServiceDeps;
  actor: Actor;
  options: DirectoryOptions;
  /** The seeded random source shared by the steps (keep step order stable for reproducibility). */
  random: () => number;
  directory: DirectoryPlan;
  /** Plan key → id of what the steps created (units, identities; later applications, roles...). */
  ids: Map<string, string>;
  /** One line per step for the operator. */
  report: string[];
  /** Progress of a long step, for the operator while it runs (every `progressEvery` items). */
  progress: (line: string) => void;
  progressEvery: number;
}

export interface SeedStep {
  name: string;
  run(ctx: SeedContext): Promise<void>;
}
