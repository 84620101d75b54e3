/**
 * The connector configuration of a `connected` application: where its files are, how to
 * read them, how to match accounts to identities, and when to stop and ask a person.
 * {@link ConnectorSchema} is the run-time validation, the TypeScript type and the OpenAPI
 * document; {@link normalizeConnector} adds the checks a schema cannot express (cron,
 * folder names, column references) and gives every file group a GUID id.
 *
 * ```ts
 * const { connector, errors } = normalizeConnector({
 *   type: 'file', directory: 'core-banking',
 *   fileGroups: [{ name: 'grants', pattern: 'grants*.csv', columns: { accountName: 'login', permission: 'entitlement' } }],
 *   matching: ['employeeNumber', 'email'],
 * });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CronError, parseCron } from './cron.ts';
import { AppError, type FieldError } from './errors.ts';

/** Identity keys an account can be matched on, in the order the connector lists them. */
export const MATCH_KEYS = ['employeeNumber', 'email', 'username', 'subject'] as const;
export type MatchKey = (typeof MATCH_KEYS)[number];

export const FILE_FORMATS = ['csv', 'jsonl'] as const;
export const ENCODINGS = ['utf-8', 'utf-16le', 'utf-16be', 'latin1'] as const;
export type Encoding = (typeof ENCODINGS)[number];

const Column = Type.String({ minLength: 1, maxLength: 200 });

export const ColumnMappingSchema = Type.Object(
  {
    accountName: Column,
    accountStatus: Type.Optional(Column),
    employeeNumber: Type.Optional(Column),
    email: Type.Optional(Column),
    username: Type.Optional(Column),
    subject: Type.Optional(Column),
    permission: Type.Optional(Column),
    context: Type.Optional(Column),
  },
  { additionalProperties: false, description: 'Which column (CSV header or JSON key) holds each value' },
);

export const FileGroupSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', description: 'GUID; generated when absent' })),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    pattern: Type.String({ minLength: 1, maxLength: 200, description: 'File name pattern inside the folder; * and ? only' }),
    required: Type.Optional(Type.Boolean({ default: true })),
    format: Type.Optional(Type.Union(FILE_FORMATS.map((f) => Type.Literal(f)), { default: 'csv' })),
    delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 1, default: ',' })),
    encoding: Type.Optional(Type.Union(ENCODINGS.map((e) => Type.Literal(e)), { default: 'utf-8', description: 'Used when the file has no byte-order mark' })),
    columns: ColumnMappingSchema,
  },
  { additionalProperties: false },
);

export const ConnectorSchema = Type.Object(
  {
    type: Type.Literal('file'),
    directory: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: "Folder inside GRANTORY_IMPORT_DIR; defaults to the application's id" }),
    ),
    fileGroups: Type.Array(FileGroupSchema, { minItems: 1, maxItems: 20 }),
    matching: Type.Optional(Type.Array(Type.Union(MATCH_KEYS.map((k) => Type.Literal(k))), { maxItems: 4, description: 'Ordered matching rules' })),
    unknownPermissions: Type.Optional(Type.Union([Type.Literal('create'), Type.Literal('report')], { default: 'report' })),
    disabledStatuses: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 20, description: 'accountStatus values that mean disabled (case-insensitive)' }),
    ),
    thresholds: Type.Optional(
      Type.Object(
        {
          maxRemoved: Type.Optional(Type.Integer({ minimum: 0, description: 'Most accounts or grants one import may remove' })),
          maxRemovedPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'Most accounts or grants one import may remove, in percent of the current' })),
        },
        { additionalProperties: false },
      ),
    ),
    maxBadRows: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 100, description: 'Bad rows tolerated before the import fails' })),
    schedule: Type.Optional(Type.Union([Type.String({ minLength: 9, maxLength: 200, description: 'Five-field cron, UTC' }), Type.Null()])),
  },
  { additionalProperties: false },
);

export type ConnectorInput = Static<typeof ConnectorSchema>;
export type ColumnMapping = Static<typeof ColumnMappingSchema>;

export interface FileGroup {
  id: string;
  name: string;
  pattern: string;
  required: boolean;
  format: (typeof FILE_FORMATS)[number];
  delimiter: string;
  encoding: Encoding;
  columns: ColumnMapping;
}

/** A validated connector with every default filled in. */
export interface Connector {
  type: 'file';
  directory: string | null;
  fileGroups: FileGroup[];
  matching: MatchKey[];
  unknownPermissions: 'create' | 'report';
  disabledStatuses: string[];
  thresholds: { maxRemoved: number | null; maxRemovedPercent: number | null };
  maxBadRows: number;
  schedule: string | null;
}

export const DEFAULT_DISABLED_STATUSES = ['disabled', 'inactive', 'locked', 'suspended', 'false', '0'];

/** Folder names: relative, no `..`, no leading dot, no backslashes or NULs. */
export function folderProblem(directory: string): string | null {
  if (directory.includes('\0')) return 'must not contain NUL characters';
  if (directory.startsWith('/') || directory.includes('\\') || /^[A-Za-z]:/.test(directory)) return 'must be a relative path';
  const segments = directory.split('/');
  if (segments.some((s) => s === '..')) return 'must not contain ".."';
  if (segments.some((s) => s === '' || s === '.' || s.startsWith('.'))) return 'must not contain empty or hidden segments';
  return null;
}

/** A file-name pattern: `*` and `?` wildcards, no folders. */
export function patternProblem(pattern: string): string | null {
  if (pattern.includes('/') || pattern.includes('\\') || pattern.includes('\0')) return 'must be a file name pattern without folders';
  if (pattern.startsWith('.')) return 'must not match hidden files';
  return null;
}

export function patternToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

