import { describe, expect, it } from 'vitest';
import { toOcsf, type OcsfSource } from '../../src/domain/ocsf.ts';
import { escapeSdValue, octetCounted, parseOctetCounted, syslogMessage } from '../../src/domain/syslog.ts';
import { generateWebhookSecret, signWebhook, verifyWebhookSignature, webhookHeaders } from '../../src/domain/standard-webhooks.ts';

const base: OcsfSource = {
  id: 'e1', seq: 7, time: '2026-11-25T10:00:00.000Z', revision: 3, action: 'identity.create', targetType: 'identity', targetId: 'i1',
  actor: { type: 'api_key', id: 'k1', name: 'API key ops' }, onBehalfOfId: 'admin', authorityId: null, requestId: 'r1', sourceIp: '10.0.0.1', sourcePort: 51000, userAgent: 'curl',
  origin: null, before: null, after: { username: 'alice' }, prevHash: '0'.repeat(64), hash: 'a'.repeat(64),
};

describe('OCSF mapping', () => {
  const cases: [Partial<OcsfSource>, number, number, number][] = [
    [{}, 3001, 1, 1],
    [{ action: 'identity.delete', before: { username: 'alice' }, after: null }, 3001, 6, 1],
    [{ action: 'assignment.create', targetType: 'assignment', after: { assignee: { type: 'identity', id: 'i1' }, resource: { type: 'role', id: 'r1' } } }, 3005, 1, 1],
    [{ action: 'assignment.revoke', targetType: 'assignment', after: { assignee: { type: 'orgUnit', id: 'u1' }, resource: { type: 'permission', id: 'p1' } } }, 3006, 2, 1],
    [{ action: 'org_unit.create', targetType: 'org_unit', after: { name: 'Finance' } }, 3006, 6, 1],
    [{ action: 'auth.failure', targetType: 'api_key' }, 3002, 1, 2],
    [{ action: 'role.update', targetType: 'role' }, 3004, 3, 1],
    [{ action: 'access.denied', targetType: 'route', after: { method: 'DELETE' } }, 6003, 4, 2],
    [{ action: 'something.else', targetType: 'thing' }, 6003, 99, 1],
  ];
  it.each(cases)('%o → class %i activity %i status %i', (override, classUid, activityId, statusId) => {
    const e = toOcsf({ ...base, ...override }, { version: '0.1.0' });
    expect(e).toMatchObject({ class_uid: classUid, activity_id: activityId, status_id: statusId, type_uid: classUid * 100 + activityId, category_uid: Math.floor(classUid / 1000), time: Date.parse(base.time) });
    expect(e).toMatchObject({ metadata: { uid: 'e1', sequence: 7, version: '1.3.0' }, src_endpoint: { ip: '10.0.0.1', port: 51000 } });
  });
});

describe('syslog RFC 5424', () => {
  it('formats header, structured data (escaped) and a UTF-8 message, framed by octet counting', () => {
    const line = syslogMessage({
      facility: 13, severity: 4, time: '2026-11-25T10:00:00.000Z', hostname: 'host name', appName: 'grantory', procId: '-', msgId: 'access.denied',
      structuredData: [['grantory@32473', { note: 'a"b]c\\d' }]], message: '{"x":"é"}',
    });
    expect(line).toBe('<108>1 2026-11-25T10:00:00.000Z host_name grantory - access.denied [grantory@32473 note="a\\"b\\]c\\\\d"] \uFEFF{"x":"é"}');
    expect(escapeSdValue(']')).toBe('\\]');
    const framed = Buffer.concat([octetCounted(line), octetCounted('second')]);
    expect(framed.subarray(0, 4).toString()).toBe(`${Buffer.byteLength(line)} `);
    expect(parseOctetCounted(framed).messages).toEqual([line, 'second']);
  });
});

describe('Standard Webhooks signature', () => {
  it('signs id.timestamp.body with the whsec key and verifies', () => {
    // The specification's published example.
    expect(signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
    const secret = generateWebhookSecret();
    const headers = webhookHeaders(secret, 'id-1', new Date(), 'body');
    expect(verifyWebhookSignature(secret, headers, 'body')).toBe(true);
    expect(verifyWebhookSignature(secret, headers, 'body!')).toBe(false);
  });
});
