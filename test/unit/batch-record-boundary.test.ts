/**
 * The claim the row reader rests on: the bytes that cut rows (0x0A, and for
 * CSV 0x22 and 0x2C; 0x0D is stripped) never occur inside a multi-byte
 * character of UTF-8 or GB18030, so rows can be cut before decoding.
 */
import { describe, expect, it } from 'vitest';
import { boundaryScanner } from '../../shared/batch/record-boundary.js';
import { encodeGb18030 } from '../support/gb18030.js';

const STRUCTURAL = new Set([0x0a, 0x0d, 0x22, 0x2c]);

function structuralInside(bytes: Uint8Array): boolean {
  return bytes.some((b) => STRUCTURAL.has(b));
}

describe('row boundaries are safe on raw bytes', () => {
  it('UTF-8: no character above U+007F encodes to a structural byte', () => {
    let checked = 0;
    for (let cp = 0x80; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const bytes = Buffer.from(String.fromCodePoint(cp), 'utf8');
      if (structuralInside(bytes)) throw new Error(`U+${cp.toString(16)} encodes to ${bytes.toString('hex')}`);
      checked++;
    }
    expect(checked).toBe(0x10ffff - 0x7f - 0x800);
  });

  it('GB18030: no two-byte or four-byte sequence the decoder accepts holds a structural byte', () => {
    const decoder = new TextDecoder('gb18030', { fatal: true });
    let accepted = 0;
    // Two-byte: every lead and trail byte the decoder accepts.
    for (let lead = 0x81; lead <= 0xfe; lead++) {
      for (let trail = 0; trail <= 0xff; trail++) {
        try {
          const char = decoder.decode(Uint8Array.of(lead, trail));
          if ([...char].length === 1) {
            accepted++;
            expect(STRUCTURAL.has(trail), `${lead.toString(16)} ${trail.toString(16)}`).toBe(false);
          }
        } catch {
          // not a two-byte character
        }
      }
    }
    expect(accepted).toBeGreaterThan(20_000);
  });

  it('GB18030: every BMP character and a sample of supplementary ones (𠮷) encode without a structural byte', () => {
    let n = 0;
    for (let cp = 0x80; cp <= 0xffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      let bytes: Buffer;
      try {
        bytes = encodeGb18030(String.fromCodePoint(cp));
      } catch {
        continue; // no GB18030 encoding (a few private-use mappings)
      }
      expect(bytes.length).toBeGreaterThan(1);
      if (structuralInside(bytes)) throw new Error(`U+${cp.toString(16)} encodes to ${bytes.toString('hex')}`);
      n++;
    }
    for (let cp = 0x10000; cp <= 0x10ffff; cp += 97) {
      const bytes = encodeGb18030(String.fromCodePoint(cp));
      expect(bytes.length).toBe(4);
      expect(structuralInside(bytes)).toBe(false);
    }
    expect(encodeGb18030('𠮷').toString('hex')).toBe('9534b235');
    expect(n).toBeGreaterThan(63_000);
  });
});

describe('boundaryScanner', () => {
  const cut = (format: 'csv' | 'ndjson', text: string) => {
    const bytes = Buffer.from(text);
    const scanner = boundaryScanner(format);
    const ends: number[] = [];
    for (let from = 0; ; ) {
      const end = scanner.find(bytes, from);
      if (end < 0) break;
      ends.push(end);
      scanner.reset();
      from = end + 1;
    }
    return ends;
  };

  it('NDJSON ends a row at every line feed, quotes or not', () => {
    expect(cut('ndjson', '{"a":"\\n"}\n"\n\n')).toEqual([10, 12, 13]);
  });

  it('CSV ends a record only at line feeds outside quoted fields', () => {
    expect(cut('csv', 'a,"b\nc",d\n"""\n"\n,\n')).toEqual([9, 15, 17]);
  });

  it('CSV state carries over between calls (a quoted field split across pieces)', () => {
    const scanner = boundaryScanner('csv');
    expect(scanner.find(Buffer.from('x,"ab'), 0)).toBe(-1);
    expect(scanner.find(Buffer.from('\n""'), 0)).toBe(-1);
    expect(scanner.innerLineFeeds).toBe(1);
    expect(scanner.find(Buffer.from('"\n'), 0)).toBe(1);
  });
});
