/**
 * Writes rendered pages to the site bucket only where they changed: each page's SHA-256 is compared with the one
 * stored in the site index (PAGE#<path>), an unchanged page is skipped, a changed one is PUT and then its hash
 * stored; a page that must go is DELETEd and then its hash removed.
 *
 * Crash-safe by order: the object is written before its hash, so a hash in the index always describes what the
 * bucket holds or held; a write cut short between the two is done again by the retry (the hash still differs). A
 * deletion is always sent to S3, even for a page the index does not know (S3 DELETE is free, and a PUT whose hash
 * was never stored leaves no orphan).
 */
import { pageHash, type SitePage } from '../site/page.js';
import type { SiteBucket } from './site-bucket.js';
import type { SiteIndex, StoredPage } from './site-index-store.js';

/** A page as the renderer made it (shared/site/page.ts). */
export type RenderedPage = SitePage;

export interface WriteCounts {
  /** Pages PUT to the bucket. */
  written: number;
  /** Pages rendered the same as the stored hash says: not written. */
  unchanged: number;
  /** Pages DELETEd from the bucket. */
  deleted: number;
}

export const ZERO_WRITE_COUNTS: WriteCounts = { written: 0, unchanged: 0, deleted: 0 };

export function addCounts(a: WriteCounts, b: WriteCounts): WriteCounts {
  return { written: a.written + b.written, unchanged: a.unchanged + b.unchanged, deleted: a.deleted + b.deleted };
}


/** How many S3 requests are in flight at once. */
const CONCURRENCY = 8;

async function eachLimited<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export interface PageWriterDeps {
  index: Pick<SiteIndex, 'pages' | 'putPages' | 'deletePages'>;
  bucket: SiteBucket;
}

/**
 * Writes `pages` where they changed and deletes `deletions` (a path in both is written: rendering wins). `run`: the
 * full publish run rendering them, kept on every page's hash item (unchanged ones too), so that its sweep can tell
 * which pages it did not render.
 */
export async function writePages(pages: readonly RenderedPage[], deletions: readonly string[], deps: PageWriterDeps, run?: string): Promise<WriteCounts> {
  const rendered = new Map(pages.map((p) => [p.path, p]));
  const toDelete = [...new Set(deletions)].filter((path) => !rendered.has(path));
  const stored = rendered.size > 0 ? await deps.index.pages([...rendered.keys()]) : new Map<string, StoredPage>();
  const changed: { page: RenderedPage; hash: string }[] = [];
  const tagOnly: StoredPage[] = [];
  for (const page of rendered.values()) {
    const hash = pageHash(page);
    const before = stored.get(page.path);
    if (before?.hash === hash) {
      if (run !== undefined && before.run !== run) tagOnly.push({ ...before, run });
      continue;
    }
    changed.push({ page, hash });
  }
  await eachLimited(changed, ({ page }) => deps.bucket.put(page));
  const hashes: StoredPage[] = [...changed.map(({ page, hash }) => ({ path: page.path, hash, contentType: page.contentType, ...(run !== undefined ? { run } : {}) })), ...tagOnly];
  if (hashes.length > 0) await deps.index.putPages(hashes);
  await eachLimited(toDelete, (path) => deps.bucket.delete(path));
  if (toDelete.length > 0) await deps.index.deletePages(toDelete);
  return { written: changed.length, unchanged: rendered.size - changed.length, deleted: toDelete.length };
}
