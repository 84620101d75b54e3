/**
 * fast-check arbitraries from the JSON schemas of the OpenAPI document (the subset TypeBox
 * emits): {@link validOf} draws values a schema accepts, {@link brokenOf} values it refuses
 * or that sit on its edges (wrong types, lengths one past the bound, huge numbers, missing
 * and unknown fields) and strings attackers like (control characters, bidirectional
 * overrides, look-alikes, formula and path tricks).
 *
 * ```ts
 * const body = fc.sample(validOf(schema, hints), { seed: 42, numRuns: 5 });
 * ```
 */
import fc from 'fast-check';

export type Schema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  additionalProperties?: boolean | Schema;
  patternProperties?: Record<string, Schema>;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  pattern?: string;
};

/** Values to use for a field by its name (ids of objects that exist), or null. */
export type Hints = (field: string) => fc.Arbitrary<unknown> | null;

export const NASTY_STRINGS = [
  '\u0000',
  'a\u0000b',
  '\u0001\u001f\u007f',
  '\u202eadmin',
  'adm\u200bin',
  'ａｄｍｉｎ',
  'аdmin',
  'e\u0301',
  '\ud800',
  '\udfff\ud800',
  '😀'.repeat(20),
  '=1+1',
  '@SUM(A1)',
  '../../etc/passwd',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  'GRANTORY:admin',
  ' ',
  '\t\n\r',
  '%00',
  '__proto__',
];

export const HUGE_NUMBERS = [2 ** 53 + 1, -(2 ** 53 + 1), 1e308, -1e308, 2 ** 31, -(2 ** 31) - 1, 1.5, -1, 0];

const typeOf = (schema: Schema): string | undefined => {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null') ?? 'null';
  if (schema.type) return schema.type;
  if (schema.properties || schema.patternProperties) return 'object';
  return undefined;
};

function stringOf(schema: Schema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 40, Math.max(min, 40));
  const fit = (s: string) => (s.length > max ? s.slice(0, max) : s.padEnd(min, 'x'));
  switch (schema.format) {
    case 'date-time':
      return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
    case 'date':
      return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    case 'email':
      return fc.emailAddress().filter((s) => s.length >= min && s.length <= (schema.maxLength ?? 320));
    case 'uri':
      return fc.webUrl().filter((s) => s.length <= (schema.maxLength ?? 2000));
    case 'uuid':
      return fc.uuid();
    default:
      break;
  }
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= min && s.length <= (schema.maxLength ?? Infinity));
  return fc.oneof(fc.string({ unit: 'grapheme-ascii', minLength: min, maxLength: max }), fc.string({ unit: 'grapheme', maxLength: max })).map(fit);
}

function numberOf(schema: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = Math.max(schema.minimum ?? -1_000_000, -(2 ** 31));
  const max = Math.min(schema.maximum ?? 1_000_000, 2 ** 31);
  return integer ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) }) : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

function objectOf(schema: Schema, hints: Hints, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const required = new Set(schema.required ?? []);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const hinted = hints(key);
    model[key] = hinted ? fc.oneof({ arbitrary: hinted, weight: 3 }, { arbitrary: validOf(prop, hints, depth + 1), weight: 1 }) : validOf(prop, hints, depth + 1);
  }
  const optional = Object.keys(model).filter((k) => !required.has(k));
  const base = fc.record(model, { requiredKeys: [...required].filter((k) => k in model) });
  const extra = schema.additionalProperties && typeof schema.additionalProperties === 'object' ? schema.additionalProperties : schema.patternProperties ? Object.values(schema.patternProperties)[0] : undefined;
  if (!extra || depth > 3) return optional.length || required.size ? base : fc.constant({});
  return fc.tuple(base, fc.dictionary(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }), validOf(extra, hints, depth + 1), { maxKeys: 3 })).map(([a, b]) => ({ ...b, ...a }));
}

