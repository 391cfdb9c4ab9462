/**
 * The `hub` command line's wiring (cli/program.ts): sources add / list / rotate-key against a
 * small local server, where the URL and key come from, usage errors (commander's own included)
 * and every other failure as one line in Chinese and English, and the exit codes in --help.
 */
import { describe, expect, it } from 'vitest';
import { resolveConnection } from '../../cli/connection.js';
import { CliError, describeError } from '../../cli/errors.js';
import { runHub } from '../../cli/program.js';
import { displayWidth, parseKinds, sourcesTable, table } from '../../cli/sources.js';
import { expectOneLine, GOOD_KEY, OPERATOR_KEY, useFakeHub } from './cli-fake-hub.js';

const fake = useFakeHub();
const { captureIo, sent } = fake;

describe('hub sources', () => {
  it('add prints the key alone on stdout (the message goes to stderr) and sends the source as API.md has it', async () => {
    const io = captureIo();
    const code = await runHub(['sources', 'add', '--id', 'shi-scjgj', '--name', '市市场监督管理局', '--uscc', '91110000600037341L', '--role', 'department', '--kinds', 'license,penalty'], io);
    expect(code).toBe(0);
    expect(io.out).toBe('hub_key-of-shi-scjgj\n');
    expect(io.err).toContain('its key is shown only this once');
    expect(fake.hub.requests.at(-1)!.json).toEqual({ id: 'shi-scjgj', name: '市市场监督管理局', uscc: '91110000600037341L', role: 'department', kinds: ['license', 'penalty'] });
  });

  it('add without --kinds sends an empty list; a taken id, a bad USCC or an unknown kind or role is one line, exit 1', async () => {
    const io = captureIo();
    expect(await runHub(['sources', 'add', '--id', 'checker-1', '--name', '查询单位', '--uscc', '91110000600037341L', '--role', 'checker'], io)).toBe(0);
    expect(fake.hub.requests.at(-1)!.json.kinds).toEqual([]);
    const taken = captureIo();
    expect(await runHub(['sources', 'add', '--id', 'checker-1', '--name', 'x', '--uscc', '91110000600037341L', '--role', 'checker'], taken)).toBe(1);
    expect(taken.err).toBe('hub: 登记数据源checker-1失败 (registering source checker-1 failed): 数据源标识checker-1已被使用 (source id already taken) [HTTP 409 source_exists]\n');
    const badUscc = captureIo();
    expect(await runHub(['sources', 'add', '--id', 'x2', '--name', 'x', '--uscc', 'nope', '--role', 'checker'], badUscc)).toBe(1);
    expect(badUscc.err).toContain('— uscc: 统一社会信用代码校验位错误 (USCC check digit) [HTTP 400 invalid_source]');
    const kind = captureIo();
    expect(await runHub(['sources', 'add', '--id', 'x3', '--name', 'x', '--uscc', '91110000600037341L', '--role', 'department', '--kinds', 'license,pennalty'], kind)).toBe(1);
    expect(kind.err).toBe('hub: 未知的种类 (unknown kind "pennalty": --kinds takes license, penalty, dishonest-debtor, discipline, commitment, comma-separated)\n');
    const role = captureIo();
    expect(await runHub(['sources', 'add', '--id', 'x3', '--name', 'x', '--uscc', '91110000600037341L', '--role', 'boss'], role)).toBe(1);
    expect(role.err).toContain('unknown role "boss"');
    expect(taken.out + badUscc.out + kind.out + role.out).toBe('');
  });

  it('list prints a table whose columns line up with Chinese names; --json the items', async () => {
    const io = captureIo();
    expect(await runHub(['sources', 'list'], io)).toBe(0);
    const lines = io.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+名称 name\s+角色 role\s+种类 kinds\s+统一社会信用代码 USCC/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[0])).toEqual(['checker-1', 'shi-scjgj']);
    // The role column starts at the same terminal column on every line.
    const roleColumn = (line: string, role: string) => displayWidth(line.slice(0, line.indexOf(`  ${role}`) + 2));
    expect(roleColumn(lines[1]!, 'checker')).toBe(roleColumn(lines[2]!, 'department'));
    expect(roleColumn(lines[0]!, '角色')).toBe(roleColumn(lines[2]!, 'department'));
    const json = captureIo();
    expect(await runHub(['sources', 'list', '--json'], json)).toBe(0);
    expect(JSON.parse(json.out).items.map((s: { id: string }) => s.id)).toEqual(['checker-1', 'shi-scjgj']);
  });

  it('rotate-key prints the new key alone; an unknown id is a 404 in one line', async () => {
    const io = captureIo();
    expect(await runHub(['sources', 'rotate-key', 'shi-scjgj'], io)).toBe(0);
    expect(io.out).toBe('hub_new-key-of-shi-scjgj\n');
    expect(io.err).toContain('the previous one no longer works');
    const missing = captureIo();
    expect(await runHub(['sources', 'rotate-key', 'nobody'], missing)).toBe(1);
    expect(missing.err).toBe('hub: 更换数据源nobody的密钥失败 (replacing the key of source nobody failed): 没有这个数据源 (unknown source) [HTTP 404 not_found] 没有这个数据源 (no such source id)\n');
  });

  it('with a source key instead of the operator key: 403 with the hint that the operator key is needed', async () => {
    const io = captureIo({ HUB_URL: fake.hub.url, HUB_KEY: GOOD_KEY });
    expect(await runHub(['sources', 'list'], io)).toBe(1);
    expect(io.err).toBe('hub: 列出数据源失败 (listing the sources failed): 仅限运营方 (operator only) [HTTP 403 forbidden] 列出数据源需要运营方密钥 (listing the sources needs the operator key)\n');
  });
});

