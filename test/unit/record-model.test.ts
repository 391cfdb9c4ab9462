import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import {
  GRADE,
  contentHash,
  APPLIED_REQUESTS_KEPT,
  decidePush,
  dishonestyPublication,
  licencePublication,
  recordId,
  versionOf,
  type StoredHead,
} from '../../shared/domain/record-model.js';

describe('recordId', () => {
  const id = recordId('lic', 'license', 'shi-scjgj', '沪市监许〔2026〕0001号');

  it('has the kind prefix and 26 lower-case base32 characters', () => {
    expect(id).toMatch(/^lic_[a-z2-7]{26}$/);
    expect(recordId('pen', 'penalty', 'shi-scjgj', 'X')).toMatch(/^pen_[a-z2-7]{26}$/);
  });

  it('is stable for the same kind, source and identity', () => {
    expect(recordId('lic', 'license', 'shi-scjgj', '沪市监许〔2026〕0001号')).toBe(id);
  });

  it('is the documented digest (SHA-256 of kind NUL source NUL identity, base32, first 130 bits)', () => {
    // Independently computed: sha256("license\0s\0W1") base32-encoded with a–z2–7.
    const digest = sha256('license\u0000s\u0000W1');
    expect(recordId('lic', 'license', 's', 'W1')).toBe(`lic_${base32(digest).slice(0, 26)}`);
  });

  it('differs when the kind, the source or the identity differs', () => {
    const ids = new Set([
      id,
      recordId('lic', 'penalty', 'shi-scjgj', '沪市监许〔2026〕0001号'),
      recordId('lic', 'license', 'shi-scjgj2', '沪市监许〔2026〕0001号'),
      recordId('lic', 'license', 'shi-scjgj', '沪市监许〔2026〕0002号'),
      recordId('lic', 'license', 'shi-scjgj', '沪市监许〔2026〕0001号 '),
    ]);
    expect(ids.size).toBe(5);
  });

  it('does not confuse where the source ends and the identity begins', () => {
    expect(recordId('lic', 'license', 'ab', 'c')).not.toBe(recordId('lic', 'license', 'a', 'bc'));
    expect(recordId('lic', 'license-a', 'b', 'c')).not.toBe(recordId('lic', 'license', 'a-b', 'c'));
  });

  it('has a prefix that does not change the digest part', () => {
    expect(recordId('lic', 'license', 's', 'W1').slice(4)).toBe(recordId('pen', 'license', 's', 'W1').slice(4));
  });
});

// Helpers computing the expected id independently of the code under test.
function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
function base32(bytes: Buffer): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bits = [...bytes].map((b) => b.toString(2).padStart(8, '0')).join('');
  let out = '';
  for (let i = 0; i + 5 <= bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return out;
}

