/**
 * The progress file of an unfinished `hub push` (`<file>.hub-push.json`):
 * which run it is (its chunks' Idempotency-Keys), up to which byte of the
 * file every row has its answer counted, the counts so far and how long the
 * rejects file was then. It is rewritten (atomically: a temporary file
 * renamed over it) after every chunk that is answered, and removed when the
 * push is done.
 *
 * Running the same push again (same file unchanged, hub URL, kind, format,
 * encoding) resumes it: the chunks before the offset are not sent again, the
 * next ones are sent under the same keys, so one that was in flight when the
 * push was cut off gets its first answer back and nothing is applied twice.
 * A finished push leaves no progress file: running it again sends everything
 * again under new keys, and the hub answers unchanged records as duplicates.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { PushKind } from '../contracts/kinds.js';
import { fileError } from './errors.js';
import type { ChunkLimits } from './push-chunks.js';
import type { FileEncoding, FileFormat } from './record-reader.js';

export interface PushCounts {
  total: number;
  accepted: number;
  updated: number;
  duplicates: number;
  rejected: number;
  /** Accepted or updated 双公示 records flagged late (more than 7 working days after their decision). */
  late: number;
}

export const ZERO_COUNTS: PushCounts = Object.freeze({ total: 0, accepted: 0, updated: 0, duplicates: 0, rejected: 0, late: 0 });

/** What must be the same for a push to resume another. */
export interface PushIdentity {
  url: string;
  kind: PushKind;
  format: FileFormat;
  encoding: FileEncoding;
  /** The file as it was when the push began. */
  file: { size: number; mtimeMs: number };
}

export interface PushState extends PushIdentity {
  version: 1;
  runId: string;
  /** Chunks are cut with these limits, on resume too. */
  limits: ChunkLimits;
  /** Every row before this byte offset has its answer counted (and its rejection written). */
  doneOffset: number;
  counts: PushCounts;
  rejectsPath: string;
  /** Length of the rejects file at `doneOffset`: anything after it (a chunk cut off mid-write) is dropped on resume. */
  rejectsBytes: number;
  requests: number;
  startedAt: string;
  updatedAt: string;
}

export const progressPathFor = (file: string) => `${file}.hub-push.json`;

export function newPushState(identity: PushIdentity, limits: ChunkLimits, rejectsPath: string, now = new Date()): PushState {
  return {
    version: 1,
    runId: randomUUID(),
    ...identity,
    limits,
    doneOffset: 0,
    counts: { ...ZERO_COUNTS },
    rejectsPath,
    rejectsBytes: 0,
    requests: 0,
    startedAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

/** The progress file's state; undefined when there is none or it cannot be read (then the push starts afresh). */
export function loadPushState(path: string): PushState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const state = JSON.parse(text) as PushState;
    const valid =
      state.version === 1 &&
      typeof state.runId === 'string' &&
      Number.isInteger(state.doneOffset) &&
      Number.isInteger(state.rejectsBytes) &&
      typeof state.rejectsPath === 'string' &&
      Number.isInteger(state.limits?.maxRecords) &&
      Number.isInteger(state.limits?.maxBytes) &&
      typeof state.counts?.total === 'number';
    return valid ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `state` is an unfinished push of the same file (unchanged) to the same hub, kind, format and encoding. */
export function sameIdentity(state: PushIdentity, wanted: PushIdentity): boolean {
  return (
    state.url === wanted.url &&
    state.kind === wanted.kind &&
    state.format === wanted.format &&
    state.encoding === wanted.encoding &&
    state.file.size === wanted.file.size &&
    state.file.mtimeMs === wanted.file.mtimeMs
  );
}

export function savePushState(path: string, state: PushState): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(state, null, 1)}\n`, { mode: 0o600 });
    renameSync(temporary, path);
  } catch (e) {
    rmSync(temporary, { force: true });
    throw fileError(e, path, { zh: '写入进度文件', en: 'write the progress file' });
  }
}

export function removePushState(path: string): void {
  rmSync(path, { force: true });
}
