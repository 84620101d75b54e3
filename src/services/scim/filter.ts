/**
 * SCIM filters (RFC 7644 §3.4.2.2) as SQL: `scim2-parse-filter` parses the expression, this
 * module turns its tree into one `where` condition over the columns an attribute is kept
 * in, so a filter is answered by the database (and its indexes) whatever the list's size.
 *
 * Operators: `eq ne co sw ew gt ge lt le pr`, `and`, `or`, `not`, value paths
 * (`emails[type eq "work"]`, `members[value eq "…"]`) and sub-attributes
 * (`name.givenName`, `emails.value`). Attributes whose `caseExact` is false compare without
 * case. An unknown attribute or an operator an attribute does not take is a 400
 * `invalidFilter`.
 *
 * ```ts
 * const where = filterCondition('userName eq "ada"', USER_ATTRIBUTES); // sql`…`
 * ```
 */
import { sql, type RawBuilder } from 'kysely';
import { parse, type Filter } from 'scim2-parse-filter';
import { AppError } from '../../domain/errors.ts';
import { SCHEMA_ENTERPRISE_USER, SCHEMA_GROUP, SCHEMA_USER, scimError } from '../../domain/scim.ts';
import { containsText, endsWithText, startsWithText } from '../kernel/index.ts';

type Condition = RawBuilder<boolean>;

/** How one attribute is found in SQL. */
export type AttributeColumn =
  /** Text in a column; `caseExact` compares as stored; `narrow` adds an indexed condition to `eq`. */
  | { kind: 'text'; column: RawBuilder<unknown>; caseExact?: boolean; narrow?: (value: string) => Condition }
  /** Timestamps stored as ISO 8601 UTC text. */
  | { kind: 'time'; column: RawBuilder<unknown> }
  /** A boolean computed from columns (`active`: status is active). */
  | { kind: 'boolean'; condition: Condition }
  /**
   * A multi-valued attribute: `has(inner)` says whether one of its values meets `inner`;
   * `primary`, the column of its primary value, is what sorting by it uses (none: not sortable).
   */
  | { kind: 'multi'; attributes: AttributeMap; has: (inner: Condition) => Condition; value: string; primary?: RawBuilder<unknown> };

export type AttributeMap = Readonly<Record<string, AttributeColumn>>;

export const FILTER_MAX_LENGTH = 2000;

const TRUE = sql<boolean>`(1 = 1)`;
const FALSE = sql<boolean>`(1 = 0)`;

export type SortOrder = 'ascending' | 'descending';

function invalidFilter(message: string): AppError {
  return new AppError('validation_failed', `filter: ${message}`, { errors: [{ field: 'filter', message }], details: scimError('invalidFilter') });
}

/** `urn:…:User:userName` → `username`: attribute names without their schema, lower-cased. */
export function attributeKey(path: string): string {
  let key = path;
  for (const urn of [SCHEMA_ENTERPRISE_USER, SCHEMA_USER, SCHEMA_GROUP]) {
    if (key.toLowerCase().startsWith(`${urn.toLowerCase()}:`)) key = key.slice(urn.length + 1);
  }
  return key.toLowerCase();
}

/** A filter as SQL: its condition, and whether an indexed look-up narrows it (see {@link compileFilter}). */
export interface CompiledFilter {
  where: Condition;
  /** An `eq` on an attribute with a `narrow` condition must hold (`userName eq "…"`, alone or and-ed). */
  narrowed: boolean;
}

/** Parses `text` and returns its condition over `attributes` (400 `invalidFilter` when it cannot). */
export function filterCondition(text: string, attributes: AttributeMap): Condition {
  return compileFilter(text, attributes).where;
}

/**
 * `filterCondition`, and whether the filter is narrowed by an indexed look-up. A list ordered
 * by number should then sort its few rows rather than walk the number index: without that,
 * SQLite prefers the index that gives the order and scans every identity of the tenant for the
 * `userName eq` look-up an identity provider makes before each create.
 */
export function compileFilter(text: string, attributes: AttributeMap): CompiledFilter {
  if (text.length > FILTER_MAX_LENGTH) throw invalidFilter(`is longer than ${FILTER_MAX_LENGTH} characters`);
  let tree: Filter;
  try {
    tree = parse(text);
  } catch (e) {
    throw invalidFilter(`cannot be parsed (${e instanceof Error ? e.message : String(e)})`);
  }
  return { where: conditionOf(tree, attributes), narrowed: narrowedBy(tree, attributes) };
}

function narrowedBy(filter: Filter, attributes: AttributeMap): boolean {
  switch (filter.op) {
    case 'and':
      return filter.filters.some((f) => narrowedBy(f, attributes));
    case 'or':
      return filter.filters.every((f) => narrowedBy(f, attributes));
    case 'eq': {
      const column = attributes[attributeKey(filter.attrPath)];
      return column?.kind === 'text' && column.narrow !== undefined && typeof filter.compValue === 'string';
    }
    default:
      return false;
  }
}

function conditionOf(filter: Filter, attributes: AttributeMap): Condition {
  switch (filter.op) {
    case 'and':
    case 'or': {
      const parts = filter.filters.map((f) => conditionOf(f, attributes));
      return sql<boolean>`(${sql.join(parts, sql.raw(` ${filter.op} `))})`;
    }
    case 'not':
      return sql<boolean>`(not coalesce(${conditionOf(filter.filter, attributes)}, ${FALSE}))`;
    case '[]': {
      const column = lookup(filter.attrPath, attributes);
      if (column.kind !== 'multi') throw invalidFilter(`${filter.attrPath} is not multi-valued`);
      return column.has(conditionOf(filter.valFilter, column.attributes));
    }
    default: {
      const column = lookup(filter.attrPath, attributes);
      if (filter.op === 'pr') return present(column);
      return compare(column, filter.op, filter.compValue, filter.attrPath);
    }
  }
}

