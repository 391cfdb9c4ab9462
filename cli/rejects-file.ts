/**
 * The rejected records of a push, one JSON line each in file order, in the
 * shape of a court batch's rejects: `{"line":17,"reasons":[{"field","message"}]}`
 * (line numbers of the input file; no record content, which the input has).
 * Written as the answers come, so memory stays bounded; resumable: opened
 * at a given length, anything after it is cut off first.
 */
import { closeSync, ftruncateSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { fileError } from './errors.js';

export interface RejectedLine {
  line: number;
  reasons: { field: string; message: string }[];
}

export class RejectsFile {
  #fd: number | undefined;
  #bytes: number;

  private constructor(
    readonly path: string,
    bytes: number,
  ) {
    this.#bytes = bytes;
  }

  /** Opens `path` cut to `length` bytes (0: a new, empty file). */
  static open(path: string, length: number): RejectsFile {
    const file = new RejectsFile(path, length);
    try {
      file.#fd = openSync(path, length === 0 ? 'w' : 'r+', 0o600);
      ftruncateSync(file.#fd, length);
    } catch (e) {
      if (length > 0 && (e as NodeJS.ErrnoException).code === 'ENOENT') return RejectsFile.open(path, 0);
      throw fileError(e, path, { zh: '写入拒收记录文件', en: 'write the rejects file' });
    }
    return file;
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.#bytes;
  }

  append(lines: readonly RejectedLine[]): void {
    if (lines.length === 0) return;
    const text = Buffer.from(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    try {
      writeSync(this.#fd!, text, 0, text.length, this.#bytes);
    } catch (e) {
      throw fileError(e, this.path, { zh: '写入拒收记录文件', en: 'write the rejects file' });
    }
    this.#bytes += text.length;
  }

  /** Closes the file; removes it when nothing was rejected. */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    if (this.#bytes === 0) rmSync(this.path, { force: true });
  }
}

/** The first `n` rejected records of a rejects file (read from its first 64 KB only). */
export function firstRejected(path: string, n: number): RejectedLine[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    const lines = buffer.subarray(0, read).toString('utf8').split('\n');
    // The last piece may be cut off (or empty after the last line feed).
    return lines
      .slice(0, -1)
      .slice(0, n)
      .map((l) => JSON.parse(l) as RejectedLine);
  } finally {
    closeSync(fd);
  }
}
