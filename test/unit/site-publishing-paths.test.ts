/**
 * The site publisher may write the site bucket only under the key prefixes its catalogue entry names (its IAM policy
 * on AWS): every page the renderer makes — a full site with every kind of page, the government column, search shards,
 * the fixed pages — lies under one of them, so no PUT or DELETE of the publisher can be refused on AWS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functions } from '../../infra/catalogue.js';
import { renderFullSite } from '../../shared/site/full-site.js';
import { toPublicRecord, type PublicRecord } from '../../shared/site/public-record.js';
import { siteModel } from '../../shared/site-publishing/render-model.js';
import { seededRandom } from '../support/seeded-random.js';
import { approved, daysAgo, debtor, debtorRaw, governmentUscc, headFactory, licence, licenceRaw, penalty, penaltyRaw, type HeadFactory } from '../support/site-heads.js';

let factory: HeadFactory;
beforeAll(() => {
  factory = headFactory();
});
afterAll(() => factory.dispose());

const prefixes = Object.keys(functions.sitePublisher.buckets.site.objects);
const granted = (path: string) => prefixes.some((prefix) => path.startsWith(prefix));

describe('the site publisher’s grant on the site bucket', () => {
  it('covers every page of a full site, and every partition page and record page the publisher writes or deletes', async () => {
    const random = seededRandom(3);
    const heads = [
      approved(await penalty(factory.deps, penaltyRaw(1, daysAgo(4)))),
      approved(await licence(factory.deps, licenceRaw(2, daysAgo(40)))),
      approved(await debtor(factory.deps, debtorRaw(3, daysAgo(9), governmentUscc(random), { iname: '某县某局', businessEntity: '赵六' }))),
    ];
    const records = heads.map((h) => toPublicRecord(h, daysAgo(0))).filter((r): r is PublicRecord => r !== undefined);
    expect(records).toHaveLength(3);
    const paths = renderFullSite(records).map((p) => p.path);
    for (const record of records) {
      paths.push(siteModel.recordPath(record.id));
      for (const place of siteModel.placements(record)) {
        paths.push(siteModel.partitionPath(place.pk));
        for (const parent of siteModel.parentsOf(place.pk)) paths.push(siteModel.partitionPath(parent.pk));
      }
    }
    paths.push(...siteModel.permanent.map((pk) => siteModel.partitionPath(pk)), ...siteModel.fixedPages().map((p) => p.path));
    expect(paths.filter((path) => !granted(path))).toEqual([]);
    // And nothing is granted outside the site's own paths.
    expect(prefixes.every((prefix) => paths.some((path) => path.startsWith(prefix)))).toBe(true);
  });
});
