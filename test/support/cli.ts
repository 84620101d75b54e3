/**
 * Runs the real `grantory` command (`bin/grantory.js`) as a child process: one-shot commands
 * to completion, and servers that are started, talked to, signalled and always killed.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/grantory.js');

/**
 * Test options for suites that spawn processes. A start takes about a second on an idle
 * machine; the generous bound keeps a busy shared machine from failing tests that are only
 * slow, while a hung process still fails.
 */
export const PROCESS_TIMEOUT = { timeout: 120_000 };

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The parent's environment without any Grantory setting, so a test states all of its own;
 * one server process (GRANTORY_WORKERS=1) unless the test sets it.
 */
export function cleanEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { GRANTORY_WORKERS: '1' };
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('GRANTORY_') || name === 'DATABASE_URL') continue;
    base[name] = value;
  }
  return { ...base, ...env };
}

/** Runs `grantory <args>` to completion. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolveRun({ code, signal, stdout, stderr }));
  });
}

/** A temporary directory; `remove()` deletes it. */
export function tempDir(label: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `grantory-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  /** `http://localhost:<port>` as the server printed it. */
  url: string;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when output matching `pattern` has appeared on stdout. */
  waitForStdout(pattern: RegExp): Promise<void>;
  /** Resolves when output matching `pattern` has appeared on stderr. */
  waitForStderr(pattern: RegExp): Promise<void>;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILLs the process if it still runs and waits for it to end. */
  kill(): Promise<void>;
}

/** Children not yet ended, so that a failed or timed-out test still ends them. */
const children = new Set<ChildProcessWithoutNullStreams>();

async function killChild(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const ended = new Promise<void>((resolveEnd) => child.once('close', () => resolveEnd()));
  child.kill('SIGKILL');
  await ended;
}

/**
 * Starts `grantory serve` on a free port (GRANTORY_PORT=0) and resolves once it prints
 * its address; rejects with its output if it exits first.
 */
export function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: cleanEnv({ GRANTORY_PORT: '0', GRANTORY_HOST: '127.0.0.1', GRANTORY_LOG_LEVEL: 'silent', ...env }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  const waiters: { stream: 'stdout' | 'stderr'; pattern: RegExp; resolve: () => void }[] = [];
  const wake = () => {
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(waiter.stream === 'stdout' ? stdout : stderr)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const waitFor = (stream: 'stdout' | 'stderr', pattern: RegExp) =>
    new Promise<void>((resolveWait) => {
      waiters.push({ stream, pattern, resolve: resolveWait });
      wake();
    });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.on('close', (code, signal) => {
      children.delete(child);
      resolveExit({ code, signal });
    });
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    wake();
  });
  return new Promise((resolveStart, rejectStart) => {
    let started = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      wake();
      const match = /Grantory listening on (http:\/\/\S+)/.exec(stdout);
      if (match && !started) {
        started = true;
        const server: ServerProcess = {
          child,
          url: match[1]!,
          stdout: () => stdout,
          stderr: () => stderr,
          waitForStdout: (pattern) => waitFor('stdout', pattern),
          waitForStderr: (pattern) => waitFor('stderr', pattern),
          exited,
          kill: () => killChild(child),
        };
        resolveStart(server);
      }
    });
    void exited.then(({ code, signal }) => {
      if (!started) rejectStart(new Error(`grantory serve exited (${code ?? signal}) before listening:\n${stdout}${stderr}`));
    });
  });
}

/** Kills every server a test started that has not ended (for afterAll/afterEach). */
export async function killAllServers(): Promise<void> {
  await Promise.all([...children].map((c) => killChild(c)));
}

/** A reply typed on the terminal once its output matches `when`. */
export interface TerminalAnswer {
  when: RegExp;
  type: string;
}

/**
 * Runs a shell command line on a pseudo-terminal (util-linux `script`), typing each answer once
 * the output shows its prompt; resolves with the exit code and what the terminal showed
 * (stdout and stderr together, as a user sees them).
 */
export function runOnTerminal(commandLine: string, env: Record<string, string>, answers: TerminalAnswer[] = []): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('script', ['-qefc', commandLine, '/dev/null'], { env: cleanEnv({ TERM: 'xterm-256color', ...env }), stdio: [answers.length ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const pending = [...answers];
    let output = '';
    const seen = (d: Buffer) => {
      output += d.toString();
      while (pending[0] && pending[0].when.test(output)) child.stdin?.write(pending.shift()!.type);
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, output }));
  });
}
