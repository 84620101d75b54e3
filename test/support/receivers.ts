/**
 * Real receivers on loopback ports for delivery tests: an HTTP webhook receiver whose
 * behaviour the test switches (accept, fail with a status, hang), a syslog TCP listener
 * that reads octet-counted frames (RFC 6587) and a syslog UDP listener.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
}

export type WebhookMode = { kind: 'accept' } | { kind: 'status'; status: number } | { kind: 'hang' };

export interface WebhookReceiver {
  url: string;
  /** Requests answered 2xx. */
  accepted: ReceivedWebhook[];
  /** Every request that arrived, whatever the answer. */
  attempts: number;
  /** Requests held open in `hang` mode. */
  pending: number;
  mode: WebhookMode;
  /** Answers 400 to bodies that contain this text (a poison payload). */
  refuseBodiesContaining: string | null;
  /** Once this many requests were accepted, answers 503 (a receiver that goes down). */
  failAfterAccepted: number | null;
  /** Answers every held request with 200 (they count as accepted). */
  release(): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const held: { res: ServerResponse; received: ReceivedWebhook }[] = [];
  const receiver: WebhookReceiver = {
    url: '',
    accepted: [],
    attempts: 0,
    pending: 0,
    mode: { kind: 'accept' },
    refuseBodiesContaining: null,
    failAfterAccepted: null,
    release() {
      for (const h of held.splice(0)) {
        receiver.accepted.push(h.received);
        h.res.writeHead(200).end();
      }
      receiver.pending = 0;
    },
    close: async () => {
      receiver.release();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.attempts += 1;
      const received = { headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body: Buffer.concat(chunks).toString('utf8') };
      const mode = receiver.mode;
      if (receiver.refuseBodiesContaining && received.body.includes(receiver.refuseBodiesContaining)) return void res.writeHead(400).end('poison');
      if (mode.kind === 'status') return void res.writeHead(mode.status).end();
      if (receiver.failAfterAccepted !== null && receiver.accepted.length >= receiver.failAfterAccepted) return void res.writeHead(503).end();
      if (mode.kind === 'hang') {
        held.push({ res, received });
        receiver.pending = held.length;
        return;
      }
      receiver.accepted.push(received);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/grantory`;
  return receiver;
}

export interface SyslogListener {
  port: number;
  messages: string[];
  connections: number;
  close(): Promise<void>;
}

/** A TCP syslog listener: frames are `MSG-LEN SP SYSLOG-MSG` (octet counting); it closes its side at EOF. */
export async function startSyslogTcpListener(): Promise<SyslogListener> {
  const listener: SyslogListener = { port: 0, messages: [], connections: 0, close: async () => undefined };
  const server = createTcpServer((socket) => {
    listener.connections += 1;
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        let i = 0;
        while (i < buffer.length && buffer[i]! >= 0x30 && buffer[i]! <= 0x39) i += 1;
        if (i === buffer.length) break;
        if (buffer[i] !== 0x20 || i === 0) {
          socket.destroy(new Error('not octet-counted'));
          return;
        }
        const length = Number(buffer.subarray(0, i).toString('ascii'));
        if (buffer.length < i + 1 + length) break;
        listener.messages.push(buffer.subarray(i + 1, i + 1 + length).toString('utf8'));
        buffer = buffer.subarray(i + 1 + length);
      }
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  listener.port = (server.address() as AddressInfo).port;
  listener.close = async () => {
    await new Promise<void>((r) => server.close(() => r()));
  };
  return listener;
}

export async function startSyslogUdpListener(): Promise<SyslogListener> {
  const socket = createSocket('udp4');
  const listener: SyslogListener = { port: 0, messages: [], connections: 0, close: async () => new Promise<void>((r) => socket.close(() => r())) };
  socket.on('message', (msg: Buffer) => listener.messages.push(msg.toString('utf8')));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  listener.port = socket.address().port;
  return listener;
}

/** Polls `condition` every 20 ms, for at most `timeoutMs`; throws with `what` when it never holds. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
