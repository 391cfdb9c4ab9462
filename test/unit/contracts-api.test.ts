import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  MAX_RECORDS_PER_SUBMISSION,
  createSourceSchema,
  licenseSubmissionSchema,
  penaltySubmissionSchema,
  dishonestDebtorSubmissionSchema,
  recordViewSchema,
  sourceIdSchema,
  submissionEnvelopeSchema,
} from '../../contracts/api.js';
import { KINDS_BY_ROLE, PUSHING_ROLES, PUSH_KINDS, RECORD_KINDS, SOURCE_ROLES, pushKind } from '../../contracts/kinds.js';
import { licenseRecordSchema } from '../../contracts/license.js';
import { penaltyRecordSchema } from '../../contracts/penalty.js';
import { dishonestDebtorRecordSchema } from '../../contracts/dishonest-debtor.js';
import { fieldErrors } from '../../shared/http/validation.js';

const SOURCE = { id: 'shi-scjgj', name: '某市市场监督管理局', uscc: '121200004013590816', role: 'department', kinds: ['license', 'penalty'] };

function parsed(schema: z.ZodType, value: unknown) {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`expected acceptance: ${JSON.stringify(fieldErrors(result.error))}`);
  return result.data;
}

function errorsOf(schema: z.ZodType, value: unknown) {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`expected rejection: ${JSON.stringify(result.data)}`);
  return fieldErrors(result.error);
}

const fields = (schema: z.ZodType, value: unknown) => errorsOf(schema, value).map((e) => e.field);

