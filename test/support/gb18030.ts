/**
 * A GB18030 encoder for tests, built by inverting the platform's own
 * decoder (WHATWG gb18030): one byte for ASCII, two bytes for the GBK table,
 * four bytes for the rest of the BMP and for supplementary characters (𠮷
 * U+20BB7 → 95 34 B2 35). Node has no encoder for it, and a department's
 * system is what produces these bytes in real life.
 */
let twoAndFourByte: Map<string, number[]> | undefined;

function pointerBytes(pointer: number): number[] {
  return [0x81 + Math.floor(pointer / 12600), 0x30 + (Math.floor(pointer / 1260) % 10), 0x81 + (Math.floor(pointer / 10) % 126), 0x30 + (pointer % 10)];
}

function table(): Map<string, number[]> {
  if (twoAndFourByte) return twoAndFourByte;
  const map = new Map<string, number[]>();
  const decoder = new TextDecoder('gb18030');
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      const char = decoder.decode(Uint8Array.of(lead, trail));
      if (!map.has(char)) map.set(char, [lead, trail]);
    }
  }
  // Four-byte sequences of the BMP: pointers 0 … 39419.
  for (let pointer = 0; pointer <= 39419; pointer++) {
    const bytes = pointerBytes(pointer);
    const char = decoder.decode(Uint8Array.from(bytes));
    if (char !== '\ufffd' && !map.has(char)) map.set(char, bytes);
  }
  twoAndFourByte = map;
  return map;
}

export function encodeGb18030(text: string): Buffer {
  const out: number[] = [];
  for (const char of text) {
    const cp = char.codePointAt(0)!;
    if (cp < 0x80) out.push(cp);
    else if (cp >= 0x10000) out.push(...pointerBytes(cp - 0x10000 + 189000));
    else {
      const bytes = table().get(char);
      if (!bytes) throw new Error(`no GB18030 encoding for U+${cp.toString(16)}`);
      out.push(...bytes);
    }
  }
  return Buffer.from(out);
}
