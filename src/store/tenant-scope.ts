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
 * (`tenants`, `signing_keys`) are left alone. Raw SQL (`sql` templates, compiled queries
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
  OperationNodeTransformer,
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
  type QueryId,
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
  idempotency_keys: true,
  oauth_clients: true,
  application_keys: true,
  revoked_tokens: true,
  signing_keys: false,
  tenant_secrets: true,
  audit_keys: true,
  audit_checkpoints: true,
  event_sinks: true,
  event_sink_dead_letters: true,
  imports: true,
  import_changes: true,
  unmatched_accounts: true,
  account_resolutions: true,
  import_fingerprints: true,
  sod_policies: true,
  sod_exceptions: true,
};

/** The tables whose rows belong to a tenant (they have a `tenant_id` column). */
export const TENANT_TABLES: ReadonlySet<string> = new Set(
  Object.entries(HAS_TENANT_COLUMN)
    .filter(([, scoped]) => scoped)
    .map(([table]) => table),
);

const TENANT_COLUMN = 'tenant_id';

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
    return this.transformer.transformNode(args.node, args.queryId);
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

class TenantScopeTransformer extends OperationNodeTransformer {
  /** Names of the common table expressions in scope: references to them are not tables. */
  private readonly cteNames: string[] = [];

  constructor(private readonly tenantId: string) {
    super();
  }

  protected override transformSelectQuery(node: SelectQueryNode, queryId?: QueryId): SelectQueryNode {
    return this.withCtes(node.with, () => {
      const out = super.transformSelectQuery(node, queryId);
      return this.filtered(out, this.scopedTables(out.from?.froms ?? []));
    });
  }

  protected override transformUpdateQuery(node: UpdateQueryNode, queryId?: QueryId): UpdateQueryNode {
    return this.withCtes(node.with, () => {
      const out = super.transformUpdateQuery(node, queryId);
      const targets = this.scopedTables(out.table ? [out.table] : []);
      if (targets.length > 0) this.checkUpdates(out.updates, targets[0]!.table);
      return this.filtered(out, [...targets, ...this.scopedTables(out.from?.froms ?? [])]);
    });
  }

  protected override transformDeleteQuery(node: DeleteQueryNode, queryId?: QueryId): DeleteQueryNode {
    return this.withCtes(node.with, () => {
      const out = super.transformDeleteQuery(node, queryId);
      return this.filtered(out, [...this.scopedTables(out.from.froms), ...this.scopedTables(out.using?.tables ?? [])]);
    });
  }

  protected override transformInsertQuery(node: InsertQueryNode, queryId?: QueryId): InsertQueryNode {
    return this.withCtes(node.with, () => {
      const out = super.transformInsertQuery(node, queryId);
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

  protected override transformMergeQuery(node: MergeQueryNode, queryId?: QueryId): MergeQueryNode {
    const into = this.scopedTables([node.into]);
    if (into.length > 0) throw new TenantScopeViolation(`merge into ${into[0]!.table} is not supported under a tenant scope`);
    return super.transformMergeQuery(node, queryId);
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
    return BinaryOperationNode.create(ReferenceNode.create(ColumnNode.create(TENANT_COLUMN), qualifier), OperatorNode.create('='), ValueNode.create(this.tenantId));
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
