import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_ADMIN_KEY } from '../../src/demo/command.ts';

const dir = mkdtempSync(join(tmpdir(), 'grantory-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `grantory demo` and resolves with its URL once it listens. */
function startDemo(): Promise<{ url: string; stop: () => Promise<number | null>; stderr: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, GRANTORY_PORT: '0', GRANTORY_LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.GRANTORY_BOOTSTRAP_ADMIN_KEY;
  delete env.GRANTORY_HOST;
  const child = spawn(process.execPath, ['bin/grantory.js', 'demo', '--identities', '30', '--seed', '5', '--data-dir', dir], { env });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) {
        resolve({
          url: match[1]!,
          stderr: () => err,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`demo exited (${code}) before listening: ${err}`)));
  });
}

describe('grantory demo', () => {
  it('starts on 127.0.0.1 with a seeded tenant, reuses it on the next start, and stops on SIGTERM', async () => {
    const first = await startDemo();
    const headers = { authorization: `Bearer ${DEMO_ADMIN_KEY}` };
    const res = await fetch(`${first.url}/api/v1/identities?limit=500`, { headers });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { subject: string }[] };
    expect(body.items).toHaveLength(31); // 30 demo identities and the administrator
    expect(first.stderr()).toMatch(/seeded the demo tenant \(seed 5\)/);
    expect(await first.stop()).toBe(0);

    const second = await startDemo();
    expect(second.stderr()).toMatch(/already seeded/);
    const again = await fetch(`${second.url}/api/v1/identities?limit=500`, { headers });
    expect(((await again.json()) as { items: unknown[] }).items).toHaveLength(31);
    expect(await second.stop()).toBe(0);
  }, 180_000);
});
