/**
 * The client commands cannot drift from the API: operations.generated.ts is what
 * scripts/cli-operations.js makes from openapi.json today, every command's operation exists
 * there with its method and path, every command's help has examples, and no API field is
 * lost to a clash with the commands' own flags.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { generate } from '../../scripts/cli-operations.js';
import { CHECK_COMMAND, CLIENT_GROUPS } from '../../src/cli/client/commands.ts';
import type { OperationSpec } from '../../src/cli/client/operation-spec.ts';
import { OPERATIONS } from '../../src/cli/client/operations.generated.ts';
import { registerClientCommands } from '../../src/cli/client/register.ts';
import { createProgram } from '../../src/cli/main.ts';

const root = resolve(import.meta.dirname, '../..');
const document = JSON.parse(readFileSync(resolve(root, 'openapi.json'), 'utf8')) as { paths: Record<string, Record<string, { operationId?: string }>> };

const leaves = (command: Command): Command[] => (command.commands.length ? command.commands.flatMap(leaves) : [command]);
const pathOf = (command: Command): string => (command.parent ? `${pathOf(command.parent)} ${command.name()}` : command.name());

describe('the client commands and openapi.json', () => {
  it('operations.generated.ts is generated from the current openapi.json', () => {
    expect(readFileSync(resolve(root, 'src/cli/client/operations.generated.ts'), 'utf8')).toBe(generate(document));
  });

  it("every command calls an operation of the document, with the document's method and path", () => {
    for (const command of [...CLIENT_GROUPS.flatMap((g) => g.commands), CHECK_COMMAND]) {
      const spec = OPERATIONS[command.op];
      expect(document.paths[spec.path]?.[spec.method.toLowerCase()]?.operationId, command.op).toBe(command.op);
    }
  });

  it('the groups the issue asks for are there', () => {
    const names = CLIENT_GROUPS.map((g) => `${g.name}: ${g.commands.map((c) => c.name).join(' ')}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'identities: list get create update delete',
        expect.stringMatching(/^applications: list get create update delete/),
        expect.stringMatching(/^permissions: /),
        expect.stringMatching(/^roles: /),
        expect.stringMatching(/^assignments: list get grant pause resume revoke/),
        'access: list explain holders drift at',
        expect.stringMatching(/^imports: .*stage upload cancel .*watch/),
        expect.stringMatching(/^requests: /),
        expect.stringMatching(/^approvals: /),
        'audit: list export',
        'exports: effective-permissions',
        expect.stringMatching(/^api-keys: /),
        expect.stringMatching(/^clients: /),
        'approval-policies: list get create update delete',
        'sod-policies: list get create update delete',
        'sod-violations: list',
        'sod-exceptions: list get create revoke',
        expect.stringMatching(/^reviews: list get create start close items progress decide decide-many delegate report/),
        'personnel-events: list get onboard offboard role-transition leave preview update cancel comment',
        'event-sinks: list get create retry delete',
        'settings: get update',
      ]),
    );
  });

  it('every delete, revoke and cancel takes --yes; a run builds only the group it names', () => {
    const program = createProgram({ io: { out: () => {}, err: () => {} }, finish: () => {} }, registerClientCommands);
    const destructive = program.commands.flatMap(leaves).filter((c) => ['delete', 'revoke', 'cancel'].includes(c.name()) && c.parent?.name() !== 'grantory');
    expect(destructive.map(pathOf)).toEqual(expect.arrayContaining(['grantory identities delete', 'grantory assignments revoke', 'grantory personnel-events cancel', 'grantory event-sinks delete']));
    for (const command of destructive) expect(command.options.map((o) => o.long), pathOf(command)).toContain('--yes');
    const one = createProgram({ io: { out: () => {}, err: () => {} }, finish: () => {} }, (p, c) => registerClientCommands(p, c, 'reviews'));
    const names = one.commands.map((c) => c.name());
    expect(names).toContain('reviews');
    expect(names).not.toContain('identities');
  });

  it('every client command has examples in its help, and every API field a flag', () => {
    const program = createProgram({ io: { out: () => {}, err: () => {} }, finish: () => {} }, registerClientCommands);
    const client = new Set([...CLIENT_GROUPS.map((g) => g.name), 'check', 'login', 'logout', 'profiles', 'api', 'completion']);
    const commands = program.commands.filter((c) => client.has(c.name())).flatMap(leaves).filter((c) => !['verify', 'checkpoint'].includes(c.name()));
    expect(commands.length).toBeGreaterThan(60);
    for (const command of commands) {
      let help = '';
      command.configureOutput({ writeOut: (text) => (help += text), writeErr: (text) => (help += text) });
      command.outputHelp();
      expect(help, pathOf(command)).toMatch(/\nExamples:\n {2}\$ .*grantory /);
    }
    for (const command of [...CLIENT_GROUPS.flatMap((g) => g.commands.map((c) => ({ c, parent: g.name }))), { c: CHECK_COMMAND, parent: '' }]) {
      const built = commands.find((b) => pathOf(b) === `grantory ${command.parent ? `${command.parent} ` : ''}${command.c.name}`);
      expect(built, command.c.name).toBeDefined();
      const flags = new Set(built!.options.map((o) => o.long));
      const spec: OperationSpec = OPERATIONS[command.c.op];
      for (const field of [...spec.query, ...(spec.body?.fields ?? [])]) {
        const flag = `--${field.name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
        expect(flags.has(flag), `${pathOf(built!)} ${flag}`).toBe(true);
      }
    }
  });
});
