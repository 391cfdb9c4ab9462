/**
 * The versions a delivery message carries (shared/upward/inline-versions.ts): what the fan-out takes from a stream
 * record's image, how it travels, and when the connector may use it instead of reading the records table.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeInlineVersions, inlineVersionsFor, MAX_INLINE_CHARS, versionContentOf } from '../../shared/upward/inline-versions.js';
import type { VersionContent } from '../../shared/upward/record-versions.js';

const version = (i: number, over: Partial<VersionContent> = {}): VersionContent => ({
  id: `lic_${i}`,
  kind: 'license',
  sourceId: 'shi-scjgj',
  version: 1,
  fields: { XK_XDR_MC: `上海某某科技有限公司${i}`, XK_WSH: `沪市监许〔2026〕${i}号`, XK_NR: '预包装食品销售' },
  ...over,
});
const refsOf = (versions: readonly VersionContent[]) => versions.map((v) => ({ recordId: v.id, version: v.version }));

describe('inline versions', () => {
  it('round-trips a package’s versions, the certificate as stored, in order', () => {
    const versions = [version(1), version(2, { version: 3, certificate: { type: '01', cipher: 'v1.cipher', hash: 'v1#hash' } })];
    const text = encodeInlineVersions(versions)!;
    expect(inlineVersionsFor(text, refsOf(versions))).toEqual(versions);
  });

  it('gives the same text whatever the order of the objects’ keys (a stream image, an item read back)', () => {
    const a = version(1, { certificate: { type: '01', cipher: 'c', hash: 'h' } });
    const b = { certificate: { hash: 'h', cipher: 'c', type: '01' }, fields: a.fields, version: 1, sourceId: a.sourceId, kind: a.kind, id: a.id } as VersionContent;
    expect(encodeInlineVersions([b])).toBe(encodeInlineVersions([a]));
  });

  it('carries a package of 100 ordinary licences in a small part of one message', () => {
    const versions = Array.from({ length: 100 }, (_, i) => version(i));
    const text = encodeInlineVersions(versions)!;
    expect(text.length).toBeLessThan(MAX_INLINE_CHARS / 4);
    expect(inlineVersionsFor(text, refsOf(versions))).toHaveLength(100);
  });

  it('carries nothing that would pass MAX_INLINE_CHARS (it is read from the table instead)', () => {
    // Text that does not compress: random-looking facts.
    const noise = (i: number) => Array.from({ length: 4000 }, (_, j) => String.fromCharCode(0x4e00 + ((i * 7919 + j * 104_729) % 20_000))).join('');
    const versions = Array.from({ length: 100 }, (_, i) => version(i, { fields: { CF_SY: noise(i) } }));
    expect(encodeInlineVersions(versions)).toBeUndefined();
  });

  it.each([
    ['absent', undefined],
    ['not base64 gzip', 'not-gzip'],
    ['gzip of text that is not JSON', gzipSync('{{{').toString('base64')],
    ['gzip of an object, not a list', gzipSync('{"id":"lic_1"}').toString('base64')],
    ['too long', 'A'.repeat(MAX_INLINE_CHARS + 1)],
  ])('gives nothing for versions that are %s', (_, text) => {
    expect(inlineVersionsFor(text, refsOf([version(1)]))).toBeUndefined();
  });

  it('gives nothing unless the versions are exactly the part’s refs, in order', () => {
    const versions = [version(1), version(2)];
    const text = encodeInlineVersions(versions)!;
    expect(inlineVersionsFor(text, refsOf(versions))).toBeDefined();
    expect(inlineVersionsFor(text, refsOf([versions[1]!, versions[0]!]))).toBeUndefined();
    expect(inlineVersionsFor(text, refsOf([versions[0]!]))).toBeUndefined();
    expect(inlineVersionsFor(text, [{ recordId: 'lic_1', version: 2 }, { recordId: 'lic_2', version: 1 }])).toBeUndefined();
  });

  it('refuses versions whose shape is not a stored version’s', () => {
    for (const bad of [{ ...version(1), kind: '' }, { ...version(1), version: 0 }, { ...version(1), fields: { A: 5 } }, { ...version(1), certificate: { type: '01' } }]) {
      const text = gzipSync(JSON.stringify([bad])).toString('base64');
      expect(inlineVersionsFor(text, [{ recordId: 'lic_1', version: bad.version as number }])).toBeUndefined();
    }
  });

  it('takes a version’s content from a head’s image, and nothing else of it', () => {
    const image = { pk: 'REC#lic_1', sk: 'HEAD', ...version(1), status: 'active', publication: { state: 'approved' }, appliedRequests: [{ key: 'k' }], subjectKey: 'USCC#x' };
    expect(versionContentOf(image)).toEqual(version(1));
    expect(versionContentOf({ ...image, fields: undefined })).toBeUndefined();
    expect(versionContentOf({ ...image, sourceId: 7 })).toBeUndefined();
  });
});
