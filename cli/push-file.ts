/**
 * `hub push FILE --kind …`: a local file's records through
 * `POST /v1/submissions/{kind}`, in chunks (push-chunks.ts), a few requests
 * in flight, answers counted in file order; rejected records (by the hub, or
 * unreadable rows) written to the rejects file with their line numbers; the
 * progress file (push-state.ts) rewritten after each answered chunk so that
 * running the same command again after an interruption resumes the push,
 * and nothing is applied twice.
 */
import { realpathSync, statSync } from 'node:fs';
import type { PushKind } from '../contracts/kinds.js';
import { CliError, fileError } from './errors.js';
import type { HubClient } from './http-client.js';
import { chunkKey, chunkRows, type ChunkLimits, type PushChunk } from './push-chunks.js';
import { loadPushState, newPushState, removePushState, sameIdentity, savePushState, type PushCounts, type PushIdentity, type PushState } from './push-state.js';
import { barOf, count, etaOf, percentOf, type Progress, type ProgressFactory, type ProgressView } from './progress.js';
import { readFileRows, type FileEncoding, type FileFormat } from './record-reader.js';
import { firstRejected, RejectsFile, type RejectedLine } from './rejects-file.js';

export interface PushFileOptions {
  file: string;
  kind: PushKind;
  format: FileFormat;
  encoding: FileEncoding;
  rejectsPath: string;
  progressPath: string;
  limits: ChunkLimits;
  /** Requests in flight at once. */
  concurrency: number;
  /** How many rejected records the summary shows (all are in the rejects file). */
  shownRejects?: number;
}

export interface PushFileDeps {
  client: HubClient;
  progress: ProgressFactory;
  /** A line for the person running the push (stderr). */
  notice: (line: string) => void;
  signal?: AbortSignal;
}

export interface PushSummary {
  file: string;
  kind: PushKind;
  counts: PushCounts;
  requests: number;
  /** This run continued an interrupted one. */
  resumed: boolean;
  /** Where the rejected records are, when any was rejected. */
  rejectsPath?: string;
  /** The first rejected records of the file (all are in the rejects file). */
  firstRejects: RejectedLine[];
}

/** One answer of POST /v1/submissions/{kind} (API.md). */
interface PushAnswer {
  accepted: number;
  updated: number;
  duplicates: number;
  rejected: number;
  results: { index: number; status: 'accepted' | 'updated' | 'duplicate' | 'rejected'; late?: boolean; errors?: { field: string; message: string }[] }[];
}

interface PushPayload {
  counts: PushCounts;
}

export const pushView = (file: string): ProgressView<PushPayload> => ({
  render: ({ value, total, eta }, { counts }, note) =>
    [
      `推送 push ${barOf(total ? value / total : 0)} ${percentOf(value, total)}`,
      `${count(counts.total)} 条 records`,
      `新增 accepted ${count(counts.accepted)} 更新 updated ${count(counts.updated)} 重复 duplicates ${count(counts.duplicates)} 拒收 rejected ${count(counts.rejected)}`,
      note ?? etaOf(eta),
    ]
      .filter(Boolean)
      .join(' | ') || file,
});

function fileIdentity(path: string): { realPath: string; size: number; mtimeMs: number } {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new CliError(`不是文件 (not a file): ${path}`);
    return { realPath: realpathSync(path), size: stat.size, mtimeMs: stat.mtimeMs };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw fileError(e, path, { zh: '读取', en: 'read' });
  }
}

/** The answer's results, checked against what was sent: the hub answers every record once. */
function checkedAnswer(answer: PushAnswer, sent: number): PushAnswer {
  const ok =
    Array.isArray(answer?.results) &&
    answer.results.length === sent &&
    new Set(answer.results.map((r) => r.index)).size === sent &&
    answer.results.every((r) => Number.isInteger(r.index) && r.index >= 0 && r.index < sent);
  if (!ok) throw new CliError(`hub的应答与所发记录不符 (the hub's answer does not match the ${sent} records sent: ${answer?.results?.length ?? 'no'} results)`);
  return answer;
}

