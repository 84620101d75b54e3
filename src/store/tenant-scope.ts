/**
 * Tenant isolation by construction: a Kysely plugin that binds every query built through a
 * handle to one tenant, so a query that forgets its `where('tenant_id', ...)` still sees
 * and touches only that tenant's rows. `Store.read(tenantId).db` and a write's `tx.db` carry it.
 *
 * On every table that has a `tenant_id` column ({@link TENANT_TABLES}), wherever the table is
 * referenced — `from`, joins, subqueries (in selections, `where`, `exists`, `in`), `update`,
 * `delete ... using`:
 * - SELECT, UPDATE and DELETE get `<table or alias>.tenant_id = ?` — in the `where` for the
 *   tables in `from` (and `update ... from`, `delete ... using`, joins without `on`), in the
 *   `on` of a join (so a left join keeps its rows and just finds no other tenant's);
 * - INSERT must carry the tenant: a row whose `tenant_id` is missing, computed, or another
 *   tenant's is refused with {@link TenantScopeViolation} (refused rather than filled, so
 *   a wrong value is a visible programming error and the inserted SQL is what the code says);
 *   an upsert's `do update` only updates a row of the tenant;
 * - an UPDATE (or upsert) may not set `tenant_id` to another tenant; right and full joins
 *   and MERGE on a tenant table are refused (nothing uses them, and their filters would not
 *   mean what they say).
 *
 * The tenant id is a bound parameter, never inlined: the SQL text is the same for every
 * tenant, so SQLite's compiled-statement cache keeps working. Tables without `tenant_id`
 * (`tenants`, `signing_keys`, and the access history's versions and refs, which are reached
 * only through the tenant's `access_history_keys`) are left alone. Raw SQL (`sql` templates, compiled queries
 * run with `executeQuery`, `tx.sqlite.run`) is not parsed: such code applies the tenant itself.
 *
 * ```ts
 * const db = kysely.withPlugin(new TenantScopePlugin(tenantId));
 * await db.selectFrom('roles').selectAll().execute(); // ... where "roles"."tenant_id" = ?
 * ```
 */
import {
  AliasNode,
  BinaryOperationNode,
  ColumnNode,
  IdentifierNode,
  JoinNode,
  OperatorNode,
  PrimitiveValueListNode,
  ReferenceNode,
  TableNode,
  ValueListNode,
  ValueNode,
  ValuesNode,
  WhereNode,
  type ColumnUpdateNode,
  type DeleteQueryNode,
  type InsertQueryNode,
  type KyselyPlugin,
  type MergeQueryNode,
  type OperationNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type SelectQueryNode,
  type UnknownRow,
  type UpdateQueryNode,
  type WithNode,
} from 'kysely';
import type { Database } from './schema.ts';

type HasTenantColumn<Row> = 'tenant_id' extends keyof Row ? true : false;

/**
 * Whether each table of {@link Database} has a `tenant_id` column. The type is computed from
 * the row types in `schema.ts`: a table added there without an entry here, or an entry that
 * contradicts its row type, does not compile. (A store test checks the migrated databases agree.)
 */
export const HAS_TENANT_COLUMN: { readonly [T in keyof Database]: HasTenantColumn<Database[T]> } = {
  tenants: false,
  counters: true,
  audit_events: true,
  changes: true,
  access_history_keys: true,
  access_history_versions: false,
  access_history_refs: false,
  identities: true,
  org_units: true,
  applications: true,
  permissions: true,
  roles: true,
  role_permissions: true,
  role_includes: true,
  assignments: true,
  assignment_rules: true,
  accounts: true,
  grants: true,
  api_keys: true,
  identity_passwords: true,
  sessions: true,
  idempotency_keys: true,
  oauth_clients: true,
  application_keys: true,
  revoked_tokens: true,
  rate_limit_counters: false,
  signing_keys: false,
  audit_keys: true,
  audit_checkpoints: true,
  event_sinks: true,
  event_sink_dead_letters: true,
  imports: true,
  import_changes: true,
  unmatched_accounts: true,
  account_resolutions: true,
  import_fingerprints: true,
  scheduled_jobs: true,
  workflow_entries: true,
  approval_policies: true,
  approval_steps: true,
  approval_tasks: true,
  access_requests: true,
  personnel_events: true,
  personnel_event_paused: true,
  sod_policies: true,
  sod_exceptions: true,
  access_reviews: true,
  review_items: true,
};

/** The tables whose rows belong to a tenant (they have a `tenant_id` column). */
export const TENANT_TABLES: ReadonlySet<string> = new Set(
  Object.entries(HAS_TENANT_COLUMN)
    .filter(([, scoped]) => scoped)
    .map(([table]) => table),
);