describe('createSourceSchema', () => {
  it('accepts a department with licence and penalty kinds', () => {
    expect(parsed(createSourceSchema, SOURCE)).toStrictEqual(SOURCE);
  });

  it('normalises the USCC (full width, lower case, spaces)', () => {
    expect(parsed(createSourceSchema, { ...SOURCE, uscc: ' ９１３１０１１５ma1k3btp2b ' })).toMatchObject({ uscc: '91310115MA1K3BTP2B' });
  });

  it.each(['91110000600037341N', '9111000060003734', '91110000600037341O', ''])('rejects the USCC %j on uscc', (uscc) => {
    expect(fields(createSourceSchema, { ...SOURCE, uscc })).toEqual(['uscc']);
  });

  describe('id pattern: 2–64 letters, digits, - or _, starting with a letter or digit', () => {
    it.each(['ab', 'shi-scjgj', 'Court_01', '9a', 'a'.repeat(64), 'a-_-_']) ('accepts %j', (id) => {
      expect(parsed(createSourceSchema, { ...SOURCE, id })).toMatchObject({ id });
    });

    it.each(['a', 'a'.repeat(65), '-abc', '_abc', 'shi scjgj', 'shi/scjgj', 'shi.scjgj', '市监局', '', 'abc\n', '../etc'])('rejects %j on id', (id) => {
      expect(fields(createSourceSchema, { ...SOURCE, id })).toEqual(['id']);
    });

    it('is the same pattern as sourceIdSchema', () => {
      expect(sourceIdSchema.safeParse('x').success).toBe(false);
      expect(sourceIdSchema.safeParse('xy').success).toBe(true);
    });
  });

  it('rejects an empty, blank or over-long name', () => {
    expect(fields(createSourceSchema, { ...SOURCE, name: '' })).toEqual(['name']);
    expect(fields(createSourceSchema, { ...SOURCE, name: '  ' })).toEqual(['name']);
    expect(fields(createSourceSchema, { ...SOURCE, name: '局'.repeat(201) })).toEqual(['name']);
    expect(parsed(createSourceSchema, { ...SOURCE, name: '局'.repeat(200) })).toMatchObject({ name: '局'.repeat(200) });
  });

  it.each(['operator', 'admin', 'Department', ''])('rejects the role %j on role', (role) => {
    expect(fields(createSourceSchema, { ...SOURCE, role, kinds: [] })).toContain('role');
  });

  describe('role and kinds', () => {
    it.each([
      ['department', ['license']],
      ['department', ['license', 'penalty', 'commitment']],
      ['court', ['dishonest-debtor']],
      ['discipline', ['discipline']],
      ['checker', []],
      ['platform', []],
    ])('%s may be granted %j', (role, kinds) => {
      // A platform source is registered under its platform's name.
      const id = role === 'platform' ? { id: 'national' } : {};
      expect(parsed(createSourceSchema, { ...SOURCE, ...id, role, kinds })).toMatchObject({ role, kinds });
    });

    it('registers a platform source only under a platform name (provincial or national): the key says which platform speaks', () => {
      expect(parsed(createSourceSchema, { ...SOURCE, id: 'provincial', role: 'platform', kinds: [] })).toMatchObject({ id: 'provincial', role: 'platform', kinds: [] });
      expect(errorsOf(createSourceSchema, { ...SOURCE, id: 'sheng-pingtai', role: 'platform', kinds: [] })).toEqual([{ field: 'id', message: expect.stringContaining('provincial or national') }]);
      // Other roles may use any id, a platform's name included.
      expect(parsed(createSourceSchema, { ...SOURCE, id: 'national', role: 'checker', kinds: [] })).toMatchObject({ id: 'national' });
    });

    it.each([
      ['department', ['dishonest-debtor'], 'kinds.0'],
      ['department', ['license', 'discipline'], 'kinds.1'],
      ['court', ['license'], 'kinds.0'],
      ['discipline', ['penalty'], 'kinds.0'],
      ['checker', ['license'], 'kinds.0'],
      ['platform', ['penalty'], 'kinds.0'],
    ])('%s may not be granted %j (error on %s)', (role, kinds, field) => {
      const errors = errorsOf(createSourceSchema, { ...SOURCE, ...(role === 'platform' ? { id: 'provincial' } : {}), role, kinds });
      expect(errors.map((e) => e.field)).toEqual([field]);
      expect(errors[0]!.message).toContain(`角色${role}不能报送`);
    });

    it.each(['department', 'court', 'discipline'])('%s needs at least one kind', (role) => {
      expect(errorsOf(createSourceSchema, { ...SOURCE, role, kinds: [] })).toEqual([{ field: 'kinds', message: expect.stringMatching(/至少指定一个种类/) }]);
    });

    it('a department without a kinds property needs at least one kind', () => {
      const { kinds: _ignored, ...noKinds } = SOURCE;
      expect(fields(createSourceSchema, noKinds)).toEqual(['kinds']);
    });

    it('a checker without a kinds property gets []', () => {
      const { kinds: _ignored, ...noKinds } = SOURCE;
      expect(parsed(createSourceSchema, { ...noKinds, role: 'checker' })).toMatchObject({ role: 'checker', kinds: [] });
    });

    it('rejects a kind listed twice', () => {
      expect(errorsOf(createSourceSchema, { ...SOURCE, kinds: ['license', 'penalty', 'license'] })).toEqual([
        { field: 'kinds', message: expect.stringMatching(/种类重复/) },
      ]);
    });

    it('rejects an unknown kind on its index', () => {
      expect(fields(createSourceSchema, { ...SOURCE, kinds: ['license', 'tax'] })).toEqual(['kinds.1']);
    });

    it('rejects kinds that is not an array', () => {
      expect(new Set(fields(createSourceSchema, { ...SOURCE, kinds: 'license' }))).toEqual(new Set(['kinds']));
      expect(new Set(fields(createSourceSchema, { ...SOURCE, kinds: { 0: 'license' } }))).toEqual(new Set(['kinds']));
    });
  });

  it('rejects unknown top-level keys (apiKey may not be chosen by the caller)', () => {
    const result = createSourceSchema.safeParse({ ...SOURCE, apiKey: 'secret' });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.code).toBe('unrecognized_keys');
    expect(fieldErrors(result.error!)).toEqual([{ field: 'apiKey', message: expect.stringMatching(/未知字段/) }]);
  });

  it('names every missing field', () => {
    expect(fields(createSourceSchema, {}).sort()).toEqual(['id', 'name', 'role', 'uscc']);
  });
});