export function normalizeConnector(input: unknown): { connector: Connector | null; errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (!Value.Check(ConnectorSchema, input)) {
    for (const e of Value.Errors(ConnectorSchema, input)) {
      errors.push({ field: `connector${e.path.replace(/\//g, '.')}`, message: e.message });
      if (errors.length >= 20) break;
    }
    return { connector: null, errors };
  }
  const c = input;
  if (c.directory !== undefined) {
    const problem = folderProblem(c.directory);
    if (problem) errors.push({ field: 'connector.directory', message: problem });
  }
  const ids = new Set<string>();
  const names = new Set<string>();
  const fileGroups: FileGroup[] = c.fileGroups.map((g, i) => {
    const at = `connector.fileGroups.${i}`;
    const id = g.id ?? randomUUID();
    if (ids.has(id.toLowerCase())) errors.push({ field: `${at}.id`, message: 'is used by another file group' });
    ids.add(id.toLowerCase());
    if (names.has(g.name)) errors.push({ field: `${at}.name`, message: 'is used by another file group' });
    names.add(g.name);
    const problem = patternProblem(g.pattern);
    if (problem) errors.push({ field: `${at}.pattern`, message: problem });
    if (g.delimiter !== undefined && /["\r\n]/.test(g.delimiter)) errors.push({ field: `${at}.delimiter`, message: 'must not be a quote or a line break' });
    return {
      id: id.toLowerCase(),
      name: g.name,
      pattern: g.pattern,
      required: g.required ?? true,
      format: g.format ?? 'csv',
      delimiter: g.delimiter ?? ',',
      encoding: g.encoding ?? 'utf-8',
      columns: g.columns,
    };
  });
  // Without `matching`, every identity key a file group maps, in MATCH_KEYS order.
  const mapped = [...new Set(fileGroups.flatMap((g) => Object.keys(g.columns)))];
  const mappedText = mapped.length ? `the file groups map ${mapped.join(', ')}` : 'the file groups map no columns';
  const matching = c.matching ?? MATCH_KEYS.filter((key) => fileGroups.some((g) => g.columns[key] !== undefined));
  if (c.matching === undefined && !matching.length) {
    errors.push({ field: 'connector.matching', message: `is absent and no file group maps a column to ${MATCH_KEYS.join(', ')} to match accounts to identities by (${mappedText})` });
  }
  if (new Set(matching).size !== matching.length) errors.push({ field: 'connector.matching', message: 'lists a rule twice' });
  matching.forEach((key, i) => {
    if (!fileGroups.some((g) => g.columns[key] !== undefined)) {
      errors.push({ field: `connector.matching.${i}`, message: `no file group maps a column to ${key} (${mappedText})` });
    }
  });
  let schedule: string | null = null;
  if (c.schedule) {
    try {
      parseCron(c.schedule).next(new Date());
      schedule = c.schedule.trim();
    } catch (e) {
      if (!(e instanceof CronError)) throw e;
      errors.push({ field: 'connector.schedule', message: e.message });
    }
  }
  if (errors.length) return { connector: null, errors };
  return {
    connector: {
      type: 'file',
      directory: c.directory ?? null,
      fileGroups,
      matching: [...matching],
      unknownPermissions: c.unknownPermissions ?? 'report',
      disabledStatuses: (c.disabledStatuses ?? DEFAULT_DISABLED_STATUSES).map((s) => s.toLowerCase()),
      thresholds: { maxRemoved: c.thresholds?.maxRemoved ?? null, maxRemovedPercent: c.thresholds?.maxRemovedPercent ?? null },
      maxBadRows: c.maxBadRows ?? 100,
      schedule,
    },
    errors,
  };
}

/**
 * The document form of a connector: what is stored in `applications.connector` and shown
 * by the API. It is valid input to {@link normalizeConnector} (ids included), so a
 * round trip keeps every file group id.
 */
export function connectorDocument(c: Connector): ConnectorInput {
  const thresholds: { maxRemoved?: number; maxRemovedPercent?: number } = {};
  if (c.thresholds.maxRemoved !== null) thresholds.maxRemoved = c.thresholds.maxRemoved;
  if (c.thresholds.maxRemovedPercent !== null) thresholds.maxRemovedPercent = c.thresholds.maxRemovedPercent;
  return {
    type: 'file',
    ...(c.directory !== null ? { directory: c.directory } : {}),
    fileGroups: c.fileGroups.map((g) => ({ ...g, columns: { ...g.columns } })),
    matching: [...c.matching],
    unknownPermissions: c.unknownPermissions,
    disabledStatuses: [...c.disabledStatuses],
    thresholds,
    maxBadRows: c.maxBadRows,
    schedule: c.schedule,
  };
}

/**
 * Validates a connector as every writer of `applications.connector` must (the connector
 * route, application create and update): the same {@link normalizeConnector} the import
 * uses, so a configuration an import could not run is refused when it is written. Returns
 * the document to store (defaults filled in, file group ids generated); throws a
 * `validation_failed` error naming each bad field (`connector.fileGroups.0.pattern`, ...).
 */
export function validatedConnectorDocument(input: unknown): ConnectorInput {
  const { connector, errors } = normalizeConnector(input);
  if (!connector) {
    const list = errors.length ? errors : [{ field: 'connector', message: 'is not a valid connector configuration' }];
    throw new AppError('validation_failed', list.map((e) => `${e.field} ${e.message}`).join('; '), { errors: list });
  }
  return connectorDocument(connector);
}

/** Reads the connector stored in `applications.connector`; null when none or not valid. */
export function storedConnector(text: string | null): Connector | null {
  if (!text) return null;
  try {
    return normalizeConnector(JSON.parse(text) as unknown).connector;
  } catch {
    // Stored by an older or foreign writer and not JSON: treated as no connector.
    return null;
  }
}
