/** Why a batch failed or a row was rejected before its contract was checked: in Chinese, with English in parentheses. */
import { MAX_ROW_BYTES } from './row-reader.js';

export const REASONS = {
  emptyFile: '文件为空 (empty file)',
  noRows: '文件中没有数据行 (the file has no rows: only empty lines)',
  noRowsAfterHeader: '文件只有表头，没有数据行 (the file has a header but no rows)',
  replaced: (line: number) =>
    `上传的文件在导入期间被替换 (the upload was replaced while it was being ingested; the rows before line ${line} came from the first file): 请新建批次重新上传 (create a new batch and upload again)`,
  unknownKind: (kind: string) => `不能以批次导入的信息种类 ${kind} (kind ${kind} cannot be ingested in batches)`,
  kindNotAllowed: (kind: string, sourceId: string) => `数据源 ${sourceId} 不能报送 ${kind} (source ${sourceId} may not push ${kind})`,
  headerTooLong: `表头超过${MAX_ROW_BYTES / 1024} KB (the header row is over ${MAX_ROW_BYTES / 1024} KB)`,
  headerNotText: (message: string) => `表头无法解码 (the header row cannot be decoded): ${message}`,
  headerNotCsv: (message: string) => `表头不是有效的CSV (the header row is not valid CSV): ${message}`,
  headerIsJson: '表头是JSON，文件似乎是NDJSON (the header row is JSON: the file looks like NDJSON; declare "format":"ndjson")',
  expired: (expiresAt: string) => `上传期限已过，未收到文件 (no file was uploaded before the upload URL expired at ${expiresAt})`,
} as const;

export const ROW_TOO_LONG = `行超过${MAX_ROW_BYTES / 1024} KB (row over ${MAX_ROW_BYTES / 1024} KB)`;
