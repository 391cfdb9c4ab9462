/**
 * What a sample batch holds, counted while it is written, so that a test or
 * the benchmark can assert exact results: rows by outcome, bad rows by kind
 * with their row and line numbers, repeated case numbers, debtors by kind.
 * Lists keep the first `listLimit` entries of each kind (memory stays
 * bounded for a million rows); counts are always complete.
 */
import type { BadKind } from './bad-rows.js';
import type { BatchEncoding } from './encode.js';
import type { SampleRow } from './rows.js';
import type { BatchFormat } from './rows.js';

/** Where a row is: its data-row number (1-based) and the file line it starts on (1-based; a CSV header is line 1). */
export interface RowPlace {
  row: number;
  line: number;
}

export interface BadRowRef extends RowPlace {
  /** The field at fault; '' for a fault of the whole row (an extra CSV cell beyond the header, a row over 64 KB, bytes not in the encoding). */
  field: string;
}

export interface RepeatRef extends RowPlace {
  caseCode: string;
  /** The data row that first carried this caseCode. */
  of: number;
}

export interface Listed<T> {
  count: number;
  /** The first entries, at most listLimit. */
  first: T[];
}

export interface BatchManifest {
  generator: 'batch-sample';
  seed: number;
  /** Today in China when the batch was made: its dates count back from it. */
  today: string;
  format: BatchFormat;
  encoding: BatchEncoding;
  /** Data rows (a CSV header is not one). */
  total: number;
  valid: number;
  bad: number;
  /** Physical lines (CSV records can span several: quoted line breaks). */
  lines: number;
  bytes: number;
  listLimit: number;
  badByKind: Partial<Record<BadKind, Listed<BadRowRef>>>;
  repeats: { updated: Listed<RepeatRef>; duplicate: Listed<RepeatRef> };
  /** Counts over the valid rows (repeats included: they are rows the hub stores). */
  validRows: {
    persons: number;
    companies: number;
    governmentBodies: number;
    /** Companies identified by an old 9-character organisation code. */
    oldOrganisationCodes: number;
    /** Rows without partyTypeName. */
    partyTypeOmitted: number;
    /** Rows whose iname or businessEntity has a rare character. */
    rareNames: number;
    /** Rows whose status is removed. */
    removed: number;
  };
  /** What the hub should answer for the batch if it rejects every bad row. */
  expected: { total: number; accepted: number; updated: number; duplicates: number; rejected: number };
}

export class ManifestBuilder {
  readonly manifest: BatchManifest;

  constructor(head: Pick<BatchManifest, 'seed' | 'today' | 'format' | 'encoding' | 'listLimit'>, badKinds: readonly BadKind[]) {
    const listed = <T>(): Listed<T> => ({ count: 0, first: [] });
    this.manifest = {
      generator: 'batch-sample',
      ...head,
      total: 0,
      valid: 0,
      bad: 0,
      lines: 0,
      bytes: 0,
      badByKind: Object.fromEntries(badKinds.map((k) => [k, listed<BadRowRef>()])),
      repeats: { updated: listed(), duplicate: listed() },
      validRows: { persons: 0, companies: 0, governmentBodies: 0, oldOrganisationCodes: 0, partyTypeOmitted: 0, rareNames: 0, removed: 0 },
      expected: { total: 0, accepted: 0, updated: 0, duplicates: 0, rejected: 0 },
    };
  }

  private push<T>(list: Listed<T>, entry: T): void {
    list.count++;
    if (list.first.length < this.manifest.listLimit) list.first.push(entry);
  }

  add(sample: SampleRow, line: number): void {
    const m = this.manifest;
    m.total++;
    if (sample.bad) {
      m.bad++;
      const list = (m.badByKind[sample.bad.kind] ??= { count: 0, first: [] });
      this.push(list, { row: sample.row, line, field: sample.bad.field });
      return;
    }
    m.valid++;
    if (sample.repeat) {
      this.push(m.repeats[sample.repeat.kind], { row: sample.row, line, caseCode: String(sample.fields.caseCode), of: sample.repeat.of });
    }
    const v = m.validRows;
    if (sample.party === 'person') v.persons++;
    else if (sample.party === 'company') v.companies++;
    else v.governmentBodies++;
    if (sample.oldOrganisationCode) v.oldOrganisationCodes++;
    if (sample.fields.partyTypeName === undefined) v.partyTypeOmitted++;
    if (sample.rareName) v.rareNames++;
    if (sample.fields.status === 'removed') v.removed++;
  }

  finish(lines: number, bytes: number): BatchManifest {
    const m = this.manifest;
    m.lines = lines;
    m.bytes = bytes;
    const updated = m.repeats.updated.count;
    const duplicates = m.repeats.duplicate.count;
    m.expected = { total: m.total, accepted: m.valid - updated - duplicates, updated, duplicates, rejected: m.bad };
    return m;
  }
}
