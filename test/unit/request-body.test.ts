/**
 * Reading request bodies (shared/http/body.ts, charset.ts, content-encoding.ts)
 * and finding duplicate JSON keys (shared/json/duplicate-keys.ts): declared
 * charsets decoded strictly, gzip bounded, errors that never echo the body.
 */
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { bodyText, jsonEnvelopeBody, jsonObjectBody, jsonSyntaxReason, readJsonObject } from '../../shared/http/body.js';
import { declaredCharset, decodeText, malformedOffset, refuseReplacementCharacter, type Charset } from '../../shared/http/charset.js';
import { declaredEncoding, gunzipBody } from '../../shared/http/content-encoding.js';
import { HttpError } from '../../shared/http/errors.js';
import { dottedPath, findDuplicateKeys } from '../../shared/json/duplicate-keys.js';
import { encodeGb18030 } from '../support/gb18030.js';

/** 𠮷 (U+20BB7) exists only in GB18030 (four bytes 95 34 B2 35), not in GB2312 or the GBK table. */
const RARE = '𠮷';
const CHINESE = `沪市监罚〔2026〕${RARE}7号 吉林省长春市${RARE}某某商贸有限公司 ￥5,000.00 “引号”`;

function caught(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HttpError) return e;
    throw e;
  }
  throw new Error('expected an HttpError');
}

function event(body: Buffer | string | undefined, headers: Record<string, string> = {}, isBase64Encoded = Buffer.isBuffer(body)): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /x',
    rawPath: '/x',
    rawQueryString: '',
    headers,
    requestContext: {} as APIGatewayProxyEventV2['requestContext'],
    ...(body === undefined ? {} : { body: Buffer.isBuffer(body) ? body.toString('base64') : body }),
    isBase64Encoded,
  };
}

const LIMIT = 6 * 1024 * 1024;

describe('the GB18030 test encoder', () => {
  it('encodes 𠮷 as the four bytes GB18030 gives it, and round-trips Chinese text through the platform decoder', () => {
    expect([...encodeGb18030(RARE)]).toEqual([0x95, 0x34, 0xb2, 0x35]);
    expect([...encodeGb18030('中')]).toEqual([0xd6, 0xd0]);
    expect(new TextDecoder('gb18030').decode(encodeGb18030(CHINESE))).toBe(CHINESE);
  });
});

describe('declaredCharset', () => {
  it.each([
    [undefined, 'utf-8'],
    ['application/json', 'utf-8'],
    ['application/json; charset=utf-8', 'utf-8'],
    ['application/json;charset=UTF8', 'utf-8'],
    ['application/json; charset=gb18030', 'gb18030'],
    ['Application/JSON; Charset=GB18030', 'gb18030'],
    ['application/json; charset="GBK"', 'gbk'],
    ['text/plain; format=flowed; charset=gbk', 'gbk'],
    ['application/octet-stream; charset=gb18030', 'gb18030'],
    ['not a media type', 'utf-8'],
  ])('reads %s as %s', (header, charset) => {
    expect(declaredCharset(header)).toBe(charset);
  });

  it.each(['latin1', 'ISO-8859-1', 'gb2312', 'big5', 'utf-16', 'shift_jis'])('answers 400 unsupported_charset for charset=%s, naming it', (label) => {
    const error = caught(() => declaredCharset(`application/json; charset=${label}`));
    expect(error.status).toBe(400);
    expect(error.code).toBe('unsupported_charset');
    expect(error.message).toContain(`"${label}"`);
    expect(error.message).toContain('utf-8, gbk or gb18030');
    expect(error.details).toEqual([{ field: 'Content-Type', message: expect.stringContaining(label) }]);
  });

  it('shortens a long charset name and never echoes non-ASCII bytes', () => {
    const error = caught(() => declaredCharset(`application/json; charset="${'x'.repeat(5000)}\u00ff\u0080"`));
    expect(error.code).toBe('unsupported_charset');
    expect(error.message.length).toBeLessThan(200);
    expect(error.message).toContain('xxxx…"');
    const garbage = caught(() => declaredCharset('application/json; charset="\u00ff\u00fe"'));
    expect(garbage.message).not.toMatch(/[\u0080-\u00ff]/);
    expect(garbage.message).toContain('\\u00ff\\u00fe');
  });
});

