/**
 * What the publisher needs to know about the site's shape, as one port: which public record a head makes on a day,
 * where its entry is listed, and how each page is rendered. The publisher stores and compares; the model (bound to
 * the renderer of shared/site/ in render-model.ts) decides what the public sees.
 *
 * The site is a tree of partitions, each with one page:
 *   root (the index) → kinds (a column: a kind, or 政务诚信专栏) → months → days (the list pages, holding entries);
 *   subjects (a subject's page, holding entries) hang on no parent.
 * A partition's members are stored in the site index under its key (site-index-store.ts); a list or subject
 * partition holds the entries of its records (sk the record id), a group its non-empty children (sk the child's
 * key). A partition that loses its last member loses its page, and its place in its parent (permanent ones stay).
 */
import type { StoredHead } from '../domain/record-model.js';
import type { RenderedPage } from './page-writer.js';
import type { Member, SiteIndex } from './site-index-store.js';

/** Where a record's entry is listed: a partition key (`LIST#…`, `SUBJECT#…`, `SEARCH#…`) and the entry's data. */
export interface Placement {
  pk: string;
  /** Its sort key in the partition: the record id unless the partition sorts its entries otherwise (a search shard: by name). */
  sk?: string;
  data: Record<string, unknown>;
}

/**
 * Partitions whose pages are pieces of the partition (the search shards: a file listing the pieces, and one file
 * per piece), so that a change reads and renders the pieces around the members it changed, not the whole partition.
 * The pieces' keys are kept as a group of their own in the site index (its members are the pieces' keys).
 */
export interface PiecewisePartitions {
  owns(pk: string): boolean;
  /**
   * After members at `changed` (sort keys put or removed) changed in `pk`: the pages to write and to delete, and
   * `afterWrites`, which brings the index's piece group up to date once they are written (so that a change cut
   * short before it is done again whole). Reads only the runs of members around those sort keys.
   */
  refresh(pk: string, changed: readonly string[], index: SiteIndex): Promise<{ pages: RenderedPage[]; deletions: string[]; afterWrites: () => Promise<void> }>;
  /** Every page of the partition from all its members (a publish run), and the piece group's members. */
  renderAll(pk: string, members: readonly Member[]): { pages: RenderedPage[]; groupMembers: { pk: string; sk: string }[] };
}

export interface SiteModel<R = unknown> {
  /** The record as the public may see it on `asOf` (a China date), or undefined when it is not on the site. */
  publicRecord(head: StoredHead, asOf: string): R | undefined;
  recordId(record: R): string;
  /** The record's own page. */
  recordPage(record: R, asOf: string): RenderedPage;
  /** Its path (the page to delete once the record leaves the site). */
  recordPath(recordId: string): string;
  /** The partitions listing the record, each with its entry. */
  placements(record: R): Placement[];
  /** The partitions a partition is listed in, and its key in each (none: a subject, a search shard, the root). */
  parentsOf(pk: string): { pk: string; sk: string }[];
  /** The partition's page, rendered from its members (in sort-key order). */
  partitionPage(pk: string, members: readonly Member[], asOf: string): RenderedPage;
  /** The path of a partition's page (deleted when it has no members left). */
  partitionPath(pk: string): string;
  /** Partitions whose page is rendered even when they have no members (the index, every section page: each page's navigation links to them). */
  readonly permanent: readonly string[];
  /** Pages that do not depend on records (the not-found page, stylesheets, scripts). */
  fixedPages(): RenderedPage[];
  /** Partitions rendered in pieces (partitionPage and partitionPath are not used for them). */
  readonly piecewise?: PiecewisePartitions;
}
