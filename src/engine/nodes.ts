/**
 * The node types of the in-memory access index. Every entity is interned as an integer
 * slot the first time it is seen (even as a forward reference, e.g. an assignment that
 * names an identity loaded later): slots are never reused, `exists` says whether the row
 * is currently in the store.
 */
import type { ContextType } from '../domain/access.ts';
import type { EffectiveSet } from './effective.ts';

export const NONE = -1;

export class UnitNode {
  exists = false;
  number = 0;
  name = '';
  externalId: string | null = null;
  parent = NONE;
  readonly children = new Set<number>();
  /** Identities whose primary unit this is. */
  readonly members = new Set<number>();
  /** Assignments whose assignee is this unit. */
  readonly assignments = new Set<number>();
  /** What every member of this unit inherits from it and its ancestors (cached). */
  inherited: EffectiveSet | null = null;
  constructor(
    readonly idx: number,
    readonly id: string,
  ) {}
}

export class IdentityNode {
  exists = false;
  active = false;
  status = '';
  number = 0;
  subject = '';
  username: string | null = null;
  email: string | null = null;
  displayName: string | null = null;
  unit = NONE;
  readonly assignments = new Set<number>();
  readonly accounts = new Set<number>();
  /** Effective assigned access, when cached. */
  cache: EffectiveSet | null = null;
  /** Whether the identity is in the cache's eviction queue. */
  queued = false;
  constructor(
    readonly idx: number,
    readonly id: string,
  ) {}
}

export class ApplicationNode {
  exists = false;
  name = '';
  number = 0;
  /** `managed`: assigned is provisioned; `connected`: provisioned is what accounts hold. */
  managed = true;
  /** Grantory's own application (its permissions are Grantory's rights). */
  builtin = false;
  readonly permissions = new Set<number>();
  constructor(
    readonly idx: number,
    readonly id: string,
  ) {}
}

export class PermissionNode {
  exists = false;
  name = '';
  number = 0;
  app = NONE;
  delegable = false;
  /** Roles that list this permission directly. */
  readonly roles = new Set<number>();
  /** Assignments whose resource is this permission. */
  readonly assignments = new Set<number>();
  /** Accounts holding a grant of this permission. */
  readonly accounts = new Set<number>();
  constructor(
    readonly idx: number,
    readonly id: string,
  ) {}
}

export class RoleNode {
  exists = false;
  name = '';
  readonly permissions = new Set<number>();
  readonly includes = new Set<number>();
  readonly includedBy = new Set<number>();
  readonly assignments = new Set<number>();
  closureEpoch = -1;
  closurePermissions: Set<number> = new Set();
  /** The same permissions as an array (for expanding assignments). */
  closurePermList: Int32Array = new Int32Array(0) as Int32Array;
  closureRoles: Set<number> = new Set();
  constructor(
    readonly idx: number,
    readonly id: string,
  ) {}
}

export class AssignmentNode {
  exists = false;
  assigneeIsUnit = false;
  assignee = NONE;
  resourceIsRole = false;
  resource = NONE;
  contextType: ContextType = 'all';
  contextId: string | null = null;
  state = '';
  active = false;
  source = '';
  validFrom = -Infinity;
  validTo = Infinity;
  delegatedFrom = NONE;
  delegator = NONE;
  ruleId: string | null = null;
  /** The rendered form of this assignment in answers (built on first use, dropped on change). */
  view: object | null = null;
  constructor(
    readonly idx: number,
    readonly id: string,
  ) {}
}

export interface GrantEntry {
  permission: number;
  contextType: ContextType;
  contextId: string | null;
}

export class AccountNode {
  exists = false;
  app = NONE;
  name = '';
  identity = NONE;
  status = '';
  active = false;
  observedAt = '';
  importId: string | null = null;
  grants: GrantEntry[] = [];
  constructor(
    readonly idx: number,
    readonly id: string,
  ) {}
}

/** FNV-1a of the character codes of `text` from `start` to `end`: the key of {@link Table.findText}. */
export function textHash(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/**
 * An interning table: id -> slot, slot -> node. An id can also be found by its characters
 * within a larger text (`findText`: a batch of checks read from the request's text) without
 * slicing it out: by {@link textHash} in an open-addressing table of slots, built on the
 * first such look-up and kept as ids are interned (slots are never removed).
 */
export class Table<N extends { readonly idx: number; readonly id: string }> {
  readonly nodes: N[] = [];
  readonly byId = new Map<string, number>();
  /** Slots by the hash of their id (-1: empty; size a power of two, at most half full); null until `findText` is first used. */
  private byText: Int32Array | null = null;
  constructor(private readonly make: (idx: number, id: string) => N) {}

  intern(id: string): number {
    let idx = this.byId.get(id);
    if (idx === undefined) {
      idx = this.nodes.length;
      this.nodes.push(this.make(idx, id));
      this.byId.set(id, idx);
      if (this.byText !== null) {
        if (this.nodes.length * 2 > this.byText.length) this.byText = this.textIndex();
        else this.addText(this.byText, idx);
      }
    }
    return idx;
  }

  find(id: string): number {
    return this.byId.get(id) ?? NONE;
  }

  /** The slot of the id spelt by `text` from `start` to `end` (what `find(text.slice(start, end))` answers). */
  findText(text: string, start: number, end: number): number {
    const table = (this.byText ??= this.textIndex());
    const mask = table.length - 1;
    const length = end - start;
    for (let at = textHash(text, start, end) & mask; ; at = (at + 1) & mask) {
      const slot = table[at]!;
      if (slot < 0) return NONE;
      const { id } = this.nodes[slot]!;
      if (id.length === length && text.startsWith(id, start)) return slot;
    }
  }

  get(idx: number): N {
    return this.nodes[idx]!;
  }

  private textIndex(): Int32Array {
    let size = 16;
    while (size < this.nodes.length * 4) size *= 2;
    const table = new Int32Array(size).fill(-1);
    for (let idx = 0; idx < this.nodes.length; idx += 1) this.addText(table, idx);
    return table;
  }

  private addText(table: Int32Array, idx: number): void {
    const { id } = this.nodes[idx]!;
    const mask = table.length - 1;
    let at = textHash(id, 0, id.length) & mask;
    while (table[at]! >= 0) at = (at + 1) & mask;
    table[at] = idx;
  }
}
