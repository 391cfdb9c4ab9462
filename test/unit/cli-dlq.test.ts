/**
 * `hub dlq list|redrive PLATFORM` (cli/dlq.ts, wired in cli/program.ts) against the fake hub: every page read and
 * shown as a table (or JSON), a redrive asked again while the hub says there is more, the totals printed, and
 * every failure one line with exit code 1.
 */
import { describe, expect, it } from 'vitest';
import { runHub } from '../../cli/program.js';
import { displayWidth } from '../../cli/sources.js';
import { expectOneLine, OPERATOR_KEY, useFakeHub, type Received } from './cli-fake-hub.js';

const fake = useFakeHub();
const { captureIo, sent, expectRefusedBeforeSending } = fake;
const dlqRequests = (platform: string) => (r: Received) => r.path.startsWith(`/v1/dlq/${platform}`);

const letter = (n: number, reason = `HTTP 400: 字段XK_WSH有误 ${n}`) => ({
  recordId: `lic_${'a'.repeat(25)}${n}`,
  version: n,
  operation: 'upsert',
  reason,
  failedAt: `2026-05-01T00:0${n}:00.000Z`,
  attempts: 1,
});

describe('hub dlq list', () => {
  it('reads every page (limit 1000, then the cursor) and prints a table whose columns line up, with the queue’s depth', async () => {
    fake.hub.answerNext(
      dlqRequests('national'),
      { status: 200, body: { platform: 'national', depth: 3, items: [letter(1), letter(2)], next: 'cursor-1' } },
      { status: 200, body: { platform: 'national', depth: 3, items: [letter(3, 'platform unavailable after 5 receives (last: HTTP 503)')] } },
    );
    const io = captureIo();
    expect(await runHub(['dlq', 'list', 'national'], io)).toBe(0);
    expect(sent().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/dlq/national?limit=1000', 'GET /v1/dlq/national?limit=1000&cursor=cursor-1']);
    expect(sent()[0]!.headers.authorization).toBe(`Bearer ${OPERATOR_KEY}`);
    const lines = io.out.trimEnd().split('\n');
    expect(lines[0]).toBe('平台 platform national: 死信队列消息 messages in the dead-letter queue 3, 失败的投递 failed deliveries 3');
    expect(lines[1]).toMatch(/^记录 record\s+版本 version\s+操作 operation\s+失败时间 failed at\s+尝试 attempts\s+原因 reason$/);
    expect(lines.slice(2).map((l) => l.split(/\s{2,}/)[0])).toEqual([letter(1).recordId, letter(2).recordId, letter(3).recordId]);
    const reasonColumn = (line: string, text: string) => displayWidth(line.slice(0, line.indexOf(text)));
    expect(reasonColumn(lines[2]!, 'HTTP 400')).toBe(reasonColumn(lines[4]!, 'platform unavailable'));
    expect(io.err).toBe('');
  });

  it('--json prints the platform, the depth and every item', async () => {
    fake.hub.answerNext(dlqRequests('provincial'), { status: 200, body: { platform: 'provincial', depth: 0, items: [letter(1)] } });
    const io = captureIo();
    expect(await runHub(['dlq', 'list', 'provincial', '--json'], io)).toBe(0);
    expect(JSON.parse(io.out)).toEqual({ platform: 'provincial', depth: 0, items: [letter(1)] });
  });

  it('says so when nothing failed', async () => {
    fake.hub.answerNext(dlqRequests('national'), { status: 200, body: { platform: 'national', depth: 0, items: [] } });
    const io = captureIo();
    expect(await runHub(['dlq', 'list', 'national'], io)).toBe(0);
    expect(io.out).toBe('平台 platform national: 死信队列消息 messages in the dead-letter queue 0, 失败的投递 failed deliveries 0\n');
  });

  it('refuses a platform that is not provincial or national before asking the hub: one line, exit 1', async () => {
    await expectRefusedBeforeSending(['dlq', 'list', 'city'], 'provincial, national');
  });

  it('reports a refusal of the hub as one line naming what failed, with a hint: exit 1', async () => {
    fake.hub.answerNext(dlqRequests('national'), { status: 403, body: { error: { code: 'forbidden', message: '此操作需要以下角色之一: operator (this key has role department)', details: [] } } });
    const io = captureIo();
    expect(await runHub(['dlq', 'list', 'national'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain('读取national的死信队列失败 (reading the dead-letter queue of national failed)');
    expect(io.err).toContain('[HTTP 403 forbidden]');
    expect(io.err).toContain('operator key');
    expect(io.out).toBe('');
  });

  it('reports an answer that is not a page as one line: exit 1', async () => {
    fake.hub.answerNext(dlqRequests('national'), { status: 200, body: { platform: 'national', items: 'none' } });
    const io = captureIo();
    expect(await runHub(['dlq', 'list', 'national'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain('unexpected answer');
  });

  it('needs the hub’s URL and a key', async () => {
    const io = captureIo({});
    expect(await runHub(['dlq', 'list', 'national'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain('HUB_URL');
  });
});

describe('hub dlq redrive', () => {
  it('asks again while the hub says there is more, and prints the totals', async () => {
    fake.hub.answerNext(
      dlqRequests('national'),
      { status: 202, body: { platform: 'national', redriven: 3, moved: 0, more: true } },
      { status: 202, body: { platform: 'national', redriven: 1, moved: 4 } },
    );
    const io = captureIo();
    expect(await runHub(['dlq', 'redrive', 'national'], io)).toBe(0);
    expect(sent().map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/dlq/national/redrive', 'POST /v1/dlq/national/redrive']);
    expect(io.out).toBe('平台 platform national: 重新投递 deliveries redriven 4, 移回队列的消息 messages moved back to the queue 4\n');
    expect(io.err).toContain('more to redrive');
  });

  it('names the SQS move task on AWS; --json prints the totals', async () => {
    fake.hub.answerNext(dlqRequests('provincial'), { status: 202, body: { platform: 'provincial', redriven: 2, task: 'task-handle-1' } });
    const io = captureIo();
    expect(await runHub(['dlq', 'redrive', 'provincial'], io)).toBe(0);
    expect(io.out).toBe('平台 platform provincial: 重新投递 deliveries redriven 2, SQS移动任务 message move task task-handle-1\n');
    fake.hub.answerNext(dlqRequests('provincial'), { status: 202, body: { platform: 'provincial', redriven: 0, moved: 0 } });
    const json = captureIo();
    expect(await runHub(['dlq', 'redrive', 'provincial', '--json'], json)).toBe(0);
    expect(JSON.parse(json.out)).toEqual({ platform: 'provincial', calls: 1, redriven: 0, moved: 0, tasks: [] });
  });

  it('gives up, exit 1, when the hub keeps saying there is more without doing anything', async () => {
    const idle = { status: 202, body: { platform: 'national', redriven: 0, moved: 0, more: true } };
    fake.hub.answerNext(dlqRequests('national'), idle, idle, idle);
    const io = captureIo();
    expect(await runHub(['dlq', 'redrive', 'national'], io)).toBe(1);
    expect(sent()).toHaveLength(3);
    expect(io.err.trimEnd().split('\n').at(-1)).toMatch(/^hub: .*no progress in 3 redrive requests/);
    expect(io.out).toBe('');
  });

  it('sends the redrive again after a 503 (Retry-After), as the hub asks', async () => {
    fake.hub.answerNext(
      dlqRequests('national'),
      { status: 503, headers: { 'retry-after': '1' } },
      { status: 202, body: { platform: 'national', redriven: 1, moved: 1 } },
    );
    const io = captureIo();
    expect(await runHub(['dlq', 'redrive', 'national'], io)).toBe(0);
    expect(io.out).toContain('deliveries redriven 1');
  });

  it('reports a 404 of the hub (an unknown platform there) as one line: exit 1', async () => {
    fake.hub.answerNext(dlqRequests('national'), { status: 404, body: { error: { code: 'not_found', message: '没有这个上级平台 (unknown platform)', details: [] } } });
    const io = captureIo();
    expect(await runHub(['dlq', 'redrive', 'national'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain('[HTTP 404 not_found]');
  });
});
