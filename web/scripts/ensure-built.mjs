// `npm start` runs this first: builds the console when web/dist is missing (a checkout that
// skipped `npm ci`'s prepare step, or a deleted build), so one command serves a working console.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const index = fileURLToPath(new URL('../dist/index.html', import.meta.url));
if (!existsSync(index)) {
  console.error('grantory: building the web console (web/dist is missing)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', 'build:web'], { stdio: 'inherit', cwd: fileURLToPath(new URL('../..', import.meta.url)) });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
