/**
 * Progress on stderr (cli/progress.ts) without a terminal: a redrawn bar when the stream is a TTY,
 * plain lines otherwise; what the push line shows; remarks (retries) on the bar in use.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ingestView } from '../../cli/batch-status.js';
import { barOf, bytes, etaOf, terminalProgress, trackingProgress, type ProgressView } from '../../cli/progress.js';
import { pushView } from '../../cli/push-file.js';
import { ZERO_COUNTS } from '../../cli/push-state.js';

function stream(tty: boolean) {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number; cursorTo?: unknown; clearLine?: unknown; moveCursor?: unknown };
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  if (tty) Object.assign(s, { isTTY: true, columns: 200, cursorTo: (_x: number, _y?: number, cb?: () => void) => (s.write('\r'), cb?.(), true), clearLine: () => true, moveCursor: () => true });
  return { s, text: () => text };
}

const view: ProgressView<{ n: number }> = { render: ({ value, total }, { n }, note) => `${value}/${total} n=${n}${note ? ` ${note}` : ''}` };

describe('terminalProgress', () => {
  it('without a terminal, writes plain lines (every interval when changed, and at the end), and remarks on lines of their own', async () => {
    const { s, text } = stream(false);
    const bar = terminalProgress(s, { intervalMs: 20 })(view, 10, { n: 0 });
    bar.update(4, { n: 1 });
    await new Promise((r) => setTimeout(r, 60));
    bar.note('重试 retry 1/9');
    bar.update(10, { n: 2 });
    bar.stop();
    const lines = text().split('\n').filter(Boolean);
    expect(lines[0]).toBe('4/10 n=1');
    expect(lines).toContain('重试 retry 1/9');
    expect(lines.at(-1)).toBe('10/10 n=2');
    expect(text()).not.toContain('\r');
  });

  it('without a terminal, writes nothing for work that stops before making progress', async () => {
    const { s, text } = stream(false);
    const bar = terminalProgress(s, { intervalMs: 5 })(view, 10, { n: 0 });
    await new Promise((r) => setTimeout(r, 20));
    bar.stop();
    expect(text()).toBe('');
  });

  it('on a terminal, redraws one line in place', () => {
    const { s, text } = stream(true);
    const bar = terminalProgress(s)(view, 10, { n: 0 });
    bar.update(5, { n: 3 });
    bar.note('503, 5s');
    bar.stop();
    // Each drawing goes back to column 1 and clears the rest of the line; one line feed, at the end.
    expect(text().split('\x1b[1G').slice(1).map((d) => d.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, ''))).toEqual(['0/10 n=0', '5/10 n=3 503, 5s', '5/10 n=3\n']);
    expect(text().indexOf('\n')).toBe(text().length - 1);
    // The cursor is shown again at the end.
    expect(text()).toContain('\x1b[?25h');
  });
});

describe('trackingProgress', () => {
  it('puts a remark on the bar in use, or on its own line when none is', () => {
    const notes: string[] = [];
    const lines: string[] = [];
    const { progress, note } = trackingProgress(() => ({ update() {}, setTotal() {}, note: (t) => void notes.push(t), stop() {} }), (t) => void lines.push(t));
    note('before');
    const bar = progress(view, 1, { n: 0 });
    note('during');
    bar.stop();
    note('after');
    expect(notes).toEqual(['during']);
    expect(lines).toEqual(['before', 'after']);
  });
});

describe('what the lines show', () => {
  it('a push: share of the file done, records and counts so far, then the estimate', () => {
    const line = pushView('a.ndjson').render({ value: 50, total: 200, eta: 75 }, { counts: { ...ZERO_COUNTS, total: 1200, accepted: 1100, duplicates: 90, rejected: 10 } }, undefined);
    expect(line).toBe('推送 push [######------------------] 25% | 1,200 条 records | 新增 accepted 1,100 更新 updated 0 重复 duplicates 90 拒收 rejected 10 | ETA 1m15s');
  });

  it('an ingest: the status and the rows done (no total until the end)', () => {
    const line = ingestView.render({ value: 0, total: 0, eta: NaN }, { status: { status: 'processing', total: 5000, accepted: 4900, updated: 0, duplicates: 0, rejected: 100 }, elapsedMs: 12_400 }, undefined);
    expect(line).toBe('导入 ingest 导入中 processing | 5,000 行 rows | 新增 accepted 4,900 更新 updated 0 重复 duplicates 0 拒收 rejected 100 | 12s');
  });

  it('helpers', () => {
    expect(barOf(0.5, 4)).toBe('[##--]');
    expect(barOf(NaN, 2)).toBe('[--]');
    expect(bytes(5 * 1024 ** 3)).toBe('5.0 GB');
    expect(bytes(1536)).toBe('1.5 KB');
    expect(etaOf(Infinity)).toBe('');
    expect(etaOf(3725)).toBe('ETA 1h02m');
  });
});