describe('submissionEnvelopeSchema', () => {
  const records = (n: number) => Array.from({ length: n }, (_, i) => ({ XK_WSH: `W${i}` }));

  it('is limited to 1,000 records', () => {
    expect(MAX_RECORDS_PER_SUBMISSION).toBe(1000);
  });

  it('accepts 1 and 1,000 records', () => {
    expect(parsed(submissionEnvelopeSchema, { records: records(1) })).toMatchObject({ records: [{ XK_WSH: 'W0' }] });
    expect((parsed(submissionEnvelopeSchema, { records: records(1000) }) as { records: unknown[] }).records).toHaveLength(1000);
  });

  it('rejects 0 records on records', () => {
    expect(errorsOf(submissionEnvelopeSchema, { records: [] })).toEqual([{ field: 'records', message: expect.stringMatching(/至少一条记录/) }]);
  });

  it('rejects 1,001 records on records', () => {
    expect(errorsOf(submissionEnvelopeSchema, { records: records(1001) })).toEqual([{ field: 'records', message: expect.stringMatching(/最多1000条/) }]);
  });

  it('does not validate the records themselves (each is validated on its own later)', () => {
    expect(parsed(submissionEnvelopeSchema, { records: [1, 'x', null, [], {}] })).toStrictEqual({ records: [1, 'x', null, [], {}] });
  });

  it('rejects an unknown top-level key', () => {
    const result = submissionEnvelopeSchema.safeParse({ records: records(1), kind: 'license' });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.code)).toEqual(['unrecognized_keys']);
    expect(fieldErrors(result.error!)).toEqual([{ field: 'kind', message: expect.stringMatching(/未知字段/) }]);
  });

  it('rejects a missing or non-array records', () => {
    expect(errorsOf(submissionEnvelopeSchema, {})).toEqual([{ field: 'records', message: expect.stringMatching(/必填字段缺失/) }]);
    expect(fields(submissionEnvelopeSchema, { records: { 0: {} } })).toEqual(['records']);
    expect(fields(submissionEnvelopeSchema, [])).toEqual(['']);
  });
});

describe('per-kind submission schemas (OpenAPI)', () => {
  it('report record errors with the record index in the path', () => {
    expect(fields(licenseSubmissionSchema, { records: [{}] })).toContain('records.0.XK_WSH');
    expect(fields(penaltySubmissionSchema, { records: [{}] })).toContain('records.0.CF_WSH');
    expect(fields(dishonestDebtorSubmissionSchema, { records: [{}] })).toContain('records.0.caseCode');
  });
});

describe('the record view schema', () => {
  const view = {
    id: 'dd_aaaaaaaaaaaaaaaaaaaaaaaaaa',
    kind: 'dishonest-debtor',
    source: 'court',
    status: 'removed',
    governmentBody: true,
    version: 2,
    late: false,
    firstReceivedAt: '2026-11-20T03:00:00.000Z',
    receivedAt: '2026-11-21T03:00:00.000Z',
    fields: { caseCode: '（2026）京01执1号', status: 'removed' },
    labels: { status: '已移除' },
    versions: [{ version: 2, receivedAt: '2026-11-21T03:00:00.000Z', contentHash: 'h', fields: { caseCode: '（2026）京01执1号' } }],
    versionCount: 2,
    publication: { state: 'ended', endReason: 'removed', endedOn: '2026-11-21', from: '2026-11-02', until: '2028-11-02' },
    delivery: { provincial: { state: 'pending', version: 2 }, national: { state: 'failed', version: 2, failedAt: '2026-11-21T03:01:00.000Z', reason: 'HTTP 400: bad', attempts: 1 } },
  };

  it('describes a removed listing of a government body', () => {
    expect(recordViewSchema.safeParse(view).success).toBe(true);
    expect(recordViewSchema.safeParse({ ...view, status: 'active', publication: { state: 'pending-review', from: '2026-11-02', until: '2028-11-02' } }).success).toBe(true);
  });

  it('knows no other status, publication state or end reason', () => {
    expect(recordViewSchema.safeParse({ ...view, status: 'listed' }).success).toBe(false);
    expect(recordViewSchema.safeParse({ ...view, publication: { ...view.publication, state: 'published' } }).success).toBe(false);
    expect(recordViewSchema.safeParse({ ...view, publication: { ...view.publication, endReason: 'lapsed' } }).success).toBe(false);
    // Issue 9's states and end reasons are known.
    expect(recordViewSchema.safeParse({ ...view, publication: { ...view.publication, state: 'ended', endReason: 'expired' } }).success).toBe(true);
    expect(recordViewSchema.safeParse({ ...view, publication: { ...view.publication, state: 'withheld' } }).success).toBe(true);
    const { governmentBody: _g, ...withoutFlag } = view;
    expect(recordViewSchema.safeParse(withoutFlag).success).toBe(false);
  });
});