describe('contentHash', () => {
  const fields = { XK_WSH: 'W1', XK_NR: '食品销售', XK_ZT: '1' };
  const cert = { type: '01', hash: 'h-abc' };

  it('is a base64url SHA-256 (43 characters)', () => {
    expect(contentHash('license', fields)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('does not depend on the order of the fields', () => {
    const reordered = { XK_ZT: '1', XK_NR: '食品销售', XK_WSH: 'W1' };
    expect(contentHash('license', reordered)).toBe(contentHash('license', fields));
  });

  it.each([
    ['a changed value', { ...fields, XK_NR: '食品销售 ' }],
    ['an added field', { ...fields, BZ: '无' }],
    ['a removed field', { XK_WSH: 'W1', XK_NR: '食品销售' }],
    ['a value moved to another field', { XK_WSH: 'W1', XK_NR: '1', XK_ZT: '食品销售' }],
    ['an empty value added', { ...fields, BZ: '' }],
  ])('changes with %s', (_what, changed) => {
    expect(contentHash('license', changed)).not.toBe(contentHash('license', fields));
  });

  it('changes with the kind', () => {
    expect(contentHash('penalty', fields)).not.toBe(contentHash('license', fields));
  });

  it('changes with the certificate hash and type, and with its presence', () => {
    const base = contentHash('license', fields, cert);
    expect(contentHash('license', fields, { type: '01', hash: 'h-abd' })).not.toBe(base);
    expect(contentHash('license', fields, { type: '02', hash: 'h-abc' })).not.toBe(base);
    expect(contentHash('license', fields)).not.toBe(base);
  });

  it('ignores anything on the certificate but its type and hash (the ciphertext differs at every encryption)', () => {
    const withCipher = { ...cert, cipher: 'v1.a.b.c' } as { type: string; hash: string };
    const withOtherCipher = { ...cert, cipher: 'v1.x.y.z' } as { type: string; hash: string };
    expect(contentHash('license', fields, withCipher)).toBe(contentHash('license', fields, withOtherCipher));
    expect(contentHash('license', fields, withCipher)).toBe(contentHash('license', fields, cert));
  });

  it('cannot be fooled by separators inside values', () => {
    expect(contentHash('license', { a: 'b,c' })).not.toBe(contentHash('license', { 'a,b': 'c' }));
    expect(contentHash('license', { a: '1', b: '2' })).not.toBe(contentHash('license', { a: '1","b', '': '2' }));
  });
});

describe('dishonestyPublication', () => {
  it('general (一般): published 3 to 12 months from the decision, pending review', () => {
    expect(dishonestyPublication(GRADE.general, '2026-04-15')).toStrictEqual({
      state: 'pending-review',
      grade: '2',
      from: '2026-04-15',
      minUntil: '2026-07-15',
      until: '2027-04-15',
    });
  });

  it('serious (严重): 12 to 36 months', () => {
    expect(dishonestyPublication(GRADE.serious, '2026-04-15')).toStrictEqual({
      state: 'pending-review',
      grade: '3',
      from: '2026-04-15',
      minUntil: '2027-04-15',
      until: '2029-04-15',
    });
  });

  it('minor (轻微): not published, at most 3 months, no repair threshold', () => {
    const p = dishonestyPublication(GRADE.minor, '2026-04-15');
    expect(p).toStrictEqual({ state: 'not-published', grade: '1', from: '2026-04-15', until: '2026-07-15' });
    expect(p).not.toHaveProperty('minUntil');
  });

  it('uses the general bounds for an unknown grade', () => {
    expect(dishonestyPublication('9', '2026-04-15')).toMatchObject({ state: 'pending-review', minUntil: '2026-07-15', until: '2027-04-15' });
  });

  describe('a proposed end (CF_GSJZQ) is kept within [min, max]', () => {
    it.each([
      [GRADE.general, '2026-05-01', '2026-07-15'],
      [GRADE.general, '2026-07-14', '2026-07-15'],
      [GRADE.general, '2026-07-15', '2026-07-15'],
      [GRADE.general, '2026-10-31', '2026-10-31'],
      [GRADE.general, '2027-04-15', '2027-04-15'],
      [GRADE.general, '2027-04-16', '2027-04-15'],
      [GRADE.general, '2030-01-01', '2027-04-15'],
      [GRADE.serious, '2026-12-31', '2027-04-15'],
      [GRADE.serious, '2028-01-01', '2028-01-01'],
      [GRADE.serious, '2029-04-16', '2029-04-15'],
      [GRADE.minor, '2026-04-15', '2026-04-15'],
      [GRADE.minor, '2026-05-20', '2026-05-20'],
      [GRADE.minor, '2026-12-31', '2026-07-15'],
    ])('grade %s, proposed %s → until %s', (grade, proposed, until) => {
      const p = dishonestyPublication(grade, '2026-04-15', proposed);
      expect(p.until).toBe(until);
      expect(p.from).toBe('2026-04-15');
    });

    it('does not move the repair threshold', () => {
      expect(dishonestyPublication(GRADE.general, '2026-04-15', '2026-10-31').minUntil).toBe('2026-07-15');
    });
  });

  describe('months are calendar months, clamped to the end of a shorter month', () => {
    it('2025-11-30 + 3 months = 2026-02-28', () => {
      expect(dishonestyPublication(GRADE.general, '2025-11-30').minUntil).toBe('2026-02-28');
    });

    it('2027-11-30 + 3 months = 2028-02-29 (leap year)', () => {
      expect(dishonestyPublication(GRADE.general, '2027-11-30').minUntil).toBe('2028-02-29');
    });

    it('2028-02-29 + 12 months = 2029-02-28, + 36 months = 2031-02-28', () => {
      const p = dishonestyPublication(GRADE.serious, '2028-02-29');
      expect([p.minUntil, p.until]).toEqual(['2029-02-28', '2031-02-28']);
    });

    it('2026-12-31 + 3 months = 2027-03-31 (across the year end)', () => {
      expect(dishonestyPublication(GRADE.general, '2026-12-31').minUntil).toBe('2027-03-31');
    });
  });

  it('throws on a decision date that is not a date', () => {
    expect(() => dishonestyPublication(GRADE.general, '2026-02-30')).toThrow(RangeError);
  });
});

describe('licencePublication', () => {
  it('runs from the decision to the end of validity', () => {
    expect(licencePublication('2026-11-02', '2031-11-01')).toStrictEqual({ state: 'pending-review', from: '2026-11-02', until: '2031-11-01' });
  });

  it('is open-ended without an end of validity', () => {
    const p = licencePublication('2026-11-02');
    expect(p).toStrictEqual({ state: 'pending-review', from: '2026-11-02' });
    expect(p).not.toHaveProperty('until');
  });
});

function head(over: Partial<StoredHead> = {}): StoredHead {
  return {
    id: 'lic_aaaaaaaaaaaaaaaaaaaaaaaaaa',
    kind: 'license',
    sourceId: 'shi-scjgj',
    identity: 'W1',
    version: 1,
    fields: { XK_WSH: 'W1', XK_NR: 'a' },
    contentHash: 'hash-1',
    subjectKey: 'USCC#91310115MA1K3BTP2B',
    decisionDate: '2026-09-28',
    late: false,
    firstReceivedAt: '2026-09-29T02:00:00.000Z',
    receivedAt: '2026-09-29T02:00:00.000Z',
    status: 'active',
    publication: { state: 'pending-review', from: '2026-09-28' },
    ...over,
  };
}

describe('decidePush', () => {
  it('accepts a record that is not stored, as given, without asking about lateness', () => {
    const incoming = head();
    const isLate = vi.fn(() => true);
    const decision = decidePush(undefined, incoming, isLate);
    expect(decision).toStrictEqual({ status: 'accepted', head: incoming });
    expect(isLate).not.toHaveBeenCalled();
  });

  it('treats the same content as a duplicate and returns the stored head unchanged', () => {
    const existing = head({ version: 3, receivedAt: '2026-10-01T00:00:00.000Z' });
    const incoming = head({ receivedAt: '2026-11-01T00:00:00.000Z', fields: { XK_NR: 'a', XK_WSH: 'W1' } });
    const isLate = vi.fn(() => true);
    const decision = decidePush(existing, incoming, isLate);
    expect(decision.status).toBe('duplicate');
    expect(decision.head).toBe(existing);
    expect(decision.head.version).toBe(3);
    expect(decision).not.toHaveProperty('previous');
    expect(isLate).not.toHaveBeenCalled();
  });

  it('makes changed content a new version that keeps the first arrival time', () => {
    const existing = head({ version: 2, firstReceivedAt: '2026-09-29T02:00:00.000Z', receivedAt: '2026-10-01T00:00:00.000Z' });
    const incoming = head({ contentHash: 'hash-2', fields: { XK_WSH: 'W1', XK_NR: 'b' }, firstReceivedAt: '2026-11-20T00:00:00.000Z', receivedAt: '2026-11-20T00:00:00.000Z', late: true });
    const isLate = vi.fn(() => false);
    const decision = decidePush(existing, incoming, isLate);
    expect(decision.status).toBe('updated');
    if (decision.status !== 'updated') throw new Error('unreachable');
    expect(decision.previous).toBe(existing);
    expect(decision.head).toStrictEqual({
      ...incoming,
      version: 3,
      firstReceivedAt: '2026-09-29T02:00:00.000Z',
      receivedAt: '2026-11-20T00:00:00.000Z',
      late: false,
    });
  });

  it('recomputes lateness from the first arrival time with the given function', () => {
    const existing = head({ firstReceivedAt: '2026-10-20T00:00:00.000Z' });
    const incoming = head({ contentHash: 'hash-2', late: false });
    const isLate = vi.fn((first: string) => first === '2026-10-20T00:00:00.000Z');
    const decision = decidePush(existing, incoming, isLate);
    expect(isLate).toHaveBeenCalledTimes(1);
    expect(isLate).toHaveBeenCalledWith('2026-10-20T00:00:00.000Z');
    expect(decision.head.late).toBe(true);
  });

  it('does not modify the stored head or the incoming one', () => {
    const existing = head();
    const incoming = head({ contentHash: 'hash-2' });
    const before = structuredClone({ existing, incoming });
    decidePush(existing, incoming, () => true);
    expect({ existing, incoming }).toStrictEqual(before);
  });
});

describe('decidePush with an Idempotency-Key (applied requests)', () => {
  const isLate = () => false;

  it('records the request on the head it writes, newest first, carried across later changes', () => {
    const accepted = decidePush(undefined, head(), isLate, { requestKey: 'req-A', occurrence: 0 });
    expect(accepted.head.appliedRequests).toEqual([{ key: 'req-A#0', status: 'accepted' }]);
    const updated = decidePush(accepted.head, head({ contentHash: 'hash-2' }), isLate, { requestKey: 'req-B', occurrence: 0 });
    expect(updated.status).toBe('updated');
    expect(updated.head.appliedRequests).toEqual([
      { key: 'req-B#0', status: 'updated' },
      { key: 'req-A#0', status: 'accepted' },
    ]);
    // A push without a key keeps the ledger as it is.
    const unkeyed = decidePush(updated.head, head({ contentHash: 'hash-3' }), isLate);
    expect(unkeyed.head.appliedRequests).toEqual(updated.head.appliedRequests);
  });

  it('does not apply a retry of a request that changed the record, even after another push changed it again', () => {
    const first = decidePush(undefined, head(), isLate, { requestKey: 'req-A', occurrence: 0 }).head;
    const second = decidePush(first, head({ contentHash: 'hash-2' }), isLate, { requestKey: 'req-B', occurrence: 0 }).head;
    const retryOfA = decidePush(second, head(), isLate, { requestKey: 'req-A', occurrence: 0 });
    expect(retryOfA).toStrictEqual({ status: 'applied', head: second, applied: 'accepted' });
    const retryOfB = decidePush(second, head({ contentHash: 'hash-2' }), isLate, { requestKey: 'req-B', occurrence: 0 });
    expect(retryOfB).toStrictEqual({ status: 'applied', head: second, applied: 'updated' });
  });

  it('keeps the most recent APPLIED_REQUESTS_KEPT requests', () => {
    let current = decidePush(undefined, head(), isLate, { requestKey: 'req-0', occurrence: 0 }).head;
    for (let i = 1; i <= APPLIED_REQUESTS_KEPT + 3; i++) current = decidePush(current, head({ contentHash: `hash-${i}` }), isLate, { requestKey: `req-${i}`, occurrence: 0 }).head;
    expect(current.appliedRequests).toHaveLength(APPLIED_REQUESTS_KEPT);
    expect(current.appliedRequests![0]!.key).toBe(`req-${APPLIED_REQUESTS_KEPT + 3}#0`);
  });

  it('answers a retry of an occurrence that wrote nothing as a duplicate once a later occurrence of the same request is in the ledger', () => {
    // The request pushed the record three times: new, the same again (a duplicate, not in the ledger), then changed.
    const A = (occurrence: number) => ({ requestKey: 'req-A', occurrence });
    const first = decidePush(undefined, head(), isLate, A(0)).head;
    expect(decidePush(first, head(), isLate, A(1)).status).toBe('duplicate');
    const changed = decidePush(first, head({ contentHash: 'hash-2' }), isLate, A(2)).head;
    // Its retry: the record holds the third occurrence's content; the second is still a duplicate, and is not written back.
    expect(decidePush(changed, head(), isLate, A(0))).toStrictEqual({ status: 'applied', head: changed, applied: 'accepted' });
    expect(decidePush(changed, head(), isLate, A(1))).toStrictEqual({ status: 'applied', head: changed, applied: 'duplicate' });
    expect(decidePush(changed, head({ contentHash: 'hash-2' }), isLate, A(2))).toStrictEqual({ status: 'applied', head: changed, applied: 'updated' });
    // Another request's later occurrence says nothing about this one.
    expect(decidePush(changed, head(), isLate, { requestKey: 'req-B', occurrence: 1 }).status).toBe('updated');
    // Nor do the same request's earlier occurrences: a fourth would be a change back.
    expect(decidePush(changed, head(), isLate, A(3)).status).toBe('updated');
  });

  it('treats a duplicate as a duplicate whatever the key, and writes no ledger for it', () => {
    const stored = decidePush(undefined, head(), isLate, { requestKey: 'req-A', occurrence: 0 }).head;
    const decision = decidePush(stored, head(), isLate, { requestKey: 'req-C', occurrence: 0 });
    expect(decision.status).toBe('duplicate');
    expect(decision.head).toBe(stored);
  });
});

describe('decidePush of a listing whose publication ended (removed)', () => {
  const listed = { state: 'pending-review', from: '2026-06-01', until: '2028-06-01' } as const;
  const ended = (on: string) => ({ state: 'ended', endReason: 'removed', endedOn: on, from: '2026-06-01', until: '2028-06-01' }) as const;
  const isLate = () => false;

  it('ends a listed record with the removal (updated, status removed)', () => {
    const existing = head({ status: 'active', publication: listed });
    const decision = decidePush(existing, head({ contentHash: 'hash-2', status: 'removed', publication: ended('2026-11-20') }), isLate);
    expect(decision.status).toBe('updated');
    expect(decision.head).toMatchObject({ version: 2, status: 'removed', publication: ended('2026-11-20') });
  });

  it('keeps the date a publication first ended when a corrected removal row changes the record again', () => {
    const existing = head({ status: 'removed', publication: ended('2026-11-20') });
    const decision = decidePush(existing, head({ contentHash: 'hash-2', status: 'removed', publication: ended('2026-12-03') }), isLate);
    expect(decision.head.publication).toStrictEqual(ended('2026-11-20'));
  });

  it('publishes a removed record again when the court lists it again', () => {
    const existing = head({ status: 'removed', publication: ended('2026-11-20') });
    const decision = decidePush(existing, head({ contentHash: 'hash-2', status: 'active', publication: listed }), isLate);
    expect(decision.head).toMatchObject({ status: 'active', publication: listed });
  });
});

describe('versionOf', () => {
  it('keeps what identifies and describes the superseded version, and when it was superseded', () => {
    const previous = head({ version: 2, receivedAt: '2026-10-01T00:00:00.000Z', contentHash: 'hash-2', fields: { XK_WSH: 'W1', XK_NR: 'b' } });
    expect(versionOf(previous, '2026-11-20T00:00:00.000Z')).toStrictEqual({
      id: previous.id,
      version: 2,
      fields: { XK_WSH: 'W1', XK_NR: 'b' },
      contentHash: 'hash-2',
      receivedAt: '2026-10-01T00:00:00.000Z',
      supersededAt: '2026-11-20T00:00:00.000Z',
    });
  });

  it('keeps the stored certificate (ciphertext and hash) when there is one', () => {
    const certificate = { type: '01', cipher: 'v1.a.b.c', hash: 'h' };
    const v = versionOf(head({ certificate }), '2026-11-20T00:00:00.000Z');
    expect(v.certificate).toStrictEqual(certificate);
  });

  it('has no certificate key when the head has none', () => {
    expect(versionOf(head(), '2026-11-20T00:00:00.000Z')).not.toHaveProperty('certificate');
  });
});
