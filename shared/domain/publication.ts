/**
 * Whether a record is on the public site on a given day: the one rule the review decisions,
 * the expire job, the site renderer and the publisher all read, so that they cannot disagree.
 *
 * A record is published on `asOf` (a China calendar date, YYYY-MM-DD) when it was approved,
 * its period has begun (`from`) and not passed (`until`, inclusive), and nothing ended it
 * (withheld, removed by its source, repaired, revoked by an objection, expired).
 * The decisions that move a publication between these states live in the review and
 * objection code (shared/publication/); this module only reads them.
 */
import type { Publication } from './record-model.js';

/** A publication the site shows on `asOf`. */
export function isPublishedOn(publication: Publication, asOf: string): boolean {
  if (publication.state !== 'approved') return false;
  if (asOf < publication.from) return false;
  return publication.until === undefined || asOf <= publication.until;
}

/** A publication that may still come onto the site (or stay on it) as days pass: approved or waiting for review, and not past its end. */
export function mayBePublishedLater(publication: Publication, asOf: string): boolean {
  if (publication.state !== 'approved' && publication.state !== 'pending-review') return false;
  return publication.until === undefined || asOf <= publication.until;
}
