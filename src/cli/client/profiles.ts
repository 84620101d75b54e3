/**
 * Connection profiles of the client commands: `grantory login` writes them to config.json in
 * the user's configuration directory (file mode 0600, directory 0700), and every client command
 * reads them. Where a command connects, first found wins:
 *   --url / --api-key flags, then GRANTORY_URL / GRANTORY_API_KEY (or GRANTORY_CLIENT_ID /
 *   GRANTORY_CLIENT_SECRET), then the profile named by --profile or GRANTORY_PROFILE, else the
 *   default profile.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliFailure, EXIT } from './exit-codes.ts';

export interface Profile {
  url: string;
  apiKey?: string;
  clientId?: string;
  clientSecret?: string;
}

export interface ConfigFile {
  defaultProfile?: string;
  profiles: Record<string, Profile>;
}

export const DEFAULT_PROFILE = 'default';

/** GRANTORY_CONFIG_DIR, else $XDG_CONFIG_HOME/grantory, else %APPDATA%\grantory on Windows, else ~/.config/grantory. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GRANTORY_CONFIG_DIR) return env.GRANTORY_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'grantory');
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'grantory');
  return join(homedir(), '.config', 'grantory');
}

export const configPath = (env: NodeJS.ProcessEnv = process.env) => join(configDir(env), 'config.json');

export function readConfig(env: NodeJS.ProcessEnv = process.env): ConfigFile {
  const path = configPath(env);
  if (!existsSync(path)) return { profiles: {} };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<ConfigFile>;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.profiles !== 'object' || parsed.profiles === null) throw new Error('it has no "profiles" object');
    return { defaultProfile: parsed.defaultProfile, profiles: parsed.profiles };
  } catch (e) {
    throw new CliFailure(`cannot read ${path}: ${(e as Error).message}`, EXIT.usage, ['fix or remove the file, then run `grantory login` again']);
  }
}

/** Writes the file readable by its owner only (written next to it, then renamed over it). */
export function writeConfig(config: ConfigFile, env: NodeJS.ProcessEnv = process.env): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = configPath(env);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  return path;
}

export interface ConnectionFlags {
  url?: string;
  apiKey?: string;
  profile?: string;
}

export interface Connection {
  url: string;
  credential: { apiKey: string } | { clientId: string; clientSecret: string };
  /** Where the connection came from, for messages. */
  source: string;
}

const trimUrl = (url: string) => url.replace(/\/+$/, '');

function checkUrl(url: string, source: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliFailure(`${source}: "${url}" is not a URL (e.g. https://grantory.example.com)`, EXIT.usage);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new CliFailure(`${source}: "${url}" is not an http(s) URL`, EXIT.usage);
  return trimUrl(url);
}

/** The server and credential a client command uses. */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  const profileName = flags.profile ?? env.GRANTORY_PROFILE;
  const needsFile = profileName !== undefined || !(flags.url ?? env.GRANTORY_URL) || !(flags.apiKey ?? env.GRANTORY_API_KEY ?? env.GRANTORY_CLIENT_ID);
  const config = needsFile ? readConfig(env) : { profiles: {} as Record<string, Profile> };
  const name = profileName ?? config.defaultProfile ?? DEFAULT_PROFILE;
  const profile: Profile | undefined = config.profiles[name];
  if (profileName !== undefined && !profile) {
    const known = Object.keys(config.profiles);
    throw new CliFailure(`no profile "${profileName}" in ${configPath(env)}`, EXIT.usage, [known.length ? `profiles: ${known.join(', ')}` : 'create one with `grantory login --url URL --api-key KEY --profile NAME`']);
  }
  const url = flags.url ?? env.GRANTORY_URL ?? profile?.url;
  const source = flags.url ? '--url' : env.GRANTORY_URL ? 'GRANTORY_URL' : `profile "${name}"`;
  if (!url) throw new CliFailure('no server to talk to', EXIT.usage, ['run `grantory login --url URL --api-key KEY`, or set GRANTORY_URL and GRANTORY_API_KEY, or pass --url and --api-key']);
  const apiKey = flags.apiKey ?? env.GRANTORY_API_KEY;
  if (apiKey) return { url: checkUrl(url, source), credential: { apiKey }, source };
  if (env.GRANTORY_CLIENT_ID && env.GRANTORY_CLIENT_SECRET) return { url: checkUrl(url, source), credential: { clientId: env.GRANTORY_CLIENT_ID, clientSecret: env.GRANTORY_CLIENT_SECRET }, source };
  if (profile?.apiKey) return { url: checkUrl(url, source), credential: { apiKey: profile.apiKey }, source };
  if (profile?.clientId && profile.clientSecret) return { url: checkUrl(url, source), credential: { clientId: profile.clientId, clientSecret: profile.clientSecret }, source };
  throw new CliFailure(`no credential for ${url}`, EXIT.usage, ['pass --api-key, set GRANTORY_API_KEY (or GRANTORY_CLIENT_ID and GRANTORY_CLIENT_SECRET), or run `grantory login`']);
}