export async function pushFile(options: PushFileOptions, deps: PushFileDeps): Promise<PushSummary> {
  const { file, kind, format, encoding } = options;
  const shown = options.shownRejects ?? 10;
  const identityOfFile = fileIdentity(file);
  if (identityOfFile.size === 0) throw new CliError(`文件无效 (invalid file) ${file}: 文件为空 (empty file)`);
  const identity: PushIdentity = { url: deps.client.url, kind, format, encoding, file: { size: identityOfFile.size, mtimeMs: identityOfFile.mtimeMs } };

  const earlier = loadPushState(options.progressPath);
  const resumed = earlier !== undefined && sameIdentity(earlier, identity);
  if (earlier && !resumed) deps.notice(`hub: 之前的推送进度与本次不符，重新开始 (the progress file ${options.progressPath} is of another push or of the file before it changed: starting afresh)`);
  const state: PushState = resumed ? { ...earlier } : newPushState(identity, options.limits, options.rejectsPath);
  if (resumed) {
    deps.notice(
      `hub: 继续上次中断的推送 (resuming the interrupted push: ${count(state.counts.total)} records already answered, up to byte ${count(state.doneOffset)} of ${count(identity.file.size)})`,
    );
    if (state.rejectsPath !== options.rejectsPath) deps.notice(`hub: 拒收记录仍写入 (rejected records still go to) ${state.rejectsPath}`);
  }

  let rejects: RejectsFile | undefined;
  let progress: Progress<PushPayload> | undefined;
  /** Once the file's first rows have been judged (an invalid file leaves nothing behind): the progress file, the rejects file, the bar. */
  const begin = () => {
    savePushState(options.progressPath, state);
    rejects = RejectsFile.open(state.rejectsPath, state.rejectsBytes);
    progress = deps.progress(pushView(file), identity.file.size, { counts: state.counts });
    progress.update(state.doneOffset, { counts: state.counts });
  };
  const abort = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, abort.signal]) : abort.signal;
  const inFlight: { chunk: PushChunk; answer: Promise<PushAnswer | undefined> }[] = [];

  const send = (chunk: PushChunk): Promise<PushAnswer | undefined> => {
    if (!chunk.body) return Promise.resolve(undefined);
    state.requests++;
    return deps.client
      .request<PushAnswer>('POST', `/v1/submissions/${kind}`, {
        action: { zh: '推送', en: 'push' },
        body: chunk.body,
        idempotencyKey: chunkKey(state.runId, chunk),
        hints: { 413: '请减小 --records-per-request (lower --records-per-request)' },
        signal,
      })
      .then((a) => checkedAnswer(a.body, chunk.sent.length));
  };

  /** Counts a chunk's answer, writes its rejections, then moves the progress file past it. */
  const settle = async (entry: { chunk: PushChunk; answer: Promise<PushAnswer | undefined> }) => {
    const { chunk } = entry;
    const answer = await entry.answer;
    const reasons = new Map<number, RejectedLine['reasons']>();
    chunk.rows.forEach((row, i) => row.errors && reasons.set(i, row.errors));
    const counts = { ...state.counts, total: state.counts.total + chunk.rows.length };
    for (const result of answer?.results ?? []) {
      const position = chunk.sent[result.index]!;
      if (result.status === 'accepted') counts.accepted++;
      else if (result.status === 'updated') counts.updated++;
      else if (result.status === 'duplicate') counts.duplicates++;
      else reasons.set(position, result.errors ?? []);
      if (result.late && (result.status === 'accepted' || result.status === 'updated')) counts.late++;
    }
    counts.rejected += reasons.size;
    const lines = [...reasons.entries()].sort(([a], [b]) => a - b).map(([position, r]) => ({ line: chunk.rows[position]!.line, reasons: r }));
    rejects!.append(lines);
    Object.assign(state, { counts, doneOffset: chunk.end, rejectsBytes: rejects!.bytes, updatedAt: new Date().toISOString() });
    savePushState(options.progressPath, state);
    progress!.update(chunk.end, { counts });
  };

  try {
    for await (const chunk of chunkRows(readFileRows(file, { format, encoding, kind }), state.limits)) {
      if (!progress) begin();
      if (chunk.end <= state.doneOffset) continue;
      const answer = send(chunk);
      // Marked as handled at once: a failure is rethrown when its turn comes, in file order.
      answer.catch(() => undefined);
      inFlight.push({ chunk, answer });
      if (inFlight.length >= options.concurrency) await settle(inFlight.shift()!);
    }
    while (inFlight.length > 0) await settle(inFlight.shift()!);
  } catch (e) {
    abort.abort(e);
    await Promise.allSettled(inFlight.map((f) => f.answer));
    progress?.stop();
    rejects?.close();
    // Nothing was ever sent (an invalid file, say): there is nothing to resume.
    if (state.requests === 0 && state.doneOffset === 0) removePushState(options.progressPath);
    else if (e instanceof CliError && state.doneOffset > 0) throw new CliError(`${e.message} — 重新运行同一命令即可从中断处继续 (run the same command again to resume)`, e.exitCode);
    throw e;
  }
  progress?.stop();
  rejects?.close();
  removePushState(options.progressPath);
  return {
    file,
    kind,
    counts: state.counts,
    requests: state.requests,
    resumed,
    ...(state.counts.rejected > 0 ? { rejectsPath: state.rejectsPath } : {}),
    // From the file: a resumed push shows the first rejected records of the whole file too.
    firstRejects: state.counts.rejected > 0 ? firstRejected(state.rejectsPath, shown) : [],
  };
}

/** The summary for a person (stdout). */
export function formatPushSummary(summary: PushSummary): string {
  const c = summary.counts;
  const width = Math.max(...[c.total, c.accepted, c.updated, c.duplicates, c.rejected].map((n) => count(n).length));
  const row = (label: string, n: number, extra = '') => `  ${label.padEnd(22)}${count(n).padStart(width)}${extra}\n`;
  let text = `推送完成 (push done): ${summary.file} → ${summary.kind}${summary.resumed ? '（续传 resumed）' : ''}\n`;
  text += row('记录 records', c.total);
  text += row('新增 accepted', c.accepted);
  text += row('更新 updated', c.updated);
  text += row('重复 duplicates', c.duplicates);
  text += row('拒收 rejected', c.rejected);
  if (c.late > 0) text += `  其中${count(c.late)}条逾期报送 (${count(c.late)} of the accepted or updated records are flagged late: more than 7 working days after their decision)\n`;
  if (summary.rejectsPath) {
    text += `拒收记录的行号和原因 (line numbers and reasons of the rejected records): ${summary.rejectsPath}\n`;
    for (const r of summary.firstRejects) {
      text += `  第${r.line}行 (line ${r.line}): ${r.reasons.map((x) => (x.field ? `${x.field}: ${x.message}` : x.message)).join('; ')}\n`;
    }
    if (c.rejected > summary.firstRejects.length) text += `  … 共${count(c.rejected)}条 (${count(c.rejected)} in all: see the file)\n`;
  }
  return text;
}