describe('decodeText', () => {
  it('decodes GB18030 Chinese text, 𠮷 included', () => {
    expect(decodeText(encodeGb18030(CHINESE), 'gb18030')).toBe(CHINESE);
  });

  it('decodes charset=gbk as GB18030, its superset (as browsers do): common text, the euro sign 0x80, and even the four-byte 𠮷', () => {
    const gbk = encodeGb18030('行政处罚决定书 中华人民共和国');
    expect(decodeText(gbk, 'gbk')).toBe('行政处罚决定书 中华人民共和国');
    expect(decodeText(Buffer.from([0x80]), 'gbk')).toBe('€');
    expect(decodeText(encodeGb18030(CHINESE), 'gbk')).toBe(CHINESE);
  });

  it('decodes UTF-8 and skips a UTF-8 byte order mark', () => {
    expect(decodeText(Buffer.from(CHINESE), 'utf-8')).toBe(CHINESE);
    expect(decodeText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":"中"}')]), 'utf-8')).toBe('{"a":"中"}');
  });

  it('skips the GB18030 byte order mark (84 31 95 33)', () => {
    expect(decodeText(Buffer.concat([Buffer.from([0x84, 0x31, 0x95, 0x33]), encodeGb18030('{"a":"中"}')]), 'gb18030')).toBe('{"a":"中"}');
  });

  it('refuses a UTF-8 byte order mark on a body that declares GB18030 (a contradiction, and mojibake if decoded)', () => {
    const error = caught(() => decodeText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]), 'gb18030'));
    expect(error.code).toBe('malformed_text');
    expect(error.message).toContain('byte order mark');
  });

  it.each([
    ['a lone 0xFF', Buffer.from([0x61, 0x62, 0x63, 0xff, 0x64]), 3],
    ['GBK bytes (中 = D6 D0) read as UTF-8', Buffer.concat([Buffer.from('{"CF_WSH":"'), encodeGb18030('中')]), 11],
    ['a truncated sequence at the end', Buffer.concat([Buffer.from('ab'), Buffer.from('中').subarray(0, 2)]), 2],
    ['an encoded surrogate (ED A0 80)', Buffer.from([0x7b, 0xed, 0xa0, 0x80, 0x7d]), 1],
    ['an overlong encoding (C0 AF)', Buffer.from([0x41, 0xc0, 0xaf]), 1],
    ['a three-byte sequence cut short by ASCII', Buffer.from([0x41, 0x42, 0xe4, 0xb8, 0x41]), 2],
  ])('refuses invalid UTF-8 (%s) with 400 malformed_text and the byte offset', (_what, bytes, offset) => {
    const error = caught(() => decodeText(bytes, 'utf-8'));
    expect(error.status).toBe(400);
    expect(error.code).toBe('malformed_text');
    expect(error.message).toContain(`byte offset ${offset}`);
    expect(error.details).toEqual([{ field: '', message: `malformed text at byte ${offset}` }]);
    expect(error.message).toContain('charset=gb18030'); // the hint for a GB client that forgot to declare it
  });

  it.each([
    ['a lead byte followed by ASCII (81 20)', Buffer.from([0x41, 0x81, 0x20, 0x42]), 1],
    ['0xFF, never valid', Buffer.concat([encodeGb18030('中文'), Buffer.from([0xff])]), 4],
    ['a four-byte sequence past the BMP ranges (84 31 A5 30)', Buffer.concat([encodeGb18030('中'), Buffer.from([0x84, 0x31, 0xa5, 0x30])]), 2],
    ['a four-byte sequence with a bad third byte (81 30 20 30)', Buffer.from([0x81, 0x30, 0x20, 0x30]), 0],
    ['a truncated two-byte sequence at the end', Buffer.concat([encodeGb18030('中文'), Buffer.from([0xd6])]), 4],
  ])('refuses invalid GB18030 (%s) with 400 malformed_text and the byte offset', (_what, bytes, offset) => {
    for (const charset of ['gb18030', 'gbk'] as const) {
      const error = caught(() => decodeText(bytes, charset));
      expect(error.code).toBe('malformed_text');
      expect(error.message).toContain(`not valid ${charset}`);
      expect(error.message).toContain(`byte offset ${offset}`);
    }
  });

  it('finds the offset of an error deep in a large body, whatever the chunk boundaries', () => {
    for (const charset of ['utf-8', 'gb18030'] as const) {
      const encode = (s: string) => (charset === 'utf-8' ? Buffer.from(s) : encodeGb18030(s));
      const prefix = encode(`${'行政处罚'.repeat(7000)}${RARE}a`);
      for (const extra of [0, 1, 2, 3, 8191, 8192, 8193]) {
        const head = Buffer.concat([prefix, Buffer.alloc(extra, 0x20)]);
        const bytes = Buffer.concat([head, Buffer.from([0xff]), encode('结尾'.repeat(100))]);
        expect(malformedOffset(bytes, charset), `${charset} +${extra}`).toBe(head.length);
      }
    }
  });

  it('agrees with a byte-by-byte reference on random damage', () => {
    const reference = (bytes: Uint8Array, charset: Charset) => {
      const d = new TextDecoder(charset, { fatal: true, ignoreBOM: true });
      let start = 0;
      for (let i = 0; i < bytes.length; i++) {
        try {
          if (d.decode(bytes.subarray(i, i + 1), { stream: true }).length > 0) start = i + 1;
        } catch {
          return start;
        }
      }
      return start;
    };
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const charset of ['utf-8', 'gb18030'] as const) {
      const clean = charset === 'utf-8' ? Buffer.from(CHINESE.repeat(700)) : encodeGb18030(CHINESE.repeat(700));
      for (let n = 0; n < 40; n++) {
        const bytes = Buffer.from(clean);
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        let valid = true;
        try {
          new TextDecoder(charset, { fatal: true }).decode(bytes);
        } catch {
          valid = false;
        }
        if (!valid) expect(malformedOffset(bytes, charset)).toBe(reference(bytes, charset));
      }
    }
  });
});