function lookup(path: string, attributes: AttributeMap): AttributeColumn {
  const key = attributeKey(path);
  const found = attributes[key];
  if (found) return found;
  // `emails.value` of a multi-valued attribute: one of its values has it.
  const dot = key.indexOf('.');
  if (dot > 0) {
    const parent = attributes[key.slice(0, dot)];
    if (parent?.kind === 'multi') {
      const inner = parent.attributes[key.slice(dot + 1)];
      if (inner) return wrapped(parent, inner);
    }
  }
  throw invalidFilter(`${path} is not an attribute that can be filtered on`);
}

/** A sub-attribute of a multi-valued attribute, compared inside `has(...)`. */
function wrapped(parent: Extract<AttributeColumn, { kind: 'multi' }>, inner: AttributeColumn): AttributeColumn {
  return { kind: 'multi', attributes: { [parent.value]: inner }, has: parent.has, value: parent.value };
}

function present(column: AttributeColumn): Condition {
  switch (column.kind) {
    case 'text':
    case 'time':
      return sql<boolean>`(${column.column} is not null and ${column.column} <> '')`;
    case 'boolean':
      return TRUE;
    case 'multi':
      return column.has(present(column.attributes[column.value]!));
  }
}

type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'lt' | 'ge' | 'le';
const ORDER: Record<string, string> = { gt: '>', ge: '>=', lt: '<', le: '<=' };

function compare(column: AttributeColumn, op: CompareOp, value: boolean | null | number | string, path: string): Condition {
  if (column.kind === 'multi') {
    // `emails eq "x"` (or the wrapped `emails.value eq "x"`): one of the values matches.
    return column.has(compare(column.attributes[column.value]!, op, value, path));
  }
  if (column.kind === 'boolean') {
    if (typeof value !== 'boolean' || (op !== 'eq' && op !== 'ne')) throw invalidFilter(`${path} is a boolean: use eq or ne with true or false`);
    const wanted = op === 'eq' ? value : !value;
    return wanted ? column.condition : sql<boolean>`(not ${column.condition})`;
  }
  if (value === null) {
    if (op === 'eq') return sql<boolean>`(${column.column} is null)`;
    if (op === 'ne') return sql<boolean>`(${column.column} is not null)`;
    throw invalidFilter(`${path} ${op} null is not a comparison`);
  }
  if (typeof value !== 'string') throw invalidFilter(`${path} takes a string, not ${JSON.stringify(value)}`);
  if (column.kind === 'time') return compareTime(column.column, op, value, path);
  const { caseExact = false } = column;
  const col = column.column;
  const same = caseExact ? sql<boolean>`(${col} = ${value})` : sql<boolean>`(lower(${col}) = lower(${value}))`;
  switch (op) {
    case 'eq':
      return column.narrow ? sql<boolean>`(${column.narrow(value)} and ${same})` : same;
    case 'ne':
      return sql<boolean>`(${col} is null or not ${same})`;
    case 'co':
      return containsText(col, value);
    case 'sw':
      return startsWithText(col, value);
    case 'ew':
      return endsWithText(col, value);
    default:
      return caseExact ? sql<boolean>`(${col} ${sql.raw(ORDER[op]!)} ${value})` : sql<boolean>`(lower(${col}) ${sql.raw(ORDER[op]!)} lower(${value}))`;
  }
}

function compareTime(column: RawBuilder<unknown>, op: CompareOp, value: string, path: string): Condition {
  const time = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(time)) throw invalidFilter(`${path} takes an ISO 8601 date and time, not "${value}"`);
  const iso = new Date(time).toISOString();
  if (op === 'eq') return sql<boolean>`(${column} = ${iso})`;
  if (op === 'ne') return sql<boolean>`(${column} <> ${iso})`;
  const order = ORDER[op];
  if (!order) throw invalidFilter(`${path} is a date and time: use eq, ne, gt, ge, lt or le`);
  return sql<boolean>`(${column} ${sql.raw(order)} ${iso})`;
}

/**
 * `sortBy` (RFC 7644 §3.4.2.3) as an `order by` term: text without case unless `caseExact`,
 * a multi-valued attribute by its primary value, and resources without a value last when
 * ascending and first when descending, on both databases. An attribute that cannot be
 * sorted by is a 400 `invalidValue` naming it.
 */
export function sortTerm(path: string, order: SortOrder, attributes: AttributeMap): RawBuilder<unknown> {
  const column = sortable(path, attributes);
  // Missing values sort as the greatest: `(x is null)` is false before true on both databases.
  return order === 'descending' ? sql`(${column} is null) desc, ${column} desc` : sql`(${column} is null) asc, ${column} asc`;
}

function sortable(path: string, attributes: AttributeMap): RawBuilder<unknown> {
  const key = attributeKey(path);
  const dot = key.indexOf('.');
  const parent = dot > 0 ? attributes[key.slice(0, dot)] : undefined;
  const found = attributes[key] ?? (parent?.kind === 'multi' && key.slice(dot + 1) === parent.value ? parent : undefined);
  const refuse = () => new AppError('validation_failed', `sortBy: ${path} is not an attribute that can be sorted by`, { errors: [{ field: 'sortBy', message: `${path} cannot be sorted by` }], details: scimError('invalidValue') });
  switch (found?.kind) {
    case 'text':
      return found.caseExact ? found.column : sql`lower(${found.column})`;
    case 'time':
      return found.column;
    case 'boolean':
      return sql`(case when ${found.condition} then 1 else 0 end)`;
    case 'multi':
      if (!found.primary) throw refuse();
      return sql`lower(${found.primary})`;
    default:
      throw refuse();
  }
}
