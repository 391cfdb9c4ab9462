/**
 * Record versions carried inside a delivery message (docs/upward-packages.md, "Versions in the message"): the
 * fan-out has each new version's content in its stream record, so it puts the package's versions into the
 * message it queues for each platform, and the connector builds the package from them instead of reading them
 * back from the records table (a BatchGetItem per package and platform: about one read unit per record for the
 * two platforms).
 *
 * The versions travel as they are stored (a natural person's number still encrypted: shared/crypto/field-cipher.ts),
 * as gzip'd JSON in base64, in the order of the part's refs. They are an optimisation only: a message without
 * them (queued by the delivery sweep, or a package too large to carry them), or whose versions do not match its
 * refs one for one, is served from the records table, and either way the same versions give the same bytes
 * (exchange-package.ts), so a package is always sent as it was first sent.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import * as z from 'zod';
import type { PackageRef } from './package-model.js';
import type { VersionContent } from './record-versions.js';

/**
 * The most characters carried: a message stays far below SQS's 256 KB (what a package of 100 ordinary records
 * needs is about a tenth of this). Versions that would need more are not carried.
 */
export const MAX_INLINE_CHARS = 192 * 1024;

const versionSchema = z.object({
  id: z.string().min(1),
  kind: z.string().min(1),
  sourceId: z.string().min(1),
  version: z.number().int().positive(),
  fields: z.record(z.string(), z.string()),
  certificate: z.object({ type: z.string(), cipher: z.string(), hash: z.string() }).optional(),
});

const versionsSchema = z.array(versionSchema);

/** The versions as a message carries them, or undefined when they would take more than MAX_INLINE_CHARS. */
export function encodeInlineVersions(versions: readonly VersionContent[]): string | undefined {
  // Key by key, so that the text never depends on the order of the object it came from.
  const plain = versions.map(({ id, kind, sourceId, version, fields, certificate }) => ({ id, kind, sourceId, version, fields, ...(certificate ? { certificate: { type: certificate.type, cipher: certificate.cipher, hash: certificate.hash } } : {}) }));
  const text = gzipSync(JSON.stringify(plain)).toString('base64');
  return text.length <= MAX_INLINE_CHARS ? text : undefined;
}

/**
 * The versions a message carries for `refs` (the refs of the part it names, in order), or undefined when it
 * carries none that can be used: absent, unreadable, or not exactly those versions in that order.
 */
export function inlineVersionsFor(text: string | undefined, refs: readonly Pick<PackageRef, 'recordId' | 'version'>[]): VersionContent[] | undefined {
  if (text === undefined || text.length > MAX_INLINE_CHARS) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(gunzipSync(Buffer.from(text, 'base64'), { maxOutputLength: 16 * MAX_INLINE_CHARS }).toString('utf8'));
  } catch {
    return undefined;
  }
  const result = versionsSchema.safeParse(parsed);
  if (!result.success || result.data.length !== refs.length) return undefined;
  const versions = result.data as VersionContent[];
  return versions.every((v, i) => v.id === refs[i]!.recordId && v.version === refs[i]!.version) ? versions : undefined;
}

/**
 * The content of a new version as its stream record's new image holds it (the head as written), or undefined
 * when the image lacks what a package needs.
 */
export function versionContentOf(image: Record<string, unknown>): VersionContent | undefined {
  const result = versionSchema.safeParse({
    id: image.id,
    kind: image.kind,
    sourceId: image.sourceId,
    version: image.version,
    fields: image.fields,
    ...(image.certificate !== undefined ? { certificate: image.certificate } : {}),
  });
  return result.success ? (result.data as VersionContent) : undefined;
}