describe('fieldErrors()', () => {
  const schema = z.strictObject({ a: z.string(), b: z.object({ c: z.number() }).optional() });

  it('joins nested paths with dots and applies a prefix', () => {
    const error = schema.safeParse({ a: 'x', b: { c: 'no' } }).error!;
    expect(fieldErrors(error).map((e) => e.field)).toEqual(['b.c']);
    expect(fieldErrors(error, ['records', 3]).map((e) => e.field)).toEqual(['records.3.b.c']);
  });

  it('gives one error per unknown key, prefixed', () => {
    const error = schema.safeParse({ a: 'x', y: 1, z: 2 }).error!;
    expect(fieldErrors(error, ['records', 0])).toEqual([
      { field: 'records.0.y', message: '未知字段 (unknown field)' },
      { field: 'records.0.z', message: '未知字段 (unknown field)' },
    ]);
  });

  it('reports a missing field as missing', () => {
    expect(fieldErrors(schema.safeParse({}).error!)).toEqual([{ field: 'a', message: '必填字段缺失 (required field is missing)' }]);
  });

  it('passes custom messages through', () => {
    const custom = z.string().refine(() => false, '自定义 (custom)');
    expect(fieldErrors(custom.safeParse('x').error!)).toEqual([{ field: '', message: '自定义 (custom)' }]);
  });

  // BUG: zod 4 issues carry `input` only when parsing with { reportInput: true }, which no
  // caller does, so `issue.input === undefined` holds for every invalid_type issue and a
  // present value of the wrong type is reported as "required field is missing".
  it('reports a present value of the wrong type as a type error, not as missing', () => {
    const [error] = fieldErrors(schema.safeParse({ a: 5 }).error!);
    expect(error!.field).toBe('a');
    expect(error!.message).not.toMatch(/必填字段缺失/);
    expect(error!.message).toMatch(/类型错误/);
  });

  it('reports a number in a licence text field as a type error (the path records take)', () => {
    const record = { XK_NR: 5 };
    const errors = fieldErrors(licenseRecordSchema.safeParse(record).error!);
    expect(errors.find((e) => e.field === 'XK_NR')!.message).toMatch(/类型错误/);
  });
});

