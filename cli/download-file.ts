/**
 * A presigned GET URL (a batch's `rejectsUrl`) saved to a local file,
 * streamed (never whole in memory), written to a temporary file renamed into
 * place once complete. No key is sent: the URL carries its own signature.
 */
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { CliError, fileError } from './errors.js';
import { networkReason } from './http-client.js';
import { storageError } from './upload-file.js';

export async function downloadFile(url: string, path: string, signal?: AbortSignal): Promise<number> {
  let res: Response;
  try {
    res = await fetch(url, { ...(signal ? { signal } : {}) });
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw new CliError(`无法下载拒收记录 (cannot download the rejected rows: ${networkReason(e)})`);
  }
  if (!res.ok || !res.body) {
    const detail = storageError(await res.text().catch(() => ''));
    throw new CliError(`无法下载拒收记录 (cannot download the rejected rows: HTTP ${res.status}${detail ? ` ${detail}` : ''})`);
  }
  const temporary = `${path}.${process.pid}.part`;
  let written = 0;
  try {
    const out = createWriteStream(temporary, { mode: 0o600 });
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), async function* (source) {
      for await (const chunk of source) {
        written += (chunk as Buffer).length;
        yield chunk;
      }
    }, out);
    renameSync(temporary, path);
    return written;
  } catch (e) {
    rmSync(temporary, { force: true });
    if (signal?.aborted) throw signal.reason;
    if (e && typeof e === 'object' && 'syscall' in e) throw fileError(e, path, { zh: '写入', en: 'write' });
    throw new CliError(`无法下载拒收记录 (cannot download the rejected rows: ${networkReason(e)})`);
  }
}