const TENANT_COLUMN = 'tenant_id';
const TENANT_COLUMN_NODE = ColumnNode.create(TENANT_COLUMN);
const EQUALS = OperatorNode.create('=');

/** A query that would read or write outside its tenant; a programming error, never user input. */
export class TenantScopeViolation extends Error {
  override readonly name = 'TenantScopeViolation';
}

export class TenantScopePlugin implements KyselyPlugin {
  private readonly transformer: TenantScopeTransformer;

  constructor(readonly tenantId: string) {
    this.transformer = new TenantScopeTransformer(tenantId);
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.transformer.transform(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/** A table reference of a query: the table's name and the name its columns are qualified with. */
interface ScopedTable {
  table: string;
  qualifier: TableNode;
}

const isNode = (value: unknown): value is OperationNode => typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string';

/**
 * Walks a query's node tree and returns it scoped. Copy-on-write: a node is copied only when
 * something below it changed, so the parts of a query without a tenant table (values, column
 * lists, expressions) are neither visited twice nor rebuilt — Kysely's generic transformer
 * rebuilds every node, which cost more than compiling the query.
 */
class TenantScopeTransformer {
  /** Names of the common table expressions in scope: references to them are not tables. */
  private readonly cteNames: string[] = [];
  /** The tenant id, bound as a parameter; one node shared by every filter of this scope. */
  private readonly tenantValue: ValueNode;

  constructor(private readonly tenantId: string) {
    this.tenantValue = ValueNode.create(tenantId);
  }

  transform<T extends OperationNode>(node: T): T {
    switch (node.kind) {
      case 'SelectQueryNode':
        return this.transformSelectQuery(node as unknown as SelectQueryNode) as unknown as T;
      case 'UpdateQueryNode':
        return this.transformUpdateQuery(node as unknown as UpdateQueryNode) as unknown as T;
      case 'DeleteQueryNode':
        return this.transformDeleteQuery(node as unknown as DeleteQueryNode) as unknown as T;
      case 'InsertQueryNode':
        return this.transformInsertQuery(node as unknown as InsertQueryNode) as unknown as T;
      case 'MergeQueryNode':
        return this.transformMergeQuery(node as unknown as MergeQueryNode) as unknown as T;
      // Leaves holding the caller's values (which may be any object): nothing to scope below.
      case 'ValueNode':
      case 'PrimitiveValueListNode':
        return node;
      default:
        return this.children(node);
    }
  }

  /** `node` with each child node transformed; `node` itself when none changed. */
  private children<T extends OperationNode>(node: T): T {
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(node)) {
      const value = (node as unknown as Record<string, unknown>)[key];
      const next = Array.isArray(value) ? this.list(value) : isNode(value) ? this.transform(value) : value;
      if (next !== value) (copy ??= { ...(node as unknown as Record<string, unknown>) })[key] = next;
    }
    return (copy ?? node) as unknown as T;
  }

  private list(items: readonly unknown[]): readonly unknown[] {
    let copy: unknown[] | undefined;
    for (let i = 0; i < items.length; i += 1) {
      const item = items[i];
      const next = Array.isArray(item) ? this.list(item) : isNode(item) ? this.transform(item) : item;
      if (next !== item) (copy ??= [...items])[i] = next;
    }
    return copy ?? items;
  }

  private transformSelectQuery(node: SelectQueryNode): SelectQueryNode {
    return this.withCtes(node.with, () => {
      const out = this.children(node);
      return this.filtered(out, this.scopedTables(out.from?.froms ?? []));
    });
  }

  private transformUpdateQuery(node: UpdateQueryNode): UpdateQueryNode {
    return this.withCtes(node.with, () => {
      const out = this.children(node);
      const targets = this.scopedTables(out.table ? [out.table] : []);
      if (targets.length > 0) this.checkUpdates(out.updates, targets[0]!.table);
      return this.filtered(out, [...targets, ...this.scopedTables(out.from?.froms ?? [])]);
    });
  }

  private transformDeleteQuery(node: DeleteQueryNode): DeleteQueryNode {
    return this.withCtes(node.with, () => {
      const out = this.children(node);
      return this.filtered(out, [...this.scopedTables(out.from.froms), ...this.scopedTables(out.using?.tables ?? [])]);
    });
  }

  private transformInsertQuery(node: InsertQueryNode): InsertQueryNode {
    return this.withCtes(node.with, () => {
      const out = this.children(node);
      const target = out.into ? this.scopedTables([out.into])[0] : undefined;
      if (!target) return out;
      this.checkInsertedRows(out, target.table);
      if (!out.onConflict?.updates) return out;
      this.checkUpdates(out.onConflict.updates, target.table);
      // The row an upsert updates is the conflicting one: only if it is this tenant's.
      const filter = this.tenantFilter(target.qualifier);
      const updateWhere = out.onConflict.updateWhere ? WhereNode.cloneWithOperation(out.onConflict.updateWhere, 'And', filter) : WhereNode.create(filter);
      return { ...out, onConflict: { ...out.onConflict, updateWhere } };
    });
  }

  private transformMergeQuery(node: MergeQueryNode): MergeQueryNode {
    const into = this.scopedTables([node.into]);
    if (into.length > 0) throw new TenantScopeViolation(`merge into ${into[0]!.table} is not supported under a tenant scope`);
    return this.children(node);
  }

  private withCtes<T>(withNode: WithNode | undefined, fn: () => T): T {
    if (!withNode) return fn();
    const names = withNode.expressions.map((e) => e.name.table.table.identifier.name);
    this.cteNames.push(...names);
    try {
      return fn();
    } finally {
      this.cteNames.length -= names.length;
    }
  }

  /** The tenant tables among table expressions (`t`, `t as a`, `schema.t`); subqueries are scoped on their own. */
  private scopedTables(nodes: readonly OperationNode[]): ScopedTable[] {
    const found: ScopedTable[] = [];
    for (const node of nodes) {
      let table: TableNode | undefined;
      let qualifier: TableNode | undefined;
      if (TableNode.is(node)) {
        table = node;
        qualifier = node;
      } else if (AliasNode.is(node) && TableNode.is(node.node) && IdentifierNode.is(node.alias)) {
        table = node.node;
        qualifier = TableNode.create(node.alias.name);
      }
      if (!table || !qualifier) continue;
      const name = table.table.identifier.name;
      if (TENANT_TABLES.has(name) && !(table.table.schema === undefined && this.cteNames.includes(name))) found.push({ table: name, qualifier });
    }
    return found;
  }

  /**
   * `node` with the tenant filter of `tables` in its `where`, and of each joined tenant table
   * in the join's `on` (or in the `where`, for a join without `on`).
   */
  private filtered<T extends { readonly joins?: readonly JoinNode[]; readonly where?: WhereNode }>(node: T, tables: ScopedTable[]): T {
    const inWhere = [...tables];
    const joins = node.joins?.map((join) => {
      const [target] = this.scopedTables([join.table]);
      if (!target) return join;
      if (join.joinType === 'RightJoin' || join.joinType === 'FullJoin') {
        throw new TenantScopeViolation(`a ${join.joinType === 'RightJoin' ? 'right' : 'full'} join of ${target.table} is not supported under a tenant scope`);
      }
      if (!join.on) {
        inWhere.push(target);
        return join;
      }
      return JoinNode.cloneWithOn(join, this.tenantFilter(target.qualifier));
    });
    let where = node.where;
    for (const { qualifier } of inWhere) {
      const filter = this.tenantFilter(qualifier);
      where = where ? WhereNode.cloneWithOperation(where, 'And', filter) : WhereNode.create(filter);
    }
    return { ...node, ...(joins ? { joins } : {}), ...(where ? { where } : {}) };
  }

  /** `qualifier.tenant_id = ?`, the tenant id bound as a parameter. */
  private tenantFilter(qualifier: TableNode): BinaryOperationNode {
    return BinaryOperationNode.create(ReferenceNode.create(TENANT_COLUMN_NODE, qualifier), EQUALS, this.tenantValue);
  }

  private checkInsertedRows(node: InsertQueryNode, table: string): void {
    const refuse = (why: string) => new TenantScopeViolation(`insert into ${table} ${why} (tenant ${this.tenantId})`);
    const column = node.columns?.findIndex((c) => c.column.name === TENANT_COLUMN) ?? -1;
    if (column < 0) throw refuse('without tenant_id');
    if (!node.values || !ValuesNode.is(node.values)) throw refuse('from a query or without values');
    for (const row of node.values.values) {
      const value = PrimitiveValueListNode.is(row) ? row.values[column] : ValueListNode.is(row) ? this.boundValue(row.values[column]) : undefined;
      if (value !== this.tenantId) throw refuse(value === undefined ? 'with a tenant_id that is not a value' : 'with another tenant_id');
    }
  }

  private checkUpdates(updates: readonly ColumnUpdateNode[] | undefined, table: string): void {
    for (const update of updates ?? []) {
      if (!ColumnNode.is(update.column) || update.column.column.name !== TENANT_COLUMN) continue;
      if (this.boundValue(update.value) !== this.tenantId) throw new TenantScopeViolation(`an update of ${table} may not move rows to another tenant (tenant ${this.tenantId})`);
    }
  }

  private boundValue(node: OperationNode | undefined): unknown {
    return node && ValueNode.is(node) ? node.value : undefined;
  }
}
