/**
 * Where the hub is and which key to use: `--url` / `--key`, else the
 * environment's `HUB_URL` / `HUB_KEY`. (A key given with `--key` is visible
 * to other users of the machine in the process list: prefer HUB_KEY.)
 */
import { CliError } from './errors.js';
import type { Connection } from './http-client.js';

export interface ConnectionFlags {
  url?: string;
  key?: string;
}

export function resolveConnection(flags: ConnectionFlags, env: Readonly<Record<string, string | undefined>>): Connection {
  const url = (flags.url ?? env.HUB_URL ?? '').trim();
  const key = (flags.key ?? env.HUB_KEY ?? '').trim();
  if (!url) throw new CliError('缺少hub地址 (no hub URL: give --url or set HUB_URL, e.g. http://127.0.0.1:3000)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`hub地址无效 (the hub URL ${JSON.stringify(url.slice(0, 200))} is not a URL: give it as http://host:port or https://host)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CliError(`hub地址必须以http://或https://开头 (the hub URL must start with http:// or https://, not ${parsed.protocol})`);
  }
  if (parsed.search || parsed.hash) throw new CliError('hub地址不能带查询参数 (the hub URL must not have a query or fragment)');
  if (!key) throw new CliError('缺少密钥 (no API key: give --key or set HUB_KEY)');
  if (!/^[\x21-\x7e]+$/.test(key)) throw new CliError('密钥含有无效字符 (the API key has characters that cannot be sent in a header)');
  return { url: parsed.href.replace(/\/+$/, ''), key };
}
