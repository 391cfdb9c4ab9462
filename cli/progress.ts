/**
 * Progress on stderr with cli-progress: a redrawn bar on a terminal, and on
 * anything else (a log file, CI) one plain line every `intervalMs` and at the
 * end. Each command says what a line shows (a `ProgressView`); the rendering
 * here is pure and testable. stdout is left to results (keys, summaries).
 */
import cliProgress from 'cli-progress';

export interface ProgressState {
  value: number;
  total: number;
  /** Seconds to completion as cli-progress estimates it (NaN or Infinity when unknown). */
  eta: number;
}

export interface ProgressView<P> {
  /** One line (no line feed). `note` is a passing remark (a retry), shown until the next update. */
  render(state: ProgressState, payload: P, note: string | undefined): string;
}

export interface Progress<P> {
  update(value: number, payload: P): void;
  setTotal(total: number): void;
  /** A passing remark on the bar's line (cleared by the next update). */
  note(text: string): void;
  stop(): void;
}

export type ProgressFactory = <P extends object>(view: ProgressView<P>, total: number, payload: P) => Progress<P>;

/** No output at all (tests, or --quiet). */
export const silentProgress: ProgressFactory = () => ({ update() {}, setTotal() {}, note() {}, stop() {} });

export interface TerminalProgressOptions {
  /** Between plain lines when the stream is not a terminal. */
  intervalMs?: number;
}

/** Progress written to `stream` (stderr): a bar on a terminal, periodic lines elsewhere. */
export function terminalProgress(stream: NodeJS.WritableStream & { isTTY?: boolean }, options: TerminalProgressOptions = {}): ProgressFactory {
  return stream.isTTY === true ? terminalBar(stream as NodeJS.WriteStream) : plainLines(stream, options.intervalMs ?? 10_000);
}

/** cli-progress's bar, redrawn in place (at most 5 times a second). */
function terminalBar(stream: NodeJS.WriteStream): ProgressFactory {
  return <P extends object>(view: ProgressView<P>, total: number, payload: P): Progress<P> => {
    let note: string | undefined;
    const bar = new cliProgress.SingleBar({
      stream,
      format: (_options, params, current) => view.render({ value: params.value, total: params.total, eta: params.eta }, current as P, note),
      fps: 5,
      hideCursor: true,
      linewrap: false,
      etaBuffer: 50,
      etaAsynchronousUpdate: true,
    });
    bar.start(total, 0, payload as object);
    let stopped = false;
    return {
      update(value, next) {
        note = undefined;
        bar.update(value, next as object);
      },
      setTotal: (n) => bar.setTotal(n),
      note(text) {
        note = text;
        bar.render();
      },
      stop() {
        if (stopped) return;
        stopped = true;
        note = undefined;
        bar.stop();
      },
    };
  };
}

/**
 * For logs: a line every `intervalMs` when something changed, and one at the end — none at all for
 * work that failed before it made progress (its error is then the only line).
 */
function plainLines(stream: NodeJS.WritableStream, intervalMs: number): ProgressFactory {
  return <P extends object>(view: ProgressView<P>, total: number, payload: P): Progress<P> => {
    const started = Date.now();
    let state = { value: 0, total, payload };
    const initial = view.render({ value: 0, total, eta: NaN }, payload, undefined);
    let written = initial;
    const write = () => {
      const elapsed = (Date.now() - started) / 1000;
      const eta = state.value > 0 && state.total > 0 ? (elapsed * (state.total - state.value)) / state.value : NaN;
      const line = view.render({ value: state.value, total: state.total, eta }, state.payload, undefined);
      if (line !== written) stream.write(`${line}\n`);
      written = line;
    };
    const timer = setInterval(write, intervalMs);
    timer.unref();
    let stopped = false;
    return {
      update: (value, next) => void (state = { ...state, value, payload: next }),
      setTotal: (n) => void (state = { ...state, total: n }),
      note: (text) => void stream.write(`${text}\n`),
      stop() {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        write();
      },
    };
  };
}

const CELLS = 24;

/** `[########----------------]` for a share between 0 and 1. */
export function barOf(share: number, cells = CELLS): string {
  const done = Math.max(0, Math.min(cells, Math.round((Number.isFinite(share) ? share : 0) * cells)));
  return `[${'#'.repeat(done)}${'-'.repeat(cells - done)}]`;
}

export const count = (n: number) => n.toLocaleString('en-US');

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) (value /= 1024), unit++;
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `ETA 1m05s`, or '' while unknown. */
export function etaOf(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '';
  const s = Math.round(seconds);
  return s >= 3600 ? `ETA ${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `ETA ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `ETA ${s}s`;
}

export function percentOf(value: number, total: number): string {
  return total > 0 ? `${Math.floor((value / total) * 100)}%` : '';
}

/**
 * A factory that remembers its bar in use, so that a remark made elsewhere (a request being
 * retried) lands on that bar's line, or on its own line when no bar is showing.
 */
export function trackingProgress(factory: ProgressFactory, line: (text: string) => void): { progress: ProgressFactory; note: (text: string) => void } {
  let active: Progress<never> | undefined;
  const progress: ProgressFactory = (view, total, payload) => {
    const bar = factory(view, total, payload);
    const tracked: typeof bar = {
      update: (value, next) => bar.update(value, next),
      setTotal: (n) => bar.setTotal(n),
      note: (text) => bar.note(text),
      stop: () => {
        if (active === (tracked as unknown)) active = undefined;
        bar.stop();
      },
    };
    active = tracked as unknown as Progress<never>;
    return tracked;
  };
  return { progress, note: (text) => (active ? active.note(text) : line(text)) };
}
