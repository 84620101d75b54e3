/**
 * Checks: does an identity hold a permission (in a context, in a space)? One at a time
 * (`POST /check`) or up to 1,000 answered at one revision (`POST /check/batch`).
 *
 * A batch comes as objects (what JSON.parse and schema validation give) or as
 * {@link CheckSpans}: the request's text with the positions of each check's strings, read
 * without JSON.parse by the batch route (src/api/routes/check-batch-body.ts). Ids are looked
 * up straight from the text (`Table.findText`), so such a batch makes no object per check
 * and slices a string only for a look-up by name or an error. Both are answered by the same
 * code, with the same answers and errors; an (identity, permission, context, space) asked
 * more than once in a batch is evaluated once.
 *
 * ```ts
 * await checkAccess(deps, actor, { identity: 'c1s:alice', application: 'Ledger', permission: 'Approve' });
 * await checkAccessBatch(deps, actor, [{ identity: 'i-1', permission: 'p-2' }, { identity: 'i-1', permission: 'p-3' }]);
 * ```
 */
import { ACCESS_SPACES, CONTEXT_TYPES, type AccessSpace, type ContextType } from '../../domain/access.ts';
import { AppError } from '../../domain/errors.ts';
import { NONE } from '../../engine/nodes.ts';
import { askContext, checkSlots, type AskedContext } from '../../engine/queries.ts';
import { contextMapKey, type TenantIndex } from '../../engine/tenant-index.ts';
import { requireRight, type Actor } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { engineOf } from './common.ts';
import { findApplication, findIdentity, findPermission, type ReadOptions } from './queries.ts';

export interface CheckInput {
  identity: string;
  application?: string | undefined;
  permission: string;
  context?: { type: ContextType; id?: string | null | undefined } | undefined;
  space?: AccessSpace | undefined;
}

/** A check's answer; `reason` says why an unknown identity is not allowed. */
export interface CheckAnswer {
  allowed: boolean;
  reason?: string;
}

/** The most checks one batch may hold. */
export const MAX_BATCH_CHECKS = 1000;

/**
 * Where each number of a check sits in {@link CheckSpans.spans}, per check
 * {@link SPAN.stride} numbers from `check * stride`: the start and end (exclusive) in the
 * text of its identity, permission and application strings (the application's start -1 when
 * absent), its context's type (the index in `CONTEXT_TYPES`; -1 when the check has no
 * context), the start and end of its context id (start -1 when absent, -2 when null) and its
 * space (the index in `ACCESS_SPACES`; -1 when absent).
 */
export const SPAN = {
  identity: 0,
  permission: 2,
  application: 4,
  contextType: 6,
  contextId: 7,
  space: 9,
  stride: 10,
} as const;

/**
 * A batch of checks as positions in one text: every span is the exact value of its string
 * (text without escapes), looked up where it stands.
 */
export class CheckSpans {
  constructor(
    readonly text: string,
    readonly count: number,
    /** {@link SPAN}'s numbers for every check. */
    readonly spans: Int32Array,
  ) {}

  /** The checks as objects, as JSON.parse gives them (absent fields left out; for tests and tools). */
  toChecks(): CheckInput[] {
    const { text, spans } = this;
    const checks: CheckInput[] = [];
    for (let o = 0; o < this.count * SPAN.stride; o += SPAN.stride) {
      const slice = (at: number) => text.slice(spans[at], spans[at + 1]);
      const check: CheckInput = { identity: slice(o + SPAN.identity), permission: slice(o + SPAN.permission) };
      if (spans[o + SPAN.application]! >= 0) check.application = slice(o + SPAN.application);
      const type = spans[o + SPAN.contextType]!;
      const id = spans[o + SPAN.contextId]!;
      if (type >= 0) check.context = id === -1 ? { type: CONTEXT_TYPES[type]! } : { type: CONTEXT_TYPES[type]!, id: id === -2 ? null : slice(o + SPAN.contextId) };
      const space = spans[o + SPAN.space]!;
      if (space >= 0) check.space = ACCESS_SPACES[space];
      checks.push(check);
    }
    return checks;
  }
}

function requireReadFor(actor: Actor, index: TenantIndex, app: number): void {
  if (actor.caller.rights.has('read-permissions-any-application')) return;
  if (app !== NONE && actor.caller.applicationId !== null && actor.caller.rights.has('read-permissions-my-application') && index.apps.get(app).id === actor.caller.applicationId) return;
  requireRight(actor, 'read-permissions-any-application');
}

/** The two answers of a known identity, shared (a batch of 1,000 allocates no answer). */
const ALLOWED: CheckAnswer = Object.freeze({ allowed: true });
const DENIED: CheckAnswer = Object.freeze({ allowed: false });

/** How an error names a check's field: `checks.3.` in a batch (`at` 3), nothing for a single check (`at` -1). */
const fieldPrefix = (at: number): string => (at < 0 ? '' : `checks.${at}.`);
/** How an error's message names a check: `checks[3]: ` in a batch. */
const messagePrefix = (at: number): string => (at < 0 ? '' : `checks[${at}]: `);

