/**
 * SCIM PATCH (RFC 7644 §3.5.2) with `scim-patch`: the operations are applied to the
 * resource as SCIM shows it, and the result is written like a PUT. Before that, the forms
 * identity providers send are brought to the RFC's:
 *
 * - Entra capitalises operations (`"op": "Replace"`, `"Add"`, `"Remove"`): any case is taken;
 * - Entra sends booleans as strings (`"value": "False"`): the resource mappers read
 *   `"True"`/`"False"` as booleans (`scimBoolean`);
 * - Entra removes values with a value list: each becomes a remove by value path;
 * - Okta and Entra send value paths (`members[value eq "…"]`, `emails[type eq "work"].value`)
 *   and operations without a path whose value holds the attributes (`{"active": false}`),
 *   which `scim-patch` applies as the RFC says.
 *
 * A path that names nothing, a malformed value path or a `remove` without a path is a 400
 * with the library's `scimType` (`invalidPath`, `noTarget`, `invalidValue`).
 */
import { scimPatch, ScimError, type ScimPatchOperation, type ScimResource as PatchableResource } from 'scim-patch';
import { AppError } from '../../domain/errors.ts';
import { SCIM_MAX_OPERATIONS, scimError, type ScimType } from '../../domain/scim.ts';
import type { ScimResource } from './resources.ts';

export interface PatchOperation {
  op: string;
  path?: string | undefined;
  value?: unknown;
}

const OPERATIONS = new Set(['add', 'replace', 'remove']);
const SCIM_TYPES = new Set<string>(['invalidFilter', 'tooMany', 'uniqueness', 'mutability', 'invalidSyntax', 'invalidPath', 'noTarget', 'invalidValue', 'sensitive']);

function invalidPatch(message: string, scimType: ScimType, field = 'Operations'): AppError {
  return new AppError('validation_failed', message, { errors: [{ field, message }], details: scimError(scimType) });
}

/** The checked, lower-cased operations of a PatchOp body's `Operations`. */
export function patchOperations(operations: readonly PatchOperation[]): ScimPatchOperation[] {
  if (!operations.length) throw invalidPatch('Operations must hold at least one operation', 'invalidSyntax');
  if (operations.length > SCIM_MAX_OPERATIONS) throw invalidPatch(`Operations may hold at most ${SCIM_MAX_OPERATIONS} operations`, 'tooMany');
  return operations.map((operation, i) => {
    const op = String(operation.op).toLowerCase();
    if (!OPERATIONS.has(op)) throw invalidPatch(`Operations[${i}].op must be add, replace or remove, not "${operation.op}"`, 'invalidSyntax', `Operations[${i}].op`);
    if (op === 'remove' && !operation.path) throw invalidPatch(`Operations[${i}]: remove needs a path`, 'noTarget', `Operations[${i}].path`);
    if (op !== 'remove' && operation.value === undefined) throw invalidPatch(`Operations[${i}]: ${op} needs a value`, 'invalidValue', `Operations[${i}].value`);
    return { op, ...(operation.path ? { path: operation.path } : {}), ...(operation.value !== undefined ? { value: operation.value } : {}) } as ScimPatchOperation;
  }).flatMap(removeByValue);
}

/**
 * Entra removes members with a value list (`{"op":"Remove","path":"members","value":[{"value":"id","$ref":null}]}`):
 * one remove by value path (`members[value eq "id"]`) each, so the values match by `value`
 * alone rather than as whole objects.
 */
function removeByValue(operation: ScimPatchOperation): ScimPatchOperation[] {
  const { path, value } = operation as { path?: string; value?: unknown };
  if (operation.op !== 'remove' || !path || path.includes('[') || !Array.isArray(value)) return [operation];
  const values = value.map((v) => (v && typeof v === 'object' ? (v as { value?: unknown }).value : undefined));
  if (!values.every((v): v is string => typeof v === 'string')) return [operation];
  return values.map((v) => ({ op: 'remove', path: `${path}[value eq ${JSON.stringify(v)}]` }));
}

/** `resource` with `operations` applied (a copy; `resource` is not changed). */
export function applyPatch<T extends ScimResource>(resource: T, operations: readonly PatchOperation[]): T & Record<string, unknown> {
  const checked = patchOperations(operations);
  try {
    return scimPatch(resource as unknown as PatchableResource, checked, { mutateDocument: false, treatMissingAsAdd: true }) as unknown as T & Record<string, unknown>;
  } catch (e) {
    if (e instanceof ScimError) {
      const scimType = e.scimCode && SCIM_TYPES.has(e.scimCode) ? (e.scimCode as ScimType) : 'invalidValue';
      throw invalidPatch(`the operations cannot be applied: ${e.message}`, scimType);
    }
    throw e;
  }
}
