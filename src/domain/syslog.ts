/**
 * RFC 5424 syslog messages and their framing: octet counting over TCP (RFC 6587 §3.4.1,
 * `LEN SP MSG`) and one message per datagram over UDP (RFC 5426).
 *
 * ```ts
 * syslogMessage({ facility: 13, severity: 5, time, hostname: 'gty1', appName: 'grantory',
 *   procId: '-', msgId: 'identity.create', structuredData: [['grantory@32473', { seq: '7' }]], message: '{...}' });
 * // '<109>1 2026-11-25T10:00:00.000Z gty1 grantory - identity.create [grantory@32473 seq="7"] \uFEFF{...}'
 * ```
 */

export interface SyslogMessage {
  /** 0-23; 13 is "log audit". */
  facility: number;
  /** 0 emergency ... 7 debug; 5 notice, 4 warning. */
  severity: number;
  time: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  /** SD elements: [SD-ID, params]. */
  structuredData: [string, Record<string, string>][];
  message: string;
}

/** A header field: printable US-ASCII without spaces, bounded, `-` when empty. */
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean || '-';
}

/** SD-PARAM values escape `"`, `\` and `]` (RFC 5424 §6.3.3). */
export function escapeSdValue(value: string): string {
  return value.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

const SD_NAME = /[^\x21-\x7e]|[= \]"]/g;

export function syslogMessage(m: SyslogMessage): string {
  const pri = m.facility * 8 + m.severity;
  const sd = m.structuredData.length
    ? m.structuredData
        .map(([id, params]) => `[${id.replace(SD_NAME, '_').slice(0, 32)}${Object.entries(params).map(([k, v]) => ` ${k.replace(SD_NAME, '_').slice(0, 32)}="${escapeSdValue(v)}"`).join('')}]`)
        .join('')
    : '-';
  // The BOM marks the MSG as UTF-8 (RFC 5424 §6.4).
  return `<${pri}>1 ${m.time} ${headerField(m.hostname, 255)} ${headerField(m.appName, 48)} ${headerField(m.procId, 128)} ${headerField(m.msgId, 32)} ${sd} \uFEFF${m.message}`;
}

/** Octet-counting framing for TCP: the byte length, a space, the message. */
export function octetCounted(message: string): Buffer {
  const bytes = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${bytes.length} `, 'ascii'), bytes]);
}

/**
 * Splits an octet-counted TCP stream into messages; returns the messages and the bytes
 * left over (an incomplete frame). What a receiver does.
 */
export function parseOctetCounted(buffer: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  let offset = 0;
  for (;;) {
    const space = buffer.indexOf(0x20, offset);
    if (space < 0) break;
    const length = Number(buffer.subarray(offset, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0) throw new Error('not an octet-counted frame');
    if (buffer.length < space + 1 + length) break;
    messages.push(buffer.subarray(space + 1, space + 1 + length).toString('utf8'));
    offset = space + 1 + length;
  }
  return { messages, rest: buffer.subarray(offset) };
}