/**
 * The check being answered, its strings as spans (one of these per request, refilled for each
 * check: no object per check): a reference is its text from its start to its end — spans of
 * a batch's text, or whole strings.
 */
class CheckRefs {
  identity = '';
  identityStart = 0;
  identityEnd = 0;
  application = '';
  /** Whether the check names an application (else `application` means nothing). */
  hasApplication = false;
  applicationStart = 0;
  applicationEnd = 0;
  permission = '';
  permissionStart = 0;
  permissionEnd = 0;
  contextType: ContextType | undefined = undefined;
  contextId: string | null = null;
  space: AccessSpace = 'assigned';

  /** Refills from a check given as an object. */
  fromInput(c: CheckInput): this {
    this.identity = c.identity;
    this.identityStart = 0;
    this.identityEnd = c.identity.length;
    this.hasApplication = c.application !== undefined;
    this.application = c.application ?? '';
    this.applicationStart = 0;
    this.applicationEnd = this.application.length;
    this.permission = c.permission;
    this.permissionStart = 0;
    this.permissionEnd = c.permission.length;
    this.contextType = c.context?.type;
    this.contextId = c.context?.id ?? null;
    this.space = c.space ?? 'assigned';
    return this;
  }

  /** Refills from the check whose numbers start at `o` in a batch's spans. */
  fromSpans(batch: CheckSpans, o: number): this {
    const { text, spans } = batch;
    this.identity = text;
    this.application = text;
    this.permission = text;
    this.identityStart = spans[o + SPAN.identity]!;
    this.identityEnd = spans[o + SPAN.identity + 1]!;
    this.applicationStart = spans[o + SPAN.application]!;
    this.hasApplication = this.applicationStart >= 0;
    this.applicationEnd = spans[o + SPAN.application + 1]!;
    this.permissionStart = spans[o + SPAN.permission]!;
    this.permissionEnd = spans[o + SPAN.permission + 1]!;
    const type = spans[o + SPAN.contextType]!;
    const id = spans[o + SPAN.contextId]!;
    this.contextType = type < 0 ? undefined : CONTEXT_TYPES[type];
    this.contextId = type < 0 || id < 0 ? null : text.slice(id, spans[o + SPAN.contextId + 1]);
    this.space = spans[o + SPAN.space] === 1 ? 'provisioned' : 'assigned';
    return this;
  }

  identityRef(): string {
    return this.identity.slice(this.identityStart, this.identityEnd);
  }

  applicationRef(): string {
    return this.application.slice(this.applicationStart, this.applicationEnd);
  }

  permissionRef(): string {
    return this.permission.slice(this.permissionStart, this.permissionEnd);
  }
}

/**
 * The permission a check names, once the caller may ask about it. An application or
 * permission that does not exist is a 404 naming which; a caller who may not ask learns
 * nothing about which names exist (rights first).
 */
function targetOf(index: TenantIndex, actor: Actor, c: CheckRefs, at: number): number {
  const app = c.hasApplication ? findApplication(index, c.application, c.applicationStart, c.applicationEnd) : NONE;
  const permission = findPermission(index, app, c.permission, c.permissionStart, c.permissionEnd);
  requireReadFor(actor, index, permission === NONE ? app : index.perms.get(permission).app);
  if (c.hasApplication && app === NONE) {
    throw new AppError('not_found', `${messagePrefix(at)}application ${c.applicationRef()} does not exist`, { errors: [{ field: `${fieldPrefix(at)}application`, message: 'names no application (by id or name)' }] });
  }
  if (permission === NONE) {
    const named = c.hasApplication ? ` in application ${c.applicationRef()}` : '; name its application, or give the permission id';
    throw new AppError('not_found', `${messagePrefix(at)}permission ${c.permissionRef()} does not exist${named}`, {
      errors: [{ field: `${fieldPrefix(at)}permission`, message: c.hasApplication ? 'names no permission of the application' : 'names no permission id' }],
    });
  }
  return permission;
}

const unknownIdentity = (ref: string): CheckAnswer => ({ allowed: false, reason: `identity ${ref} does not exist (by id, subject or username)` });

/**
 * The answers already evaluated in one batch, by (identity, permission, context, space): an
 * open-addressing table sized for the batch, in typed arrays (no object per entry).
 */
class BatchAnswers {
  /** Per entry four numbers: identity, permission, variant, and 0 empty, 1 not held, 2 held. */
  private readonly entries: Int32Array;
  private readonly mask: number;
  /** Contexts other than `all` asked in the batch, numbered from 1 (null until one is asked). */
  private contexts: Map<string, number> | null = null;

  constructor(checks: number) {
    let size = 16;
    while (size < checks * 2) size *= 2;
    this.entries = new Int32Array(size * 4);
    this.mask = size - 1;
  }

