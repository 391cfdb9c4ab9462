/**
 * The stored content of record versions a package carries (shared/upward/record-versions.ts), against DynamoDB
 * Local with the catalogue's records table, the heads and versions written by the records store itself
 * (shared/store/records-store.ts) so that the items are the real ones: a head at the version asked for gives it, a
 * head past it sends the read to the version's `V#` item, a record not stored is undefined; heads are read
 * eventually consistent first and again strongly consistent when one looks stale.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables } from '../../infra/catalogue.js';
import type { StoredCertificate, StoredHead, StoredVersion } from '../../shared/domain/record-model.js';
import { DynamoRecordsStore } from '../../shared/store/records-store.js';
import { DynamoRecordVersions } from '../../shared/upward/record-versions.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';

const TABLE = tables.records.localName;
let db: TestDynamo;
let records: DynamoRecordsStore;
let versions: DynamoRecordVersions;

beforeAll(async () => {
  db = await startTestDynamo();
  records = new DynamoRecordsStore(db.doc, TABLE);
  versions = new DynamoRecordVersions(db.doc, TABLE);
});

afterAll(async () => {
  await db?.stop();
});

const CERT: StoredCertificate = { type: '001', cipher: 'v1.ciphertext-of-a-number', hash: 'v1#h' };

/** Version `version` of penalty `id`, with fields that say which version they are. */
function head(id: string, version: number, certificate?: StoredCertificate): StoredHead {
  return {
    id,
    kind: 'penalty',
    sourceId: 'shi-scjgj',
    identity: `京市监罚〔2026〕${id}号`,
    version,
    subjectKey: 'USCC#91310115MA1K3BTP2B',
    decisionDate: '2026-01-05',
    late: false,
    firstReceivedAt: '2026-01-06T00:00:00.000Z',
    receivedAt: `2026-01-${String(5 + version).padStart(2, '0')}T00:00:00.000Z`,
    status: 'active',
    publication: { state: 'pending-review', from: '2026-01-05' },
    fields: { CF_XDR_MC: `某某公司 v${version}`, CF_WSH: `京市监罚〔2026〕${id}号` },
    ...(certificate ? { certificate } : {}),
    contentHash: `hash-${id}-${version}`,
  };
}

/** The content a package needs of a version written as `h`. */
const contentOf = (h: StoredHead) => ({ id: h.id, kind: h.kind, sourceId: h.sourceId, version: h.version, fields: h.fields, ...(h.certificate ? { certificate: h.certificate } : {}) });

/** Writes a record through `count` versions with the records store: v1 created, each next one an update (the old head kept as V#). */
async function writeRecord(id: string, count: number, certificateOf: (version: number) => StoredCertificate | undefined = () => undefined): Promise<StoredHead[]> {
  const written: StoredHead[] = [];
  for (let v = 1; v <= count; v++) {
    const next = head(id, v, certificateOf(v));
    const previous = written.at(-1);
    if (!previous) {
      expect(await records.write([{ op: 'create', head: next }])).toEqual(['written']);
    } else {
      const kept: StoredVersion = { id, version: previous.version, receivedAt: previous.receivedAt, supersededAt: next.receivedAt, fields: previous.fields, contentHash: previous.contentHash, ...(previous.certificate ? { certificate: previous.certificate } : {}) };
      expect(await records.write([{ op: 'update', head: next, previous, version: kept }])).toEqual(['written']);
    }
    written.push(next);
  }
  return written;
}