describe('refuseReplacementCharacter', () => {
  it('refuses text holding U+FFFD: it marks bytes a decoder already lost (400 malformed_text)', () => {
    expect(() => refuseReplacementCharacter('{"a":"中"}')).not.toThrow();
    const error = caught(() => refuseReplacementCharacter('{"CF_WSH":"\ufffd\ufffd"}'));
    expect(error.code).toBe('malformed_text');
    expect(error.message).toContain('U+FFFD');
    expect(error.message).toContain('character 11');
  });
});

describe('declaredEncoding and gunzipBody', () => {
  it.each([
    [undefined, 'identity'],
    ['', 'identity'],
    ['identity', 'identity'],
    ['gzip', 'gzip'],
    ['GZIP', 'gzip'],
    ['x-gzip', 'gzip'],
    ['identity, gzip', 'gzip'],
  ])('reads Content-Encoding %s as %s', (header, encoding) => {
    expect(declaredEncoding(header)).toBe(encoding);
  });

  it.each(['br', 'deflate', 'compress', 'zstd', 'gzip, br', 'gzip, gzip'])('answers 415 unsupported_encoding for %s, with Accept-Encoding: gzip', (header) => {
    const error = caught(() => declaredEncoding(header));
    expect(error.status).toBe(415);
    expect(error.code).toBe('unsupported_encoding');
    expect(error.headers).toEqual({ 'accept-encoding': 'gzip' });
    expect(error.message).toContain(`"${header}"`);
    expect(error.message).toContain('Content-Encoding: gzip');
  });

  it('names an odd coding without echoing its bytes', () => {
    const error = caught(() => declaredEncoding(`\u00ff\u0001${'z'.repeat(500)}`));
    expect(error.message).not.toMatch(/[^\x20-\x7e\u4e00-\u9fff…]/);
    expect(error.message.length).toBeLessThan(200);
  });

  it('decompresses gzip up to the limit, decompressed bytes counted', () => {
    const bytes = Buffer.alloc(1000, 0x61);
    expect(gunzipBody(gzipSync(bytes), 1000).equals(bytes)).toBe(true);
    const error = caught(() => gunzipBody(gzipSync(Buffer.alloc(1001, 0x61)), 1000));
    expect(error.status).toBe(413);
    expect(error.code).toBe('payload_too_large');
    expect(error.message).toContain('decompressed');
  });

  it('answers a gzip bomb (1 GiB of zeros in 1 MB) with 413 without inflating it', () => {
    const member = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 16 }, () => member)); // 16 gzip members: 1 GiB once decompressed
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    const error = caught(() => gunzipBody(bomb, LIMIT));
    expect(error.status).toBe(413);
    // Inflation stops just past the limit: far less than the 1 GiB it would grow to is ever held.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it.each([
    ['not gzip at all', Buffer.from('{"records":[]}')],
    ['a truncated stream', gzipSync(Buffer.from('{"records":[]}')).subarray(0, 12)],
    ['trailing garbage', Buffer.concat([gzipSync(Buffer.from('{}')), Buffer.from('garbage')])],
    ['a flipped byte', (() => { const b = gzipSync(Buffer.from('{"records":[1,2,3]}')); b[b.length - 6]! ^= 0xff; return b; })()],
  ])('answers a corrupt gzip stream (%s) with 400 malformed_text', (_what, bytes) => {
    const error = caught(() => gunzipBody(bytes, LIMIT));
    expect(error.status).toBe(400);
    expect(error.code).toBe('malformed_text');
    expect(error.message).toContain('gzip');
  });
});

