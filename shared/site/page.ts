/**
 * A rendered page of the public site and its hash: the publisher (shared/site-publishing/) writes a
 * page only when its hash differs from the one it last wrote at that path, so a re-render that
 * changes nothing costs no S3 PUT. Rendering is deterministic (no "generated at", no clock,
 * no random ids), so the same data always gives the same hash.
 */
import { createHash } from 'node:crypto';

export interface SitePage {
  /** The object key in the site bucket, without a leading slash: `records/lic_….html`. */
  path: string;
  body: string;
  /** `text/html; charset=utf-8`, `text/css; charset=utf-8`, … */
  contentType: string;
}

export const HTML = 'text/html; charset=utf-8';
export const CSS = 'text/css; charset=utf-8';
export const JAVASCRIPT = 'text/javascript; charset=utf-8';
export const JSON_TYPE = 'application/json; charset=utf-8';

/** SHA-256 (hex) of the content type and body: a page whose type changes is rewritten too. */
export function pageHash(page: Pick<SitePage, 'body' | 'contentType'>): string {
  return createHash('sha256').update(page.contentType).update('\u0000').update(page.body).digest('hex');
}
