/**
 * How the `hub` command line ends: its exit codes, and the one kind of error
 * it reports to a person — one line, in Chinese with English in parentheses,
 * never a stack trace.
 */

/** Exit codes (also listed by `hub --help`). */
export const EXIT = {
  /** Done: every record or row was answered and none was rejected. */
  ok: 0,
  /** Nothing done, or stopped part-way: a usage error, an unreadable or invalid file, the hub unreachable or refusing (401, 403, 404, 413 …), a failed batch. */
  failure: 1,
  /** Done, but some records or rows were rejected (their line numbers and reasons are in the rejects file). */
  rejected: 2,
  /** Interrupted (Ctrl-C); a push resumes where it stopped when run again. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure to report as one line (no stack trace); `exitCode` 1 unless said. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
  }
}

/** The one line printed for any error: a CliError's message, or the shortest useful description of anything else. */
export function describeError(e: unknown): string {
  if (e instanceof CliError) return e.message;
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return `意外错误 (unexpected error${code ? ` ${code}` : ''}: ${e.message.split('\n')[0]})`;
  }
  return `意外错误 (unexpected error: ${String(e)})`;
}

/** A file-system error as one line naming the file. */
export function fileError(e: unknown, path: string, doing: { zh: string; en: string }): CliError {
  const code = (e as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENOENT: '文件不存在 (no such file)',
    EACCES: '没有权限 (permission denied)',
    EPERM: '没有权限 (permission denied)',
    EISDIR: '这是一个目录 (it is a folder)',
    ENOSPC: '磁盘已满 (no space left on the device)',
    EROFS: '只读文件系统 (read-only file system)',
  };
  const reason = (code && why[code]) ?? (e instanceof Error ? e.message : String(e));
  return new CliError(`无法${doing.zh} ${path} (cannot ${doing.en} ${path}): ${reason}`);
}
