/**
 * shared/http/opaque-cursor.ts and the two cursors written with it: GET /v1/audit/reads
 * (shared/audit/reads-cursor.ts) and GET /v1/dlq/{platform} (shared/upward/dead-letter-cursor.ts).
 * Their wire format is pinned: a cursor handed out before must still read the same.
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { decodeCursor, encodeCursor } from '../../shared/audit/reads-cursor.js';
import { decodeOpaqueCursor, encodeOpaqueCursor } from '../../shared/http/opaque-cursor.js';
import { decodeFailedCursor, encodeFailedCursor } from '../../shared/upward/dead-letter-cursor.js';

const b64 = (json: string) => Buffer.from(json, 'utf8').toString('base64url');
const schema = z.strictObject({ v: z.literal(2), n: z.number() });

describe('opaque cursor', () => {
  it('is base64url of {"v":<version>, …payload}, the version first', () => {
    expect(encodeOpaqueCursor(2, { n: 7 })).toBe(b64('{"v":2,"n":7}'));
    expect(decodeOpaqueCursor(b64('{"v":2,"n":7}'), schema)).toEqual({ v: 2, n: 7 });
  });

  it.each([
    ['not base64url', '{"v":2,"n":7}'],
    ['base64url of something other than JSON', b64('not json')],
    ['JSON the schema refuses (another version)', b64('{"v":1,"n":7}')],
    ['JSON the schema refuses (an extra field)', b64('{"v":2,"n":7,"x":1}')],
    ['empty', ''],
  ])('reads as none when it is %s', (_why, text) => {
    expect(decodeOpaqueCursor(text, schema)).toBeUndefined();
  });
});

describe('the audit reads cursor', () => {
  it('keeps its wire format: {"v":1,"q":…,"range":…,"day":…,"key":…}, read back without the version', () => {
    const cursor = { q: { from: '2026-11-01' }, range: { from: '2026-11-01', to: '2026-11-03' }, day: '2026-11-02', key: { pk: 'DAY#2026-11-02', sk: 'x' } };
    const text = encodeCursor(cursor);
    expect(text).toBe(b64('{"v":1,"q":{"from":"2026-11-01"},"range":{"from":"2026-11-01","to":"2026-11-03"},"day":"2026-11-02","key":{"pk":"DAY#2026-11-02","sk":"x"}}'));
    expect(decodeCursor(text)).toEqual(cursor);
    expect(decodeCursor(b64('{"v":1,"q":{},"day":"2026-13-40"}'))).toBeUndefined();
  });
});

describe('the dead-letter list cursor', () => {
  const key = { failedBy: 'provincial', failedAt: '2026-11-02T01:02:03.000Z', pk: 'REC#lic_1', sk: 'provincial#0000000003' };

  it('keeps its wire format {"v":1,"p":<platform>,"k":<index key>} and reads back only for its platform', () => {
    const text = encodeFailedCursor('provincial', { ...key, extra: 'dropped' } as typeof key);
    expect(text).toBe(b64(`{"v":1,"p":"provincial","k":${JSON.stringify(key)}}`));
    expect(decodeFailedCursor(text, 'provincial')).toEqual(key);
    expect(decodeFailedCursor(text, 'national')).toBeUndefined();
    expect(decodeFailedCursor(b64(`{"v":1,"p":"national","k":${JSON.stringify(key)}}`), 'national')).toBeUndefined();
  });
});