  /** One number for the context and space of a check. */
  variant(asked: Readonly<AskedContext>, space: AccessSpace): number {
    const provisioned = space === 'provisioned' ? 1 : 0;
    if (asked.type === 'all') return provisioned;
    this.contexts ??= new Map();
    const key = contextMapKey(asked.type, asked.id);
    let n = this.contexts.get(key);
    if (n === undefined) this.contexts.set(key, (n = this.contexts.size + 1));
    return n * 2 + provisioned;
  }

  /** The entry of the key (the offset of its four numbers): the one holding it, or the empty one to store it in. */
  entry(identity: number, permission: number, variant: number): number {
    let h = Math.imul(identity, 0x9e3779b1) ^ Math.imul(permission + 1, 0x85ebca6b) ^ Math.imul(variant + 1, 0xc2b2ae35);
    h ^= h >>> 15;
    const { entries, mask } = this;
    for (let at = h & mask; ; at = (at + 1) & mask) {
      const k = at * 4;
      if (entries[k + 3] === 0 || (entries[k] === identity && entries[k + 1] === permission && entries[k + 2] === variant)) return k;
    }
  }

  /** The answer stored in `entry`, or undefined when it is empty. */
  answer(entry: number): CheckAnswer | undefined {
    const held = this.entries[entry + 3];
    return held === 0 ? undefined : held === 2 ? ALLOWED : DENIED;
  }

  store(entry: number, identity: number, permission: number, variant: number, allowed: boolean): void {
    const { entries } = this;
    entries[entry] = identity;
    entries[entry + 1] = permission;
    entries[entry + 2] = variant;
    entries[entry + 3] = allowed ? 2 : 1;
  }
}

/** What every check of one request shares. */
interface Asking {
  index: TenantIndex;
  actor: Actor;
  now: number;
  /** Null for a single check. */
  answers: BatchAnswers | null;
}

/**
 * Answers one check (see {@link targetOf} for its errors; `at`: its index in a batch, -1
 * alone); an identity that does not exist is not allowed (fail closed), with a `reason`.
 */
function answerCheck(asking: Asking, c: CheckRefs, at: number): CheckAnswer {
  const { index, answers } = asking;
  const permission = targetOf(index, asking.actor, c, at);
  const identity = findIdentity(index, c.identity, c.identityStart, c.identityEnd);
  if (identity === NONE) return unknownIdentity(c.identityRef());
  const asked = askContext(index, c.contextType === undefined ? undefined : { type: c.contextType, id: c.contextId });
  if (answers === null) return checkSlots(index, identity, permission, asked, asking.now, c.space) ? ALLOWED : DENIED;
  const variant = answers.variant(asked, c.space);
  const entry = answers.entry(identity, permission, variant);
  const known = answers.answer(entry);
  if (known !== undefined) return known;
  const allowed = checkSlots(index, identity, permission, asked, asking.now, c.space);
  answers.store(entry, identity, permission, variant, allowed);
  return allowed ? ALLOWED : DENIED;
}

export async function checkAccess(deps: ServiceDeps, actor: Actor, input: CheckInput, options: ReadOptions = {}): Promise<CheckAnswer & { revision: number }> {
  const engine = engineOf(deps);
  const { index, revision } = await engine.at(actor.caller.tenantId, options.minRevision);
  const answer = answerCheck({ index, actor, now: engine.now(), answers: null }, new CheckRefs().fromInput(input), -1);
  return answer.reason === undefined ? { allowed: answer.allowed, revision } : { allowed: answer.allowed, reason: answer.reason, revision };
}

/** Every check of the batch at one revision; one naming an unknown application or permission makes the batch a 404 naming its index. */
export async function checkAccessBatch(deps: ServiceDeps, actor: Actor, checks: readonly CheckInput[] | CheckSpans, options: ReadOptions = {}): Promise<{ results: CheckAnswer[]; revision: number }> {
  const count = checks instanceof CheckSpans ? checks.count : checks.length;
  if (count > MAX_BATCH_CHECKS) {
    throw new AppError('validation_failed', `a batch holds at most ${MAX_BATCH_CHECKS} checks`, { errors: [{ field: 'checks', message: `has more than ${MAX_BATCH_CHECKS} items` }] });
  }
  const engine = engineOf(deps);
  const { index, revision } = await engine.at(actor.caller.tenantId, options.minRevision);
  const asking: Asking = { index, actor, now: engine.now(), answers: count > 1 ? new BatchAnswers(count) : null };
  const refs = new CheckRefs();
  const results = new Array<CheckAnswer>(count);
  if (checks instanceof CheckSpans) {
    for (let i = 0; i < count; i += 1) results[i] = answerCheck(asking, refs.fromSpans(checks, i * SPAN.stride), i);
  } else {
    for (let i = 0; i < count; i += 1) results[i] = answerCheck(asking, refs.fromInput(checks[i]!), i);
  }
  return { results, revision };
}