/** A document client that records the BatchGets it passes on, and may change their answers. */
function recording(change?: (input: BatchGetCommand['input'], output: unknown) => unknown) {
  const calls: BatchGetCommand['input'][] = [];
  const client = {
    send: async (command: BatchGetCommand) => {
      calls.push(command.input);
      const output = await db.doc.send(command);
      return change ? change(command.input, output) : output;
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, calls };
}

describe('DynamoRecordVersions', () => {
  it('reads a version at its head: the head’s content', async () => {
    const [v1] = await writeRecord('pen_AT1', 1, () => CERT);
    expect(await versions.read([{ recordId: 'pen_AT1', version: 1 }])).toEqual([contentOf(v1!)]);
  });

  it('reads a version its head is past from the version’s V# item, and the current one from the head', async () => {
    const written = await writeRecord('pen_PAST', 3, (v) => (v === 2 ? undefined : CERT));
    const read = await versions.read([
      { recordId: 'pen_PAST', version: 3 },
      { recordId: 'pen_PAST', version: 1 },
      { recordId: 'pen_PAST', version: 2 },
    ]);
    expect(read).toEqual([contentOf(written[2]!), contentOf(written[0]!), contentOf(written[1]!)]);
    // Each version's own fields, and the certificate only where that version had one.
    expect(read.map((c) => c!.fields.CF_XDR_MC)).toEqual(['某某公司 v3', '某某公司 v1', '某某公司 v2']);
    expect(read[2]).not.toHaveProperty('certificate');
    expect(read[1]!.certificate).toEqual(CERT);
  });

  it('answers undefined for a record not stored, in its place among the others', async () => {
    const [a] = await writeRecord('pen_MIX_A', 1);
    const [b] = await writeRecord('pen_MIX_B', 1);
    expect(await versions.read([{ recordId: 'pen_MIX_A', version: 1 }, { recordId: 'pen_NONE', version: 1 }, { recordId: 'pen_MIX_B', version: 1 }])).toEqual([contentOf(a!), undefined, contentOf(b!)]);
    expect(await versions.read([])).toEqual([]);
  });

  it('fails for a version its head has not reached (read strongly consistent first), and for a superseded version not kept', async () => {
    await writeRecord('pen_BEHIND', 1);
    await expect(versions.read([{ recordId: 'pen_BEHIND', version: 2 }])).rejects.toThrow(/pen_BEHIND: version 2 .*head is at version 1/);
    // A head past the version whose V# item is missing (never written by the records store: put here by hand).
    await records.write([{ op: 'create', head: head('pen_GAP', 4) }]);
    await expect(versions.read([{ recordId: 'pen_GAP', version: 2 }])).rejects.toThrow(/pen_GAP: version 2 is not stored/);
  });

  it('reads the heads eventually consistent in requests of up to 100, and the V# items strongly consistent', async () => {
    const many = await Promise.all(Array.from({ length: 130 }, (_, i) => writeRecord(`pen_MANY${i}`, i % 10 === 0 ? 2 : 1)));
    const refs = many.map((w, i) => ({ recordId: `pen_MANY${i}`, version: i % 20 === 0 ? 1 : w.at(-1)!.version }));
    const { client, calls } = recording();
    const read = await new DynamoRecordVersions(client, TABLE).read(refs);
    expect(read).toEqual(refs.map((r, i) => contentOf(many[i]![r.version - 1]!)));
    const keysOf = (c: BatchGetCommand['input']) => c.RequestItems![TABLE]!;
    const headReads = calls.filter((c) => keysOf(c).Keys!.every((k) => k.sk === 'HEAD'));
    expect(headReads.map((c) => [keysOf(c).Keys!.length, keysOf(c).ConsistentRead])).toEqual([
      [100, false],
      [30, false],
    ]);
    const versionReads = calls.filter((c) => keysOf(c).Keys!.every((k) => String(k.sk).startsWith('V#')));
    expect(versionReads.flatMap((c) => keysOf(c).Keys!.map((k) => k.pk)).sort()).toEqual(refs.filter((r, i) => r.version < many[i]!.length).map((r) => `REC#${r.recordId}`).sort());
    expect(versionReads.every((c) => keysOf(c).ConsistentRead === true)).toBe(true);
    expect(calls).toHaveLength(3);
  });

  it('reads a head again strongly consistent when the eventually consistent read is behind the version asked for, or misses it', async () => {
    const [a1, a2] = await writeRecord('pen_STALE_A', 2);
    const [b1] = await writeRecord('pen_STALE_B', 1);
    // The eventually consistent read answers as a replica behind the writes would: A still at version 1, B not there yet.
    const { client, calls } = recording((input, output) => {
      const out = output as { Responses?: Record<string, Record<string, unknown>[]> };
      if (input.RequestItems![TABLE]!.ConsistentRead) return out;
      const stale = (out.Responses?.[TABLE] ?? []).filter((i) => i.pk !== 'REC#pen_STALE_B').map((i) => (i.pk === 'REC#pen_STALE_A' ? { pk: i.pk, sk: i.sk, ...a1 } : i));
      return { ...out, Responses: { [TABLE]: stale } };
    });
    const read = await new DynamoRecordVersions(client, TABLE).read([
      { recordId: 'pen_STALE_A', version: 2 },
      { recordId: 'pen_STALE_B', version: 1 },
    ]);
    expect(read).toEqual([contentOf(a2!), contentOf(b1!)]);
    const consistent = calls.filter((c) => c.RequestItems![TABLE]!.ConsistentRead);
    expect(consistent.flatMap((c) => c.RequestItems![TABLE]!.Keys!.map((k) => `${k.pk}|${k.sk}`)).sort()).toEqual(['REC#pen_STALE_A|HEAD', 'REC#pen_STALE_B|HEAD']);
  });

  it('asks again for the keys DynamoDB left unprocessed', async () => {
    const [a] = await writeRecord('pen_UNPROC_A', 1);
    const [b] = await writeRecord('pen_UNPROC_B', 1);
    let first = true;
    const { client, calls } = recording((input, output) => {
      if (!first) return output;
      first = false;
      // The first answer holds A only, and leaves B unprocessed.
      const out = output as { Responses?: Record<string, Record<string, unknown>[]> };
      const keys = input.RequestItems![TABLE]!.Keys!.filter((k) => k.pk === 'REC#pen_UNPROC_B');
      return { ...out, Responses: { [TABLE]: (out.Responses?.[TABLE] ?? []).filter((i) => i.pk !== 'REC#pen_UNPROC_B') }, UnprocessedKeys: { [TABLE]: { ...input.RequestItems![TABLE], Keys: keys } } };
    });
    expect(await new DynamoRecordVersions(client, TABLE).read([{ recordId: 'pen_UNPROC_A', version: 1 }, { recordId: 'pen_UNPROC_B', version: 1 }])).toEqual([contentOf(a!), contentOf(b!)]);
    expect(calls.map((c) => c.RequestItems![TABLE]!.Keys!.map((k) => k.pk))).toEqual([['REC#pen_UNPROC_A', 'REC#pen_UNPROC_B'], ['REC#pen_UNPROC_B']]);
  });
});

describe('DynamoRecordsStore.getHead', () => {
  it('reads one record’s current version (without its keys), and nothing for an unknown id', async () => {
    const written = await writeRecord('pen_GETHEAD', 2);
    expect(await records.getHead('pen_GETHEAD')).toEqual(written[1]);
    expect(await records.getHead('pen_GETHEAD_NONE')).toBeUndefined();
  });
});
