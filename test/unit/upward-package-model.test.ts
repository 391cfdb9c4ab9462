/**
 * The package model of the upward path (shared/upward/package-model.ts, docs/upward-packages.md): pure rules.
 * A body's refs as text and back; the parts a split makes, down to single refs, each ref in exactly one leaf;
 * the keys (package key, Idempotency-Key, table keys); the queue message; which part carries a ref.
 */
import { describe, expect, it } from 'vitest';
import {
  bodyKey,
  claimKey,
  decodeRefs,
  deliveryKey,
  encodeRefs,
  halvesOf,
  isPackageKey,
  isPartPath,
  leafFor,
  messageBody,
  newDelivery,
  operationOf,
  packageIdOf,
  packageKeyOf,
  parseDeliveryMessage,
  partRange,
  PLATFORM_NAMES,
  type PackageDelivery,
  type PackageRef,
  type PartPath,
} from '../../shared/upward/package-model.js';

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const KEY = packageKeyOf({ sequenceNumber: '4900000000000000000001', recordId: 'pen_A', version: 1 });

describe('refs', () => {
  const refs: PackageRef[] = [
    { recordId: 'pen_abcdefghijklmnopqrstuvwxyz', version: 1, operation: 'upsert' },
    { recordId: 'dd_Z2', version: 1234567890, operation: 'delete' },
    { recordId: 'lic-x_9', version: 7, operation: 'upsert' },
  ];

  it('are one line each, `<record id> <version> <u|d>`, in order, and read back the same', () => {
    const text = encodeRefs(refs);
    expect(text).toBe('pen_abcdefghijklmnopqrstuvwxyz 1 u\ndd_Z2 1234567890 d\nlic-x_9 7 u');
    expect(decodeRefs(text)).toEqual(refs);
  });

  it('of an empty package are the empty text', () => {
    expect(encodeRefs([])).toBe('');
    expect(decodeRefs('')).toEqual([]);
  });

  it('keep 100 refs of real record ids (prefix and 26 base32 characters) under 4 KB, versions up to 999', () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ recordId: `pen_${'a'.repeat(24)}${String(i).padStart(2, '0')}`, version: 900 + i - (i % 2) * 800, operation: 'upsert' as const }));
    expect(Buffer.byteLength(encodeRefs(many))).toBeLessThan(4096);
    expect(decodeRefs(encodeRefs(many))).toEqual(many);
  });

  it('refuse a line that is not a ref, naming the line', () => {
    for (const bad of ['pen_A 1', 'pen_A 0 u', 'pen_A 01 u', 'pen_A 1 x', 'pen A 1 u', 'pen_A  1 u', 'pen_A 12345678901 u', ' pen_A 1 u', 'pen_A 1 u ', `${'a'.repeat(101)} 1 u`, 'pen_A -1 d']) {
      expect(() => decodeRefs(bad), bad).toThrow(/line 1 /);
    }
    expect(() => decodeRefs('pen_A 1 u\npen_B 1 u\n')).toThrow(/line 3 /);
    expect(() => decodeRefs('pen_A 1 u\npen_B one u')).toThrow(/line 2 /);
  });
});

describe('parts', () => {
  /** Every leaf (a part that does not split) of a package of `count` refs, by splitting from the whole down. */
  function leaves(count: number, path: PartPath = ''): PartPath[] {
    const halves = halvesOf(count, path);
    return halves.length === 0 ? [path] : halves.flatMap((half) => leaves(count, half));
  }

  it('the whole package is [0, count)', () => {
    expect(partRange(7, '')).toEqual({ from: 0, to: 7 });
    expect(partRange(1, '')).toEqual({ from: 0, to: 1 });
  });

  it('halves are as even as can be, the first the larger', () => {
    expect(partRange(7, '0')).toEqual({ from: 0, to: 4 });
    expect(partRange(7, '1')).toEqual({ from: 4, to: 7 });
    expect(partRange(7, '01')).toEqual({ from: 2, to: 4 });
    expect(partRange(7, '11')).toEqual({ from: 6, to: 7 });
    expect(partRange(8, '0')).toEqual({ from: 0, to: 4 });
    expect(partRange(8, '1')).toEqual({ from: 4, to: 8 });
    expect(partRange(8, '101')).toEqual({ from: 5, to: 6 });
  });

  it('a part of one ref does not split; a part of two splits into two of one', () => {
    expect(halvesOf(1, '')).toEqual([]);
    expect(halvesOf(7, '11')).toEqual([]);
    expect(halvesOf(2, '')).toEqual(['0', '1']);
    expect(halvesOf(7, '01')).toEqual(['010', '011']);
  });

  it('split down to single refs, for every count from 1 to 100: each ref in exactly one leaf, every path a valid one', () => {
    for (let count = 1; count <= 100; count++) {
      const found = leaves(count);
      const covered = new Array<number>(count).fill(0);
      for (const path of found) {
        expect(isPartPath(path), `${count}: ${path}`).toBe(true);
        const { from, to } = partRange(count, path);
        expect(to - from, `${count}: ${path}`).toBe(1);
        covered[from]!++;
      }
      expect(covered, `count ${count}`).toEqual(new Array<number>(count).fill(1));
      expect(found).toHaveLength(count);
    }
  });

  it('every split part is as even as can be: the first half has the extra ref of an odd part', () => {
    const check = (count: number, path: PartPath) => {
      const halves = halvesOf(count, path);
      if (halves.length === 0) return;
      const whole = partRange(count, path);
      const [a, b] = halves.map((h) => partRange(count, h));
      expect(a!.from).toBe(whole.from);
      expect(a!.to).toBe(b!.from);
      expect(b!.to).toBe(whole.to);
      const [na, nb] = [a!.to - a!.from, b!.to - b!.from];
      expect(na - nb === 0 || na - nb === 1, `${count} ${path}: ${na} ${nb}`).toBe(true);
      halves.forEach((h) => check(count, h));
    };
    for (const count of [2, 3, 5, 6, 99, 100]) check(count, '');
  });

  it('paths are up to 7 halves of 0 and 1: enough for 100 refs', () => {
    expect(Math.max(...leaves(100).map((p) => p.length))).toBe(7);
    for (const good of ['', '0', '1', '0110101']) expect(isPartPath(good), good).toBe(true);
    for (const bad of ['01101010', '2', 'a', ' 0', 0, null, undefined]) expect(isPartPath(bad), String(bad)).toBe(false);
  });
});