describe('bodyText: from the event to text', () => {
  it('takes a string body (API Gateway text) as it is, without a BOM', () => {
    expect(bodyText(event('{"a":"中"}', { 'content-type': 'application/json' }, false), LIMIT)).toBe('{"a":"中"}');
    expect(bodyText(event('\ufeff{"a":1}', {}, false), LIMIT)).toBe('{"a":1}');
    expect(bodyText(event(undefined), LIMIT)).toBe('');
  });

  it('refuses a string body holding U+FFFD: what a front end leaves of bytes it could not decode', () => {
    const error = caught(() => bodyText(event('{"CF_WSH":"\ufffd\ufffd"}', { 'content-type': 'application/json; charset=gb18030' }, false), LIMIT));
    expect(error.code).toBe('malformed_text');
    // A GB18030 body that API Gateway handed over as text: say how to send it so that its bytes arrive.
    expect(error.message).toContain('application/octet-stream; charset=gb18030');
  });

  it('decodes a base64 body in the declared charset', () => {
    const bytes = encodeGb18030(`{"CF_WSH":"${CHINESE}"}`);
    expect(bodyText(event(bytes, { 'content-type': 'application/json; charset=gb18030' }), LIMIT)).toBe(`{"CF_WSH":"${CHINESE}"}`);
    expect(caught(() => bodyText(event(bytes, { 'content-type': 'application/json' }), LIMIT)).code).toBe('malformed_text');
  });

  it('checks the charset even of a string body', () => {
    expect(caught(() => bodyText(event('{}', { 'content-type': 'application/json; charset=latin1' }, false), LIMIT)).code).toBe('unsupported_charset');
  });

  it('gunzips, then decodes in the declared charset', () => {
    const bytes = gzipSync(encodeGb18030(`{"a":"${CHINESE}"}`));
    expect(bodyText(event(bytes, { 'content-type': 'application/json; charset=GB18030', 'content-encoding': 'gzip' }), LIMIT)).toBe(`{"a":"${CHINESE}"}`);
  });

  it('refuses a gzip body that arrived as a string: its bytes are already lost', () => {
    const error = caught(() => bodyText(event('\u001f\ufffd\b\u0000', { 'content-encoding': 'gzip' }, false), LIMIT));
    expect(error.code).toBe('malformed_text');
    expect(error.message).toContain('application/octet-stream');
  });

  it('applies the limit to the bytes sent and to the decompressed body', () => {
    expect(caught(() => bodyText(event(Buffer.alloc(1001, 0x20)), 1000)).status).toBe(413);
    expect(caught(() => bodyText(event('中'.repeat(334), {}, false), 1000)).status).toBe(413);
    expect(bodyText(event(gzipSync(Buffer.alloc(1000, 0x20)), { 'content-encoding': 'gzip' }), 1000)).toHaveLength(1000);
    expect(caught(() => bodyText(event(gzipSync(Buffer.alloc(1001, 0x20)), { 'content-encoding': 'gzip' }), 1000)).status).toBe(413);
  });

  it('answers 415 for another coding before reading the body', () => {
    expect(caught(() => bodyText(event(Buffer.from([0x1b, 0x00, 0xff]), { 'content-encoding': 'br' }), LIMIT)).status).toBe(415);
  });
});

