/**
 * The site bucket (infra/catalogue.ts buckets.site): the publisher is its only writer. A page is one object under
 * its path (`index.html`, `records/…`), with its Content-Type and a Cache-Control that lets CloudFront and browsers
 * keep it a short while (pages change when records do) and assets a long while.
 *
 * Only PutObject and DeleteObject: what is in the bucket is known from the site index (site-index-store.ts), never
 * listed.
 */
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface SiteObject {
  path: string;
  body: string | Uint8Array;
  contentType: string;
}

export interface SiteBucket {
  put(object: SiteObject): Promise<void>;
  /** Deletes the object (one that is not there is no error: S3 answers 204 either way). */
  delete(path: string): Promise<void>;
}

/** Pages: a minute at the edge and in browsers, so that a withheld record is gone within one. Assets: a day. */
export const PAGE_CACHE_CONTROL = 'public, max-age=60';
export const ASSET_CACHE_CONTROL = 'public, max-age=86400';

/** Assets (stylesheets, scripts, the search index's script) are named under `assets/`. */
export function cacheControlFor(path: string): string {
  return path.startsWith('assets/') ? ASSET_CACHE_CONTROL : PAGE_CACHE_CONTROL;
}

export class S3SiteBucket implements SiteBucket {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(object: SiteObject): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: object.path, Body: object.body, ContentType: object.contentType, CacheControl: cacheControlFor(object.path) }),
    );
  }

  async delete(path: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: path }));
  }
}