describe('keys', () => {
  it('a package key is 26 base32 characters, the same for the same first version of a batch and different for another', () => {
    expect(isPackageKey(KEY)).toBe(true);
    expect(packageKeyOf({ sequenceNumber: '4900000000000000000001', recordId: 'pen_A', version: 1 })).toBe(KEY);
    const others = [
      packageKeyOf({ sequenceNumber: '4900000000000000000002', recordId: 'pen_A', version: 1 }),
      packageKeyOf({ sequenceNumber: '4900000000000000000001', recordId: 'pen_B', version: 1 }),
      packageKeyOf({ sequenceNumber: '4900000000000000000001', recordId: 'pen_A', version: 2 }),
    ];
    expect(new Set([KEY, ...others]).size).toBe(4);
    for (const bad of ['', KEY.toUpperCase(), `${KEY}a`, KEY.slice(1), `${KEY.slice(0, 25)}1`, 42]) expect(isPackageKey(bad), String(bad)).toBe(false);
  });

  it('packageIdOf is a UUID version 5, stable, and distinct per platform, package and part', () => {
    const id = packageIdOf('national', KEY, '');
    expect(id).toMatch(UUID_V5);
    expect(packageIdOf('national', KEY, '')).toBe(id);
    const other = packageKeyOf({ sequenceNumber: '1', recordId: 'pen_A', version: 1 });
    const ids = [id, packageIdOf('provincial', KEY, ''), packageIdOf('national', other, ''), packageIdOf('national', KEY, '0'), packageIdOf('national', KEY, '1'), packageIdOf('national', KEY, '01'), packageIdOf('national', KEY, '10')];
    for (const x of ids) expect(x).toMatch(UUID_V5);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('table keys: a body, a delivery (a part’s under its path), a claim (version in 10 digits)', () => {
    expect(bodyKey(KEY)).toEqual({ pk: `PKG#${KEY}`, sk: 'BODY' });
    expect(deliveryKey({ key: KEY, platform: 'provincial', path: '' })).toEqual({ pk: `PKG#${KEY}`, sk: 'provincial' });
    expect(deliveryKey({ key: KEY, platform: 'national', path: '01' })).toEqual({ pk: `PKG#${KEY}`, sk: 'national#01' });
    expect(claimKey('pen_A', 12)).toEqual({ pk: 'REC#pen_A', sk: 'V#0000000012' });
  });
});

describe('operationOf', () => {
  const base = { status: 'active' as const, publication: { state: 'pending-review' as const, from: '2026-01-01' } };

  it('upsert for a record in force, delete for one removed or whose publication ended', () => {
    expect(operationOf(base)).toBe('upsert');
    expect(operationOf({ ...base, publication: { state: 'not-published', from: '2026-01-01' } })).toBe('upsert');
    expect(operationOf({ status: 'removed', publication: { state: 'ended', endReason: 'removed', endedOn: '2026-02-01', from: '2026-01-01' } })).toBe('delete');
    expect(operationOf({ ...base, publication: { state: 'ended', from: '2026-01-01' } })).toBe('delete');
  });
});

describe('newDelivery', () => {
  it('is pending, owed by the platform from now, under the part’s key, with the part’s refs, in the byDay partition of its China day', () => {
    const now = new Date('2026-03-01T00:00:00.000Z');
    expect(newDelivery(KEY, 7, 'provincial', '01', now)).toEqual({
      key: KEY,
      platform: 'provincial',
      path: '01',
      state: 'pending',
      packageId: packageIdOf('provincial', KEY, '01'),
      from: 2,
      to: 4,
      createdAt: now.toISOString(),
      changeDay: 'provincial#2026-03-01',
      owedBy: 'provincial',
      owedSince: now.toISOString(),
      lastQueuedAt: now.toISOString(),
    });
    expect(newDelivery(KEY, 7, 'national', '', now)).toMatchObject({ from: 0, to: 7, packageId: packageIdOf('national', KEY, '') });
  });

  it('the day is China’s (UTC+8): 16:00 UTC is already the next day', () => {
    expect(newDelivery(KEY, 1, 'national', '', new Date('2026-03-01T15:59:59.999Z')).changeDay).toBe('national#2026-03-01');
    expect(newDelivery(KEY, 1, 'national', '', new Date('2026-03-01T16:00:00.000Z')).changeDay).toBe('national#2026-03-02');
  });
});

describe('queue messages', () => {
  it('carry the package key, the platform and the part, and read back the same', () => {
    const body = messageBody({ key: KEY, platform: 'national', path: '01' });
    expect(JSON.parse(body)).toEqual({ key: KEY, platform: 'national', path: '01' });
    expect(parseDeliveryMessage(body)).toEqual({ ok: true, message: { key: KEY, platform: 'national', path: '01' } });
    expect(parseDeliveryMessage(messageBody({ key: KEY, platform: 'provincial', path: '' }))).toEqual({ ok: true, message: { key: KEY, platform: 'provincial', path: '' } });
  });

  it('are refused with a reason when they are not what a fan-out or a split sends', () => {
    const cases: [string, RegExp][] = [
      ['nope', /not JSON/],
      ['[]', /not a JSON object/],
      ['null', /not a JSON object/],
      ['"x"', /not a JSON object/],
      [JSON.stringify({ platform: 'national', path: '' }), /key/],
      [JSON.stringify({ key: 'short', platform: 'national', path: '' }), /key/],
      [JSON.stringify({ key: KEY, platform: 'city', path: '' }), /platform/],
      [JSON.stringify({ key: KEY, path: '' }), /platform/],
      [JSON.stringify({ key: KEY, platform: 'national' }), /path/],
      [JSON.stringify({ key: KEY, platform: 'national', path: '2' }), /path/],
      [JSON.stringify({ key: KEY, platform: 'national', path: '01010101' }), /path/],
      // A message of the old design (one per record version) names no package.
      [JSON.stringify({ recordId: 'pen_A', version: 1, platform: 'national' }), /key/],
    ];
    for (const [body, reason] of cases) {
      const parsed = parseDeliveryMessage(body);
      expect(parsed.ok, body).toBe(false);
      if (!parsed.ok) expect(parsed.reason, body).toMatch(reason);
    }
  });

  it('name every platform of the catalogue', () => {
    for (const platform of PLATFORM_NAMES) expect(parseDeliveryMessage(messageBody({ key: KEY, platform, path: '' })).ok).toBe(true);
  });
});

describe('leafFor', () => {
  const now = new Date('2026-03-01T00:00:00.000Z');
  const d = (path: PartPath, state: PackageDelivery['state']): PackageDelivery => ({ ...newDelivery(KEY, 5, 'national', path, now), state });

  it('is the whole package while it is not split', () => {
    const whole = d('', 'pending');
    for (let i = 0; i < 5; i++) expect(leafFor([whole], i)).toBe(whole);
    expect(leafFor([whole], 5)).toBeUndefined();
    expect(leafFor([], 0)).toBeUndefined();
  });

  it('after splits, the part not split that holds the ref, whatever the order the deliveries come in', () => {
    // 5 refs: '' → '0' [0,3) and '1' [3,5); '0' → '00' [0,2) and '01' [2,3).
    const parts = [d('1', 'pending'), d('', 'split'), d('01', 'failed'), d('0', 'split'), d('00', 'delivered')];
    const at = (i: number) => leafFor(parts, i)?.path;
    expect([0, 1, 2, 3, 4].map(at)).toEqual(['00', '00', '01', '1', '1']);
    expect(leafFor([...parts].reverse(), 2)!.path).toBe('01');
  });

  it('while a split’s parts are being created, the deepest part there is (never a split one)', () => {
    // Split state written with its parts in one transaction, but a reader may have a partial list of other parts.
    const parts = [d('', 'split'), d('0', 'pending'), d('1', 'pending')];
    expect(leafFor(parts, 0)!.path).toBe('0');
    expect(leafFor(parts, 4)!.path).toBe('1');
    expect(leafFor([d('', 'split')], 0)).toBeUndefined();
  });
});
