/**
 * The server secret: HMAC key of stored credential hashes and encryption key of the
 * token-signing keys. `GRANTORY_SECRET_KEY` wins. Without it:
 *
 * - embedded SQLite: the first start generates one into `<data dir>/secret.key` (mode 0600),
 *   next to the database, and later starts read it back — `npm start` needs nothing else.
 *   Back the file up with the database; without it, API keys, application keys and client
 *   secrets no longer match and the signing keys are replaced.
 * - PostgreSQL: required. Every node must share the same secret, and keeping it in the
 *   database would put the key beside what it protects.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, type Config } from './config.ts';
import { generateSecretKey, MIN_SECRET_KEY_LENGTH, SECRET_KEY_FILE } from './domain/server-secrets.ts';

export { SECRET_KEY_FILE };

export function resolveSecretKey(config: Config): { secretKey: string; generatedFile: string | null } {
  if (config.secretKey) return { secretKey: config.secretKey, generatedFile: null };
  if (config.databaseUrl) {
    throw new ConfigError('GRANTORY_SECRET_KEY', 'is required with PostgreSQL (the same value on every node), e.g. `openssl rand -base64 32`');
  }
  const file = join(resolve(config.dataDir), SECRET_KEY_FILE);
  const read = (): string => {
    const key = readFileSync(file, 'utf8').trim();
    if (key.length < MIN_SECRET_KEY_LENGTH) throw new ConfigError('GRANTORY_SECRET_KEY', `${file} holds no valid secret key (32+ characters)`);
    return key;
  };
  try {
    return { secretKey: read(), generatedFile: null };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError('GRANTORY_SECRET_KEY', `cannot read ${file}: ${(e as Error).message}`);
    }
  }
  try {
    writeFileSync(file, `${generateSecretKey()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    // Another process created it first: use theirs.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigError('GRANTORY_SECRET_KEY', `cannot write ${file}: ${(e as Error).message}`);
    return { secretKey: read(), generatedFile: null };
  }
  return { secretKey: read(), generatedFile: file };
}