describe('where the hub is and which key', () => {
  it('flags win over HUB_URL / HUB_KEY', async () => {
    const io = captureIo({ HUB_URL: 'http://127.0.0.1:1', HUB_KEY: 'hub_wrong' });
    expect(await runHub(['sources', 'list', '--url', fake.hub.url, '--key', OPERATOR_KEY, '--json'], io)).toBe(0);
    expect(fake.hub.requests.at(-1)!.headers.authorization).toBe(`Bearer ${OPERATOR_KEY}`);
  });

  it('missing URL or key, a URL that is not http(s): one line each, nothing sent', async () => {
    for (const [env, message] of [
      [{ HUB_KEY: 'k' }, 'hub: 缺少hub地址 (no hub URL: give --url or set HUB_URL, e.g. http://127.0.0.1:3000)\n'],
      [{ HUB_URL: fake.hub.url }, 'hub: 缺少密钥 (no API key: give --key or set HUB_KEY)\n'],
      [{ HUB_URL: 'ftp://x', HUB_KEY: 'k' }, 'hub: hub地址必须以http://或https://开头 (the hub URL must start with http:// or https://, not ftp:)\n'],
      [{ HUB_URL: 'localhost 3000', HUB_KEY: 'k' }, 'hub: hub地址无效 (the hub URL "localhost 3000" is not a URL: give it as http://host:port or https://host)\n'],
    ] as const) {
      const io = captureIo(env);
      expect(await runHub(['sources', 'list'], io)).toBe(1);
      expect(io.err).toBe(message);
    }
    expect(sent()).toEqual([]);
  });

  it('keeps a path in the base URL (an API Gateway stage) and drops a trailing slash', () => {
    expect(resolveConnection({ url: 'https://abc.execute-api.cn-north-1.amazonaws.com.cn/prod/' }, { HUB_KEY: 'k' })).toEqual({ url: 'https://abc.execute-api.cn-north-1.amazonaws.com.cn/prod', key: 'k' });
  });
});

describe('usage errors and help', () => {
  it("commander's own errors are one line, Chinese first, commander's English in parentheses, exit 1", async () => {
    for (const [argv, expected] of [
      [['push', 'a.ndjson'], "hub: 缺少必需的选项 (required option '--kind <kind>' not specified) — 用法见 hub --help (see hub --help)\n"],
      [['push', 'a.ndjson', '--kind', 'fines'], "hub: 参数值无效 (option '--kind <kind>' argument 'fines' is invalid. Allowed choices are license, penalty, dishonest-debtor) — 用法见 hub --help (see hub --help)\n"],
      [['push', 'a.ndjson', '--kind', 'penalty', '--force'], "hub: 未知选项 (unknown option '--force' (Did you mean --format?)) — 用法见 hub --help (see hub --help)\n"],
      [['pull'], "hub: 未知命令 (unknown command 'pull' (Did you mean push?)) — 用法见 hub --help (see hub --help)\n"],
      [['batch', 'status'], "hub: 缺少参数 (missing required argument 'id') — 用法见 hub --help (see hub --help)\n"],
      [['sources', 'rotate-key', 'a', 'b'], "hub: 参数过多 (too many arguments for 'rotate-key'. Expected 1 argument but got 2: a, b) — 用法见 hub --help (see hub --help)\n"],
      [['push', 'a.ndjson', '--kind'], "hub: 选项缺少值 (option '--kind <kind>' argument missing) — 用法见 hub --help (see hub --help)\n"],
    ] as const) {
      const io = captureIo();
      expect(await runHub(argv, io), argv.join(' ')).toBe(1);
      expect(io.err).toBe(expected);
      expectOneLine(io.err);
      expect(io.out).toBe('');
    }
  });

  it('--help lists the commands, the environment and the exit codes, on stdout, exit 0', async () => {
    const io = captureIo();
    expect(await runHub(['--help'], io)).toBe(0);
    for (const text of ['push [options] <file>', 'batch', 'sources', 'operator', 'HUB_URL', 'HUB_KEY', 'Exit codes', '0    done', '1    failure', '2    done, but some records or rows were rejected', '130  interrupted', '.hub-push.json']) {
      expect(io.out).toContain(text);
    }
    const push = captureIo();
    expect(await runHub(['push', '--help'], push)).toBe(0);
    expect(push.out).toContain('--records-per-request <n>');
    expect(push.out).toContain('--encoding <encoding>');
  });

  it('an unexpected error is still one line without a stack trace', () => {
    expect(describeError(Object.assign(new Error('boom\n    at x (y.js:1:2)'), { code: 'EIO' }))).toBe('意外错误 (unexpected error EIO: boom)');
    expect(describeError(new CliError('说明 (explained)'))).toBe('说明 (explained)');
  });
});

describe('tables', () => {
  it('displayWidth counts CJK, full-width and supplementary ideographs as 2', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('市场监管局')).toBe(10);
    expect(displayWidth('𠮷a')).toBe(3);
    expect(displayWidth('ＡＢ')).toBe(4);
  });

  it('table pads every column but the last to its widest cell', () => {
    expect(table(['a', 'b'], [['市场', 'x'], ['abcde', 'y']])).toBe('a      b\n市场   x\nabcde  y\n');
    expect(sourcesTable([])).toBe('（没有数据源 no sources）\n');
  });

  it('parseKinds splits on commas and trims', () => {
    expect(parseKinds(' license , penalty')).toEqual(['license', 'penalty']);
    expect(parseKinds(undefined)).toEqual([]);
  });
});