describe('JSON errors never echo the body', () => {
  it.each([
    ['binary noise', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x01, 0x02, 0x7f, 0x1b, 0x5b, 0x33, 0x31, 0x6d])],
    ['a long secret after a syntax error', Buffer.from(`{"a": x ${'SECRET'.repeat(1000)}}`)],
    ['Chinese text after a bad token', Buffer.from('{"CF_XDR_MC": 上海某某科技有限公司}')],
  ])('answers malformed_json for %s with a short message in printable ASCII (plus the Chinese lead)', (_what, bytes) => {
    const error = caught(() => readJsonObject(event(bytes), LIMIT));
    expect(error.code).toBe('malformed_json');
    expect(error.message.length).toBeLessThan(200);
    expect(error.message).not.toContain('SECRET');
    expect(error.message).not.toContain('某某');
    expect(error.message.replace('请求体不是有效的JSON', '')).toMatch(/^[\x20-\x7e]*$/);
  });

  it('keeps the position V8 gives, and drops the excerpt it quotes', () => {
    expect(jsonSyntaxReason(new SyntaxError("Expected ':' after property name in JSON at position 5 (line 1 column 6)"))).toBe(
      "Expected ':' after property name in JSON at position 5 (line 1 column 6)",
    );
    expect(jsonSyntaxReason(new SyntaxError('Unexpected token \'中\', "{"a":中文文本}" is not valid JSON'))).toBe("Unexpected token '\\u4e2d'");
    expect(jsonSyntaxReason(new SyntaxError('"undefined" is not valid JSON'))).toBe('not valid JSON');
  });
});

