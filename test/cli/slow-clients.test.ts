/**
 * Slow and greedy clients against the real server process: trickled headers and bodies are
 * cut at their timeouts, connections beyond the cap are closed, idle keep-alive connections
 * end, and a stuck client cannot hold up a SIGTERM beyond the grace period. The timeouts are
 * set short here; the defaults are in src/config.ts.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllServers, PROCESS_TIMEOUT, startServer, tempDir, type ServerProcess } from '../support/cli.ts';

const KEY = 'slow-clients-admin-key-0123456789abcdefghij';

const cleanups: (() => void)[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await killAllServers();
  for (const cleanup of cleanups.splice(0)) cleanup();
});
afterAll(killAllServers);

async function serve(env: Record<string, string>): Promise<ServerProcess> {
  const dir = tempDir('slow-clients');
  cleanups.push(() => dir.remove());
  return startServer({ GRANTORY_DATA_DIR: dir.path, GRANTORY_BOOTSTRAP_ADMIN_KEY: KEY, ...env });
}

/** A raw TCP connection to the server, with what it received and when it was closed. */
interface RawClient {
  socket: Socket;
  received(): string;
  /** Milliseconds from connecting until the server closed the connection. */
  closed: Promise<number>;
}

async function open(server: ServerProcess): Promise<RawClient> {
  const { hostname, port } = new URL(server.url);
  const socket = connect({ host: hostname === 'localhost' ? '127.0.0.1' : hostname, port: Number(port) });
  sockets.push(socket);
  let received = '';
  const started = Date.now();
  socket.on('data', (d: Buffer) => (received += d.toString()));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolveClose) => socket.on('close', () => resolveClose(Date.now() - started)));
  await new Promise<void>((resolveConnect, reject) => {
    socket.once('connect', resolveConnect);
    socket.once('error', reject);
  });
  return { socket, received: () => received, closed };
}

/** Writes `chunk` every `ms` until the socket is closed. */
function trickle(client: RawClient, chunk: string, ms: number): void {
  const timer = setInterval(() => {
    if (client.socket.destroyed || client.socket.writableEnded) clearInterval(timer);
    else client.socket.write(chunk);
  }, ms);
  void client.closed.then(() => clearInterval(timer));
}

/** Resolves with whether `client` is still open after `ms`. */
async function stillOpenAfter(client: RawClient, ms: number): Promise<boolean> {
  const open = await Promise.race([client.closed.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);
  return open;
}

describe('slow clients', PROCESS_TIMEOUT, () => {
  it('cuts a client that trickles its headers after the header timeout', async () => {
    const server = await serve({ GRANTORY_HEADERS_TIMEOUT: '1', GRANTORY_REQUEST_TIMEOUT: '60' });
    const client = await open(server);
    client.socket.write('GET /livez HTTP/1.1\r\nHost: x\r\n');
    trickle(client, 'X-Slow: y\r\n', 100);
    const closedAfter = await client.closed;
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(closedAfter).toBeLessThan(10_000);
    expect(client.received()).not.toMatch(/^HTTP\/1\.1 200/);
    // The server still serves everyone else.
    expect((await fetch(`${server.url}/livez`)).status).toBe(200);
  });

  it('cuts a client that trickles a body after the request timeout, authenticated or not', async () => {
    const server = await serve({ GRANTORY_HEADERS_TIMEOUT: '30', GRANTORY_REQUEST_TIMEOUT: '1', GRANTORY_UPLOAD_TIMEOUT: '3600' });
    const heads = [
      `POST /api/v1/api-keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`,
      // An upload route gets the longer deadline only once its caller is authenticated.
      'POST /api/v1/imports/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n',
    ];
    const clients = await Promise.all(heads.map(() => open(server)));
    clients.forEach((client, i) => {
      client.socket.write(heads[i]!);
      trickle(client, ' ', 100);
    });
    for (const client of clients) {
      const closedAfter = await client.closed;
      expect(closedAfter).toBeGreaterThanOrEqual(900);
      expect(closedAfter).toBeLessThan(10_000);
    }
  });

  it('gives an authenticated upload the upload timeout instead', async () => {
    const server = await serve({ GRANTORY_HEADERS_TIMEOUT: '30', GRANTORY_REQUEST_TIMEOUT: '1', GRANTORY_UPLOAD_TIMEOUT: '3' });
    const client = await open(server);
    client.socket.write(
      `POST /api/v1/imports/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n`,
    );
    trickle(client, ' ', 100);
    expect(await stillOpenAfter(client, 2000)).toBe(true);
    const closedAfter = await client.closed;
    expect(closedAfter).toBeGreaterThanOrEqual(2900);
    expect(closedAfter).toBeLessThan(15_000);
  });

  it('closes connections beyond the cap as they arrive', async () => {
    const server = await serve({ GRANTORY_HEADERS_TIMEOUT: '60', GRANTORY_MAX_CONNECTIONS: '3' });
    const held = await Promise.all([0, 1, 2].map(() => open(server)));
    for (const client of held) client.socket.write('GET /livez HTTP/1.1\r\nHost: x\r\n');
    const extra = await open(server);
    extra.socket.write('GET /livez HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await extra.closed).toBeLessThan(5000);
    expect(extra.received()).toBe('');
    for (const client of held) expect(await stillOpenAfter(client, 10)).toBe(true);
    // Once one is released, a new client is served.
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${server.url}/livez`)).status).toBe(200);
  });

  it('serves several requests on one keep-alive connection and closes it once idle', async () => {
    const server = await serve({ GRANTORY_KEEP_ALIVE_TIMEOUT: '1' });
    const client = await open(server);
    const request = `GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n\r\n`;
    const answers = (): number => client.received().match(/HTTP\/1\.1 200 OK\r\n/g)?.length ?? 0;
    for (let i = 1; i <= 3; i += 1) {
      client.socket.write(request);
      while (answers() < i && !client.socket.destroyed) await new Promise((r) => setTimeout(r, 20));
    }
    expect(answers()).toBe(3);
    expect(client.received()).toContain('Connection: keep-alive');
    const answered = Date.now();
    await client.closed;
    expect(Date.now() - answered).toBeLessThan(5000);
  });
});

describe('shutdown with a stuck client', PROCESS_TIMEOUT, () => {
  it('exits 0 within the grace period although a request is still arriving', async () => {
    const server = await serve({ GRANTORY_HEADERS_TIMEOUT: '60', GRANTORY_REQUEST_TIMEOUT: '600', GRANTORY_SHUTDOWN_GRACE: '1', GRANTORY_LOG_LEVEL: 'debug', GRANTORY_LOG_FORMAT: 'json' });
    const client = await open(server);
    client.socket.write(`POST /api/v1/api-keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`);
    trickle(client, ' ', 100);
    await server.waitForStdout(/"msg":"incoming request"/);
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(server.stderr()).toContain('grantory: closing connections still open after the 1 s grace period');
    await client.closed;
  });
});
