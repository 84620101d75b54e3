/** Turning command-line values into the API's query parameters and JSON bodies. */
import { readFileSync } from 'node:fs';
import { CliFailure, EXIT } from './exit-codes.ts';
import type { FieldSpec } from './operation-spec.ts';

/** `firstName` -> `first-name` (commander turns it back into `firstName`). */
export const kebab = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
export const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function readSource(value: string, flag: string): string {
  if (value === '-') return readFileSync(0, 'utf8');
  if (value.startsWith('@')) {
    try {
      return readFileSync(value.slice(1), 'utf8');
    } catch (e) {
      throw new CliFailure(`${flag}: cannot read ${value.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, EXIT.usage);
    }
  }
  return value;
}

/**
 * A JSON-valued flag: JSON (`{"type":"identity","id":"..."}`), `@file` or `-` for stdin, or the
 * shorthand `key=value,key=value` for a flat object of strings.
 */
export function parseJsonValue(raw: string, flag: string): unknown {
  const text = readSource(raw, flag).trim();
  if (/^[[{"]/.test(text) || /^(-?\d|true$|false$|null$)/.test(text)) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new CliFailure(`${flag}: not valid JSON: ${(e as Error).message}`, EXIT.usage);
    }
  }
  const pairs = text.split(',').map((pair) => pair.split('='));
  if (text && pairs.every((p) => p.length >= 2 && p[0])) return Object.fromEntries(pairs.map(([key = '', ...rest]) => [key.trim(), rest.join('=')]));
  throw new CliFailure(`${flag}: give JSON, @file, - (stdin) or key=value,key=value`, EXIT.usage);
}

/** The body given with --data (JSON, @file, or - for stdin). */
export function parseData(raw: string): Record<string, unknown> {
  const value = parseJsonValue(raw, '--data');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CliFailure('--data: needs a JSON object', EXIT.usage);
  return value as Record<string, unknown>;
}

/** A flag's value as the field's type (commander hands over strings, string lists and booleans). */
export function convert(field: FieldSpec, value: unknown): unknown {
  const flag = `--${kebab(field.name)}`;
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.flatMap((v: string) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const text = String(value);
  switch (field.type) {
    case 'integer':
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n) || (field.type === 'integer' && !Number.isInteger(n))) throw new CliFailure(`${flag}: "${text}" is not ${field.type === 'integer' ? 'a whole number' : 'a number'}`, EXIT.usage);
      return n;
    }
    case 'boolean':
      if (text === 'true' || text === 'false') return text === 'true';
      throw new CliFailure(`${flag}: "${text}" is not true or false`, EXIT.usage);
    case 'json':
      return parseJsonValue(text, flag);
    case 'string[]':
      return text.split(',').map((v) => v.trim()).filter(Boolean);
    default:
      return text;
  }
}