describe('findDuplicateKeys', () => {
  const dups = (text: string) => {
    JSON.parse(text); // the scanner's precondition
    return findDuplicateKeys(text).paths;
  };

  it('finds none in ordinary JSON, whatever its strings contain', () => {
    expect(dups('{}')).toEqual([]);
    expect(dups('{"a":1,"b":{"a":1},"c":[{"a":1},{"a":2}]}')).toEqual([]);
    expect(dups('{"a":"},{\\"a\\":1,","b":"\\\\","c":"\\"a\\":","d":"[{\\"a\\":1,\\"a\\":2}]"}')).toEqual([]);
    expect(dups('[1, "a", {"a": true}, [], {}, null]')).toEqual([]);
    expect(dups('"{\\"a\\":1,\\"a\\":2}"')).toEqual([]);
  });

  it('finds a repeated key with its path, the key last', () => {
    expect(dups('{"CF_NR_FK":"2","CF_NR":"x","CF_NR_FK":"999"}')).toEqual([['CF_NR_FK']]);
    expect(dups('{"records":[{"a":1},{"b":1,"b":2}]}')).toEqual([['records', 1, 'b']]);
    expect(dups('{"records":[{"a":1}],"records":[]}')).toEqual([['records']]);
  });

  it('finds nested duplicates at any depth, with array indexes', () => {
    expect(dups('{"x":[[1,{"a":{"b":1,"b":2}}],[{"c":1,"c":2,"c":3}]]}')).toEqual([
      ['x', 0, 1, 'a', 'b'],
      ['x', 1, 0, 'c'],
      ['x', 1, 0, 'c'],
    ]);
    expect(dups(' [ {"a":1} , { "a" : [ 0 , 1 , { "z" : 0 , "z" : 1 } ] , "a" : 2 } ] ')).toEqual([
      [1, 'a', 2, 'z'],
      [1, 'a'],
    ]);
  });

  it('compares keys after unescaping: "a", "\\u0061" and "\\u0061" are one key; so are escaped quotes and CJK', () => {
    expect(dups('{"a":1,"\\u0061":2}')).toEqual([['a']]);
    expect(dups('{"a\\"b":1,"a\\u0022b":2}')).toEqual([['a"b']]);
    expect(dups('{"罚款":1,"\\u7f5a\\u6b3e":2}')).toEqual([['罚款']]);
    expect(dups('{"a\\\\":1,"a\\u005c":2}')).toEqual([['a\\']]);
    expect(dups('{"a":1,"A":2,"a ":3}')).toEqual([]);
  });

  it('finds repeated empty and __proto__ keys', () => {
    expect(dups('{"":1,"":2}')).toEqual([['']]);
    expect(dups('{"__proto__":{},"__proto__":1}')).toEqual([['__proto__']]);
  });

  it('reports at most `limit` paths and says there were more', () => {
    const text = `{${Array.from({ length: 30 }, () => '"k":1').join(',')}}`;
    expect(findDuplicateKeys(text, 10)).toEqual({ paths: Array.from({ length: 10 }, () => ['k']), truncated: true });
    expect(findDuplicateKeys(text).truncated).toBe(false);
  });

  it('finds the same duplicates as a recursive reference in generated documents', () => {
    let seed = 11;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const keys = ['a', 'b', '\\u0061', 'c\\"', 'c\\u0022', '键', '\\u952e'];
    const expected: (string | number)[][] = [];
    const unescape = (k: string) => JSON.parse(`"${k}"`) as string;
    const gen = (path: (string | number)[], depth: number): string => {
      const kind = depth > 3 ? 3 : random(4);
      if (kind === 0) {
        const seen = new Set<string>();
        const members: string[] = [];
        for (let i = random(5); i > 0; i--) {
          const key = keys[random(keys.length)]!;
          const name = unescape(key);
          if (seen.has(name)) expected.push([...path, name]);
          seen.add(name);
          members.push(`"${key}" : ${gen([...path, name], depth + 1)}`);
        }
        return `{${members.join(' ,')}}`;
      }
      if (kind === 1) return `[${Array.from({ length: random(4) }, (_, i) => gen([...path, i], depth + 1)).join(',')}]`;
      if (kind === 2) return JSON.stringify(`{"a":1,"a":2} \\" ${random(100)}`);
      return String(random(1000) - 500);
    };
    for (let n = 0; n < 200; n++) {
      expected.length = 0;
      const text = gen([], 0);
      // Recursive generation lists inner duplicates before the key that holds them; the scanner reports in document order.
      const sort = (list: (string | number)[][]) => list.map((p) => JSON.stringify(p)).sort();
      expect(sort(dups(text))).toEqual(sort(expected));
    }
  });

  it('finds no duplicate in a 6 MB push of 1,000 records with escapes and CJK text (its speed is measured by npm run bench)', () => {
    const record = (i: number) => ({
      CF_XDR_MC: `上海某某科技有限公司${i}`,
      CF_WSH: `沪市监罚〔2026〕${i}号`,
      CF_SY: '经查，当事人销售的食品不符合食品安全标准。“引号”\\反斜杠'.repeat(60),
      ...Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`F_${k}`, `第${i}条记录的第${k}个字段`])),
    });
    const text = JSON.stringify({ records: Array.from({ length: 1000 }, (_, i) => record(i)) });
    expect(Buffer.byteLength(text)).toBeGreaterThan(5 * 1024 * 1024);
    expect(findDuplicateKeys(text).paths).toEqual([]);
    const withOne = text.replace('"F_7":"第999条记录的第7个字段"', '"F_7":"第999条记录的第7个字段","F_7":"x"');
    expect(findDuplicateKeys(withOne).paths).toEqual([['records', 999, 'F_7']]);
  });

  it('names paths with dots, each segment shortened', () => {
    expect(dottedPath(['records', 3, 'CF_NR_FK'])).toBe('records.3.CF_NR_FK');
    expect(dottedPath(['k'.repeat(100)])).toBe(`${'k'.repeat(64)}…`);
  });
});

