/**
 * The layer rules of .dependency-cruiser.cjs (run by `npm run lint`) refuse what they say they
 * refuse: a small tree with one violation of each kind is cruised with the project's rules.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cruise, type ICruiseResult, type IReporterOutput } from 'dependency-cruiser';

const require = createRequire(import.meta.url);
const ruleSet = require('../../.dependency-cruiser.cjs') as { forbidden: unknown[] };

const root = mkdtempSync(join(tmpdir(), 'grantory-layers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tree(files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

async function violations(): Promise<string[]> {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const out: IReporterOutput = await cruise(['src'], { ruleSet: { forbidden: ruleSet.forbidden } as never, validate: true, tsPreCompilationDeps: true }, { extensions: ['.ts'] });
    const result = out.output as ICruiseResult;
    return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
  } finally {
    process.chdir(cwd);
  }
}

describe('layer rules', () => {
  it('refuse an upward import, a reach into another folder, and a circle; allow the public faces', async () => {
    tree({
      'src/domain/rule.ts': "import { findThing } from '../services/things/index.ts';\nexport const rule = findThing;\n",
      'src/store/store.ts': 'export const store = 1;\n',
      'src/services/deps.ts': "export type Deps = { n: number };\n",
      'src/services/things/index.ts': "export { findThing } from './find.ts';\n",
      'src/services/things/find.ts': "import { store } from '../../store/store.ts';\nexport const findThing = () => store;\n",
      'src/services/others/index.ts': "export { other } from './other.ts';\n",
      'src/services/others/other.ts': "import { findThing } from '../things/find.ts';\nimport { loop } from './loop.ts';\nexport const other = () => findThing() + loop;\n",
      'src/services/others/loop.ts': "import { other } from './other.ts';\nexport const loop = typeof other;\n",
      'src/api/route.ts': "import { other } from '../services/others/index.ts';\nimport { findThing } from '../services/things/find.ts';\nexport const route = [other, findThing];\n",
    });
    expect(await violations()).toEqual([
      'domain-imports-only-below: src/domain/rule.ts -> src/services/things/index.ts',
      'no-circular: src/services/others/loop.ts -> src/services/others/other.ts',
      'services-cross-domain-internals: src/services/others/other.ts -> src/services/things/find.ts',
      'services-domain-internals: src/api/route.ts -> src/services/things/find.ts',
    ]);
  });
});