describe('kinds', () => {
  it('lists the five kinds of API.md and the five source roles', () => {
    expect([...RECORD_KINDS]).toEqual(['license', 'penalty', 'dishonest-debtor', 'discipline', 'commitment']);
    expect([...SOURCE_ROLES]).toEqual(['department', 'court', 'discipline', 'checker', 'platform']);
  });

  it('lets only department, court and discipline push', () => {
    expect([...PUSHING_ROLES].sort()).toEqual(['court', 'department', 'discipline']);
    expect(KINDS_BY_ROLE.checker).toEqual([]);
    expect(KINDS_BY_ROLE.platform).toEqual([]);
    expect(KINDS_BY_ROLE.department).not.toContain('dishonest-debtor');
  });

  it('pushKind finds the submission kinds and nothing else', () => {
    expect(pushKind('license')).toBe(PUSH_KINDS.license);
    expect(pushKind('penalty')?.identityField).toBe('CF_WSH');
    expect(pushKind('dishonest-debtor')).toBe(PUSH_KINDS['dishonest-debtor']);
    expect(pushKind('discipline')).toBeUndefined();
    expect(pushKind('commitment')).toBeUndefined();
    expect(pushKind('toString')).toBeUndefined();
    expect(pushKind('__proto__')).toBeUndefined();
    expect(pushKind('License')).toBeUndefined();
  });

  it('wires each push kind to its schema and fields', () => {
    expect(PUSH_KINDS.license).toMatchObject({
      idPrefix: 'lic',
      identityField: 'XK_WSH',
      decisionDateField: 'XK_JDRQ',
      dataSource: { codeField: 'XK_LYDWDM', nameField: 'XK_LYDW' },
      doublePublicity: true,
      publication: { rule: 'validity', validUntilField: 'XK_YXQZI' },
      subject: { nameField: 'XK_XDR_MC', certificateNumberField: 'XK_XDR_ZJHM' },
    });
    expect(PUSH_KINDS.license.schema).toBe(licenseRecordSchema);
    expect(PUSH_KINDS.penalty).toMatchObject({
      idPrefix: 'pen',
      identityField: 'CF_WSH',
      decisionDateField: 'CF_JDRQ',
      dataSource: { codeField: 'CF_SJLYDM', nameField: 'CF_SJLY' },
      doublePublicity: true,
      publication: { rule: 'graded', gradeField: 'SXDJ', proposedEndField: 'CF_GSJZQ' },
      subject: { nameField: 'CF_XDR_MC', certificateNumberField: 'CF_XDR_ZJHM' },
    });
    expect(PUSH_KINDS.penalty.schema).toBe(penaltyRecordSchema);
    expect(PUSH_KINDS['dishonest-debtor']).toMatchObject({
      idPrefix: 'dd',
      identityField: 'caseCode',
      decisionDateField: 'publishDate',
      doublePublicity: false,
      publication: { rule: 'listing', statusField: 'status' },
      subject: { nameField: 'iname', certificateNumberField: 'cardNum' },
    });
    expect(PUSH_KINDS['dishonest-debtor']).not.toHaveProperty('dataSource');
    expect(PUSH_KINDS['dishonest-debtor'].schema).toBe(dishonestDebtorRecordSchema);
  });

  it('reads each kind’s subject from its own fields', () => {
    const { license, penalty } = PUSH_KINDS;
    const debtor = PUSH_KINDS['dishonest-debtor'].subject;
    const person = { CF_XDR_LB: '03', CF_XDR_ZJLX: '02', CF_XDR_ZJHM: 'E12345678' };
    expect([penalty.subject.personalCertificateType(person), penalty.subject.uscc(person), penalty.subject.organisationCode(person)]).toEqual(['02', undefined, undefined]);
    const company = { XK_XDR_LB: '01', XK_XDR_SHXYM: '91110000600037341L' };
    expect([license.subject.personalCertificateType(company), license.subject.uscc(company)]).toEqual([undefined, '91110000600037341L']);
    const natural = { cardNum: '110102199101010078', partyTypeName: '自然人' };
    expect([debtor.personalCertificateType(natural), debtor.uscc(natural), debtor.organisationCode(natural)]).toEqual(['01', undefined, undefined]);
    const organisation = { cardNum: '91110000600037341L', partyTypeName: '法人或其他组织' };
    expect([debtor.personalCertificateType(organisation), debtor.uscc(organisation), debtor.organisationCode(organisation)]).toEqual([undefined, '91110000600037341L', undefined]);
    const oldCode = { cardNum: '600037341', partyTypeName: '法人或其他组织' };
    expect([debtor.personalCertificateType(oldCode), debtor.uscc(oldCode), debtor.organisationCode(oldCode)]).toEqual([undefined, undefined, '600037341']);
  });
});