describe('jsonObjectBody and jsonEnvelopeBody: duplicate keys', () => {
  const json = (text: string) => event(text, { 'content-type': 'application/json' }, false);

  it('jsonObjectBody answers 400 duplicate_key naming the key and its path', () => {
    expect(jsonObjectBody(json('{"id":"a","name":"b"}'), LIMIT)).toEqual({ id: 'a', name: 'b' });
    const error = caught(() => jsonObjectBody(json('{"id":"a","role":"checker","kinds":[],"role":"department"}'), LIMIT));
    expect(error.status).toBe(400);
    expect(error.code).toBe('duplicate_key');
    expect(error.message).toContain('duplicate key role');
    expect(error.details).toEqual([{ field: 'role', message: '字段重复 (duplicate key)' }]);
    const nested = caught(() => jsonObjectBody(json('{"a":{"b":[{"c":1,"\\u0063":2}]}}'), LIMIT));
    expect(nested.details).toEqual([{ field: 'a.b.0.c', message: '字段重复 (duplicate key)' }]);
  });

  it('shortens a long duplicate key and lists at most 20 in the details', () => {
    const long = 'k'.repeat(10_000);
    const error = caught(() => jsonObjectBody(json(`{"${long}":1,"${long}":2}`), LIMIT));
    expect(error.message.length).toBeLessThan(300);
    const many = caught(() => jsonObjectBody(json(`{${Array.from({ length: 50 }, () => '"x":1').join(',')}}`), LIMIT));
    expect(many.details).toHaveLength(20);
    expect(many.message).toContain('and 48 more');
  });

  it('jsonEnvelopeBody turns a key repeated inside record i into that record’s errors (field: its path inside the record)', () => {
    const body = jsonEnvelopeBody(
      json('{"records":[{"CF_NR_FK":"2","CF_NR":"x","CF_NR_FK":"999"},{"ok":1},{"a":{"b":1,"b":2},"a":3}]}'),
      LIMIT,
      'records',
    );
    expect(body.value).toEqual({ records: [{ CF_NR_FK: '999', CF_NR: 'x' }, { ok: 1 }, { a: 3 }] });
    expect([...body.itemErrors.keys()]).toEqual([0, 2]);
    expect(body.itemErrors.get(0)).toEqual([{ field: 'CF_NR_FK', message: expect.stringMatching(/^字段重复 \(duplicate key CF_NR_FK/) }]);
    expect(body.itemErrors.get(2)!.map((e) => e.field)).toEqual(['a.b', 'a']);
  });

  it.each([
    ['two "records" keys', '{"records":[{"a":1}],"records":[{"a":2}]}', 'records'],
    ['a repeated key beside records', '{"records":[{"a":1}],"x":1,"x":2}', 'x'],
    ['records given as an object', '{"records":{"0":{"a":1,"a":2}}}', 'records.0.a'],
  ])('jsonEnvelopeBody answers 400 duplicate_key for %s', (_what, text, field) => {
    const error = caught(() => jsonEnvelopeBody(json(text), LIMIT, 'records'));
    expect(error.code).toBe('duplicate_key');
    expect(error.details[0]!.field).toBe(field);
  });

  it('jsonEnvelopeBody refuses the whole body when there are more duplicates than it reports', () => {
    const record = `{${Array.from({ length: 1200 }, () => '"a":1').join(',')}}`;
    const error = caught(() => jsonEnvelopeBody(json(`{"records":[${record}]}`), LIMIT, 'records'));
    expect(error.code).toBe('duplicate_key');
    expect(error.message).toContain('many more');
  });
});
