/**
 * Sample 失信被执行人 batches for the tests, the benchmark and people
 * (`npm run generate:batch`): see README "Sample court batches".
 */
export { BAD_KINDS, DEFAULT_BAD_KINDS, ILL_FORMED_MARK, REQUIRED_FIELDS, type BadKind } from './bad-rows.js';
export { generateBatch, writeBatch, PROGRESS_EVERY, type BatchOptions, type GeneratedBatch } from './batch.js';
export { BATCH_ENCODINGS, encodeText, type BatchEncoding } from './encode.js';
export { DISHONEST_DEBTOR_FIELDS, PARTY_TYPE, type DishonestDebtorField, type PartyKind, type SampleFields, type SampleValue } from './fields.js';
export { residentIdCheckCharacter, residentIdentityNumber, organisationCode, unifiedSocialCreditCode, withWrongIdCheck, withWrongUsccCheck } from './identifiers.js';
export type { BatchManifest, BadRowRef, Listed, RepeatRef, RowPlace } from './manifest.js';
export { hasRareCharacter, RARE_NAME_CHARACTERS } from './names.js';
export { PLACES, courtCode, type Place } from './places.js';
export { sampleRows, resolveRowOptions, type BatchFormat, type SampleRow, type SampleRowOptions } from './rows.js';
export { csvCells, csvHeader, csvRecord, ndjsonLine } from './serialise.js';
