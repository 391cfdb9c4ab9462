/**
 * The TCP sockets a process listens on, from /proc (Linux): its file descriptors name socket
 * inodes, and /proc/net/tcp and tcp6 give each listening socket's local address.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

export interface ListeningSocket {
  address: string;
  port: number;
  /** Only this machine can connect: 127.0.0.0/8 or ::1. */
  loopbackOnly: boolean;
}

export const canListSockets = () => process.platform === 'linux' && existsSync('/proc/net/tcp');

/** 0100007F → 127.0.0.1 (each 32-bit word of /proc/net/tcp is in host byte order, little-endian here). */
function decodeV4(hex: string): string {
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

function decodeV6(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < 4; word++) {
    const w = hex.slice(word * 8, word * 8 + 8);
    bytes.push(...[6, 4, 2, 0].map((i) => parseInt(w.slice(i, i + 2), 16)));
  }
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '0:0:0:0:0:0:0:1' || address === '::1' || address.startsWith('::ffff:127.');
}

function listeningByInode(): Map<string, ListeningSocket> {
  const out = new Map<string, ListeningSocket>();
  for (const [file, decode] of [
    ['/proc/net/tcp', decodeV4],
    ['/proc/net/tcp6', decodeV6],
  ] as const) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== '0A') continue; // TCP_LISTEN
      const [hexAddress, hexPort] = cols[1]!.split(':') as [string, string];
      const address = decode(hexAddress);
      out.set(cols[9]!, { address, port: parseInt(hexPort, 16), loopbackOnly: isLoopback(address) });
    }
  }
  return out;
}

/** The TCP sockets `pid` listens on. */
export function listeningSockets(pid: number): ListeningSocket[] {
  const sockets = listeningByInode();
  const found: ListeningSocket[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const socket = inode ? sockets.get(inode) : undefined;
    if (socket) found.push(socket);
  }
  return found;
}

/** An IPv4 address of this machine that is not loopback, if it has one. */
export function nonLoopbackAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}
