/**
 * The settings that also have a command-line flag. A flag wins over its environment
 * variable; both end up in loadConfig (src/config.ts), which checks them. Each command
 * declares only the flags it uses, so `--help` lists them and an unknown flag is an error.
 *
 * ```ts
 * withSettings(program.command('migrate'), ['dataDir', 'databaseUrl']).action((opts) => run(settingsOf(opts)));
 * ```
 */
import { Option, type Command } from 'commander';
import { LOG_FORMATS, LOG_LEVELS } from '../config.ts';

interface SettingFlag {
  flags: string;
  setting: string;
  description: string;
  choices?: readonly string[];
}

export const SETTING_FLAGS = {
  port: { flags: '--port <port>', setting: 'GRANTORY_PORT', description: 'TCP port; 0 picks a free one (GRANTORY_PORT, default 8080)' },
  host: { flags: '--host <address>', setting: 'GRANTORY_HOST', description: 'address to listen on (GRANTORY_HOST, default 0.0.0.0)' },
  dataDir: { flags: '--data-dir <dir>', setting: 'GRANTORY_DATA_DIR', description: 'directory of the embedded SQLite database (GRANTORY_DATA_DIR, default ./data)' },
  databaseUrl: { flags: '--database-url <url>', setting: 'DATABASE_URL', description: 'postgres:// URL: use PostgreSQL instead of SQLite (DATABASE_URL)' },
  logLevel: { flags: '--log-level <level>', setting: 'GRANTORY_LOG_LEVEL', description: 'log level (GRANTORY_LOG_LEVEL, default info)', choices: LOG_LEVELS },
  logFormat: { flags: '--log-format <format>', setting: 'GRANTORY_LOG_FORMAT', description: 'log lines for people or for machines (GRANTORY_LOG_FORMAT, default pretty on a terminal, else json)', choices: LOG_FORMATS },
  bodyLimit: { flags: '--body-limit <bytes>', setting: 'GRANTORY_BODY_LIMIT', description: 'largest request body in bytes (GRANTORY_BODY_LIMIT, default 1048576)' },
  workers: { flags: '--workers <count>', setting: 'GRANTORY_WORKERS', description: 'server processes sharing the port (GRANTORY_WORKERS, default the cores, at most 8)' },
  importDir: { flags: '--import-dir <dir>', setting: 'GRANTORY_IMPORT_DIR', description: 'where import files are staged (GRANTORY_IMPORT_DIR, default <data dir>/imports)' },
} satisfies Record<string, SettingFlag>;

export type SettingName = keyof typeof SETTING_FLAGS;

/** What `demo` takes: every setting flag but the worker count (the demo serves in one process). */
export const SERVER_SETTINGS = (Object.keys(SETTING_FLAGS) as SettingName[]).filter((name) => name !== 'workers');
/** What `serve` takes. */
export const SERVE_SETTINGS: SettingName[] = [...SERVER_SETTINGS, 'workers'];
/** What the commands that only open the store take. */
export const STORE_SETTINGS: SettingName[] = ['dataDir', 'databaseUrl'];

/**
 * Declares the flags of the named settings on a command; `defaults` names the defaults that
 * differ for this command (`demo` serves ./data-demo on 127.0.0.1), so its help says them.
 */
export function withSettings(command: Command, names: readonly SettingName[], defaults: Partial<Record<SettingName, string>> = {}): Command {
  for (const name of names) {
    const flag: SettingFlag = SETTING_FLAGS[name];
    const own = defaults[name];
    const description = own === undefined ? flag.description : flag.description.replace(/default [^)]*\)$/, `default ${own})`);
    const option = new Option(flag.flags, description);
    if (flag.choices) option.choices(flag.choices);
    command.addOption(option);
  }
  return command;
}

/** The parsed flags of a command as setting names (for loadConfig). */
export function settingsOf(options: Record<string, unknown>): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [name, flag] of Object.entries(SETTING_FLAGS)) {
    const value = options[name];
    if (typeof value === 'string') settings[flag.setting] = value;
  }
  return settings;
}
