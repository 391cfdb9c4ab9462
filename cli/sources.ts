/**
 * `hub sources add|list|rotate-key` (the credit office, with the operator
 * key): API.md "Sources". A new key is returned for printing once, alone on
 * stdout; the list is a table whose columns line up with Chinese names.
 */
import { RECORD_KINDS, SOURCE_ROLES, type RecordKind, type SourceRole } from '../contracts/roles.js';
import { CliError } from './errors.js';
import type { HubClient } from './http-client.js';

export interface NewSource {
  id: string;
  name: string;
  uscc: string;
  role: SourceRole;
  kinds: RecordKind[];
}

export interface Source extends NewSource {
  createdAt: string;
  keyRotatedAt: string;
}

/** `--kinds a,b` into kinds, each one API.md names. */
export function parseKinds(text: string | undefined): RecordKind[] {
  if (text === undefined || text.trim() === '') return [];
  const kinds = text.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !(RECORD_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new CliError(`未知的种类 (unknown kind ${unknown.map((k) => JSON.stringify(k)).join(', ')}: --kinds takes ${RECORD_KINDS.join(', ')}, comma-separated)`);
  }
  return kinds as RecordKind[];
}

export function parseRole(text: string): SourceRole {
  if (!(SOURCE_ROLES as readonly string[]).includes(text)) throw new CliError(`未知的角色 (unknown role ${JSON.stringify(text)}: --role takes ${SOURCE_ROLES.join(', ')})`);
  return text as SourceRole;
}

export async function addSource(client: HubClient, source: NewSource): Promise<string> {
  const { body } = await client.request<{ id: string; apiKey: string }>('POST', '/v1/sources', {
    action: { zh: `登记数据源${source.id}`, en: `registering source ${source.id}` },
    json: source,
    hints: { 403: '登记数据源需要运营方密钥 (registering a source needs the operator key)' },
  });
  if (typeof body.apiKey !== 'string') throw new CliError('hub的应答中没有密钥 (the answer has no apiKey)');
  return body.apiKey;
}

export async function listSources(client: HubClient): Promise<Source[]> {
  const { body } = await client.request<{ items: Source[] }>('GET', '/v1/sources', {
    action: { zh: '列出数据源', en: 'listing the sources' },
    hints: { 403: '列出数据源需要运营方密钥 (listing the sources needs the operator key)' },
  });
  if (!Array.isArray(body.items)) throw new CliError('hub的应答中没有数据源列表 (the answer has no items)');
  return body.items;
}

export async function rotateSourceKey(client: HubClient, id: string): Promise<string> {
  const { body } = await client.request<{ apiKey: string }>('POST', `/v1/sources/${encodeURIComponent(id)}/keys`, {
    action: { zh: `更换数据源${id}的密钥`, en: `replacing the key of source ${id}` },
    hints: { 403: '更换密钥需要运营方密钥 (replacing a key needs the operator key)', 404: '没有这个数据源 (no such source id)' },
  });
  if (typeof body.apiKey !== 'string') throw new CliError('hub的应答中没有密钥 (the answer has no apiKey)');
  return body.apiKey;
}

/** Columns a character takes in a terminal: 2 for East Asian wide and full-width characters. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c < 0xa0) || (c >= 0x300 && c <= 0x36f) || c === 0x200b || (c >= 0xfe00 && c <= 0xfe0f)) continue;
    const wide =
      (c >= 0x1100 && c <= 0x115f) ||
      (c >= 0x2e80 && c <= 0x303e) ||
      (c >= 0x3041 && c <= 0x33ff) ||
      (c >= 0x3400 && c <= 0x4dbf) ||
      (c >= 0x4e00 && c <= 0x9fff) ||
      (c >= 0xa000 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x1f300 && c <= 0x1f64f) ||
      (c >= 0x20000 && c <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - displayWidth(text)));

/** A plain-text table: a header row, then one row per item; columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `${l}\n`).join('');
}

export function sourcesTable(sources: readonly Source[]): string {
  if (sources.length === 0) return '（没有数据源 no sources）\n';
  return table(
    ['ID', '名称 name', '角色 role', '种类 kinds', '统一社会信用代码 USCC', '登记 created', '密钥更换 key rotated'],
    sources.map((s) => [s.id, s.name, s.role, s.kinds.join(',') || '-', s.uscc, `${s.createdAt.slice(0, 19)}Z`, `${s.keyRotatedAt.slice(0, 19)}Z`]),
  );
}
