/**
 * The directory hooks that keep assignment rules (birthright access) current: an identity
 * that is created or changed is re-evaluated against every rule, and a unit that moves in
 * the tree re-evaluates every rule (unit-subtree conditions may now match other people).
 * They run inside the directory write, so the rule assignments commit with the change.
 */
import { reevaluateRule, reevaluateRulesForIdentity } from './assignment-rules.ts';
import type { DirectoryHooks } from '../deps.ts';

export const RULE_DIRECTORY_HOOKS: DirectoryHooks = {
  afterIdentityChange: [
    async (tx, { after }) => {
      if (after) await reevaluateRulesForIdentity(tx, after.id);
    },
  ],
  afterOrgUnitChange: [
    async (tx, { before, after }) => {
      if (!before || !after || before.parentId === after.parentId) return;
      const rules = await tx.db.selectFrom('assignment_rules').selectAll().where('enabled', '=', 1).execute();
      for (const rule of rules) await reevaluateRule(tx, rule);
    },
  ],
};
