/**
 * Seeds a demo tenant through the ordinary services (so every row is validated, audited
 * and in the change feed exactly as if an administrator had typed it). The work is a list
 * of steps, run in order, sharing one context; each later part of the demo (applications,
 * permissions, roles, assignments...) adds its step to {@link DEMO_SEED_STEPS}.
 *
 * ```ts
 * const report = await seedDemoTenant(services.deps, systemActor(tenantId, 'demo'), { seed: 42, identities: 300 });
 * ```
 */
import { AppError } from '../domain/errors.ts';
import { seedAccountImportStep } from './accounts.ts';
import { seedCatalogStep } from './catalog.ts';
import type { SeedContext, SeedStep } from './steps.ts';

export type { SeedContext, SeedStep } from './steps.ts';
import type { Actor } from '../services/kernel/index.ts';
import { createIdentity, createOrgUnit, findOrgUnitByExternalId } from '../services/directory/index.ts';
import type { ServiceDeps } from '../services/deps.ts';
import { DEFAULT_DEMO_IDENTITIES, DEFAULT_DEMO_SEED, generateDirectory, seededRandom, type DirectoryOptions } from './generator.ts';

/** The externalId of the demo company unit: its presence marks a seeded tenant. */
export const DEMO_MARKER = 'demo:company';

export const seedDirectoryStep: SeedStep = {
  name: 'directory',
  async run(ctx) {
    for (const unit of ctx.directory.units) {
      const parentId = unit.parentKey ? ctx.ids.get(unit.parentKey)! : null;
      const { unit: created } = await createOrgUnit(ctx.deps, ctx.actor, { name: unit.name, parentId, externalId: unit.key });
      ctx.ids.set(unit.key, created.id);
    }
    const total = ctx.directory.identities.length;
    for (const [i, p] of ctx.directory.identities.entries()) {
      if (i > 0 && i % ctx.progressEvery === 0) ctx.progress(`identities: ${i} of ${total}`);
      const { identity } = await createIdentity(ctx.deps, ctx.actor, {
        subject: p.subject,
        username: p.username,
        email: p.email,
        firstName: p.firstName,
        lastName: p.lastName,
        displayName: p.displayName,
        employeeNumber: p.employeeNumber,
        type: p.type,
        status: p.status,
        managerId: p.managerKey ? ctx.ids.get(p.managerKey)! : null,
        orgUnitId: ctx.ids.get(p.unitKey)!,
        attributes: p.attributes,
      });
      ctx.ids.set(p.key, identity.id);
    }
    ctx.report.push(`${ctx.directory.units.length} organization units, ${ctx.directory.identities.length} identities`);
  },
};

/**
 * The steps, in order: the directory, the catalog (applications, permissions, roles,
 * assignments) and an account import of a connected application (matched, orphaned and
 * drifting accounts). A later step uses `ctx.random` and `ctx.ids` (plan keys → ids).
 */
export const DEMO_SEED_STEPS: readonly SeedStep[] = [seedDirectoryStep, seedCatalogStep, seedAccountImportStep];

export interface SeedOptions extends Partial<DirectoryOptions> {
  steps?: readonly SeedStep[];
  /** Told how far a long step has come (e.g. written to stderr by `grantory demo`). */
  progress?: (line: string) => void;
  /** How many items between two progress lines (default 1000). */
  progressEvery?: number;
}

/**
 * Seeds the caller's tenant unless it is already seeded (returns null then). Refuses a
 * tenant that holds other data: the demo never mixes with real records.
 */
export async function seedDemoTenant(deps: ServiceDeps, actor: Actor, options: SeedOptions = {}): Promise<string[] | null> {
  const scope = deps.store.read(actor.caller.tenantId);
  if (await findOrgUnitByExternalId(scope, DEMO_MARKER)) return null;
  const existing = await scope.db
    .selectFrom('org_units')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirst();
  if (Number(existing?.n ?? 0) > 0) {
    throw new AppError('conflict', 'this tenant already has organization units; the demo seeds only an empty tenant');
  }
  const directoryOptions: DirectoryOptions = {
    seed: options.seed ?? DEFAULT_DEMO_SEED,
    identities: options.identities ?? DEFAULT_DEMO_IDENTITIES,
    ...(options.company ? { company: options.company } : {}),
    ...(options.domain ? { domain: options.domain } : {}),
  };
  const ctx: SeedContext = {
    deps,
    actor,
    options: directoryOptions,
    random: seededRandom(directoryOptions.seed ^ 0x5eed),
    directory: generateDirectory(directoryOptions),
    ids: new Map(),
    report: [],
    progress: options.progress ?? (() => undefined),
    progressEvery: Math.max(1, options.progressEvery ?? 1000),
  };
  for (const step of options.steps ?? DEMO_SEED_STEPS) await step.run(ctx);
  return ctx.report;
}