/** Values `schema` accepts (within small sizes); `hints` supplies existing ids by field name. */
export function validOf(schema: Schema, hints: Hints, depth = 0): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => validOf(s, hints, depth + 1)));
  if (schema.allOf) {
    return fc.tuple(...schema.allOf.map((s) => validOf(s, hints, depth + 1))).map((parts) => Object.assign({}, ...parts.filter((p) => p && typeof p === 'object')) as unknown);
  }
  switch (typeOf(schema)) {
    case 'string':
      return stringOf(schema);
    case 'integer':
      return numberOf(schema, true);
    case 'number':
      return numberOf(schema, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.min(schema.maxItems ?? 4, Math.max(minLength, 4));
      return fc.array(validOf(schema.items ?? {}, hints, depth + 1), { minLength, maxLength });
    }
    case 'object':
      return objectOf(schema, hints, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const WRONG_TYPES: Record<string, unknown[]> = {
  string: [42, true, null, [], {}],
  integer: ['12', 1.5, true, null, [], {}],
  number: ['1e3', true, null, [], {}],
  boolean: ['true', 1, null, []],
  array: ['x', 1, {}, null],
  object: ['x', 1, [], null],
};

function brokenStringOf(schema: Schema): fc.Arbitrary<unknown> {
  const edges: unknown[] = [...NASTY_STRINGS, 'x'.repeat(10_000)];
  if (schema.maxLength !== undefined) edges.push('x'.repeat(schema.maxLength + 1), 'é'.repeat(schema.maxLength + 1), 'x'.repeat(schema.maxLength));
  if ((schema.minLength ?? 0) > 0) edges.push('');
  if (schema.format) edges.push('not-a-' + schema.format, '2024-02-30T25:61:00Z');
  return fc.constantFrom(...edges);
}

/**
 * Values that break `schema` or sit on its edges: the wrong type, a bound crossed, a
 * required field missing, an unknown field, or one property broken (recursively).
 */
export function brokenOf(schema: Schema, hints: Hints, depth = 0): fc.Arbitrary<unknown> {
  const type = typeOf(schema);
  const wrong = fc.constantFrom(...(WRONG_TYPES[type ?? 'object'] ?? WRONG_TYPES.object!));
  if (schema.enum || schema.const !== undefined) return fc.oneof(wrong, fc.constantFrom('not-a-member', 'ACTIVE', '', '\u0000'));
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(fc.constantFrom(...NASTY_STRINGS, ...HUGE_NUMBERS, {}, []), ...alternatives.map((s) => brokenOf(s, hints, depth + 1)));
  if (schema.allOf) return fc.oneof(...schema.allOf.map((s) => brokenOf(s, hints, depth + 1)));
  switch (type) {
    case 'string':
      return fc.oneof(wrong, brokenStringOf(schema));
    case 'integer':
    case 'number': {
      const edges = [...HUGE_NUMBERS];
      if (schema.minimum !== undefined) edges.push(schema.minimum - 1);
      if (schema.maximum !== undefined) edges.push(schema.maximum + 1, schema.maximum);
      return fc.oneof(wrong, fc.constantFrom(...edges));
    }
    case 'array': {
      const tooMany = Array.from({ length: (schema.maxItems ?? 1000) + 1 }, (_, i) => i);
      const item = schema.items ?? {};
      return fc.oneof(wrong, fc.constant(tooMany), fc.tuple(validOf(schema, hints, depth + 1), brokenOf(item, hints, depth + 1)).map(([ok, bad]) => [...(Array.isArray(ok) ? ok : []), bad]));
    }
    case 'object': {
      const props = Object.keys(schema.properties ?? {});
      const valid = objectOf(schema, hints, depth);
      const choices: fc.Arbitrary<unknown>[] = [wrong, valid.map((v) => ({ ...v, unknownField: 'x' }))];
      const required = schema.required ?? [];
      if (required.length) choices.push(fc.tuple(valid, fc.constantFrom(...required)).map(([v, k]) => Object.fromEntries(Object.entries(v).filter(([key]) => key !== k))));
      if (props.length && depth < 4) {
        choices.push(
          fc
            .tuple(valid, fc.constantFrom(...props))
            .chain(([v, k]) => brokenOf(schema.properties![k]!, hints, depth + 1).map((bad) => ({ ...v, [k]: bad }))),
        );
      }
      return fc.oneof(...choices);
    }
    default:
      return fc.oneof(wrong, fc.constantFrom(...NASTY_STRINGS));
  }
}
