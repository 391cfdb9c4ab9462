/**
 * What the public site may show of a record: the one gate between the stored head and
 * every page (issue 9, API.md "The public site", DOMAIN.md "Identifiers").
 *
 * - Only a record that is active and published on `asOf` (shared/domain/publication.ts
 *   isPublishedOn: approved, its period begun and not passed, not withheld, removed,
 *   repaired, revoked or expired) has a public form; anything else gives undefined.
 * - Only the fields of an explicit allow-list per kind are shown (PUBLIC_FIELDS): the
 *   national 双公示 public items and the courts' published list. Never the source's
 *   internal id, delivery or review data, applied requests, content hashes, the
 *   subject key, objection contacts, nor the certificate ciphertext or its keyed hash.
 *   A kind without an allow-list has no public form at all.
 * - A natural person's certificate number is stored only encrypted and hashed; its
 *   masked form (birth-date digits hidden) cannot be derived without decrypting, and
 *   the site never decrypts, so the page shows the certificate type and 已隐藏.
 * - Every free-text value is passed through the identity-number masks as well
 *   (shared/batch/masked-row.ts maskIdentityShaped, then
 *   shared/domain/identity-number-text.ts redactIdentityNumbers): a number typed into
 *   违法事实 or 备注 never reaches a page in full.
 *
 * Pure: `asOf` is a parameter; the result is a plain value that the renderer
 * (render.ts) and the change plan (change-plan.ts) read.
 */
import { createHash } from 'node:crypto';
import {
  CERTIFICATE_TYPE,
  codeName,
  DISHONESTY_GRADE,
  LICENSE_CATEGORY,
  LICENSE_STATUS,
  PENALTY_CATEGORY,
  SUBJECT_CATEGORY,
  type CodeTable,
} from '../../contracts/codes.js';
import { PUSH_KINDS, type PushKind } from '../../contracts/kinds.js';
import { maskIdentityShaped } from '../batch/masked-row.js';
import { parseLookupHash } from '../crypto/lookup-hash.js';
import { base32 } from '../domain/base32.js';
import { isValidUscc, organisationCodeProblem } from '../domain/identifiers.js';
import { redactIdentityNumbers } from '../domain/identity-number-text.js';
import { isPublishedOn } from '../domain/publication.js';
import type { StoredHead } from '../domain/record-model.js';

/** The kinds the site shows: those with an allow-list of public fields. */
export const SITE_KINDS = ['license', 'penalty', 'dishonest-debtor'] as const satisfies readonly PushKind[];
export type SiteKind = (typeof SITE_KINDS)[number];

export function isSiteKind(kind: string): kind is SiteKind {
  return (SITE_KINDS as readonly string[]).includes(kind);
}

/** The small summary of a record that list pages, subject pages and the search index show, and the publisher keeps per list. */
export interface ListEntry {
  id: string;
  kind: SiteKind;
  /** The decision's title: document name and number (a listing: its case number). */
  title: string;
  subjectName: string;
  /** URL-safe, stable, reveals nothing about the subject's identity number (subjectSlugOf). */
  subjectSlug: string;
  /** An organisation's USCC (or old organisation code); for a person, the certificate type and 号码已隐藏. */
  subjectLabel: string;
  /** YYYY-MM-DD: the decision date (a listing: its publication date); lists are keyed by it. */
  decisionDate: string;
  /** An objection about the record is open: the pages say 异议处理中. */
  underObjection: boolean;
  /** The record belongs in the government-integrity column (政务诚信专栏). */
  governmentIntegrity: boolean;
}

export interface PublicField {
  /** The national field code (XK_…, CF_…) or the court list's field name. */
  code: string;
  /** Its Chinese name. */
  label: string;
  /** The value as shown: coded values by their names, identity numbers never in full. */
  value: string;
}

export interface PublicRecord extends ListEntry {
  /** Publication runs from this date … */
  from: string;
  /** … to the end of this date (absent: open-ended, a licence without an end of validity). */
  until?: string;
  /** The public fields, in the kind's standard order. */
  fields: PublicField[];
}

/** How a field is shown: free text (masked), a date or amount, a USCC / organisation code (validated: shown as is), or a coded value by its name. */
type Shown = 'text' | 'code' | { table: CodeTable };

interface FieldRule {
  code: string;
  label: string;
  shown: Shown;
}

const text = (code: string, label: string): FieldRule => ({ code, label, shown: 'text' });
const code = (code: string, label: string): FieldRule => ({ code, label, shown: 'code' });
const coded = (code: string, label: string, table: CodeTable): FieldRule => ({ code, label, shown: { table } });

/** 行政相对人 of the 双公示 kinds (prefix XK / CF). The certificate number is never a field here: see certificateRow. */
const doublePublicitySubject = (p: 'XK' | 'CF'): FieldRule[] => [
  text(`${p}_XDR_MC`, '行政相对人名称'),
  coded(`${p}_XDR_LB`, '行政相对人类别', SUBJECT_CATEGORY),
  code(`${p}_XDR_SHXYM`, '统一社会信用代码'),
  coded(`${p}_XDR_ZJLX`, '证件类型', CERTIFICATE_TYPE),
  text(`${p}_FRDB`, '法定代表人'),
];

/**
 * The allow-list: what each kind shows, in the national standard's order. Anything not here
 * (a field added to a contract later, the internal status of a listing, the data source's
 * internal id) is not rendered until someone decides it is public and adds it.
 */
export const PUBLIC_FIELDS: Record<SiteKind, readonly FieldRule[]> = {
  license: [
    ...doublePublicitySubject('XK'),
    text('XK_XKWS', '行政许可决定文书名称'),
    text('XK_WSH', '行政许可决定文书号'),
    coded('XK_XKLB', '许可类别', LICENSE_CATEGORY),
    text('XK_XKZS', '许可证书名称'),
    text('XK_XKBH', '许可编号'),
    text('XK_NR', '许可内容'),
    text('XK_JDRQ', '许可决定日期'),
    text('XK_YXQZ', '有效期自'),
    text('XK_YXQZI', '有效期至'),
    text('XK_XKJG', '许可机关'),
    code('XK_XKJGDM', '许可机关统一社会信用代码'),
    coded('XK_ZT', '当前状态', LICENSE_STATUS),
    text('XK_LYDW', '数据来源单位'),
    code('XK_LYDWDM', '数据来源单位统一社会信用代码'),
    text('BZ', '备注'),
  ],
  penalty: [
    ...doublePublicitySubject('CF'),
    text('CF_WSH', '行政处罚决定书文号'),
    text('CF_WFXW', '违法行为类型'),
    text('CF_SY', '违法事实'),
    text('CF_YJ', '处罚依据'),
    coded('CF_CFLB', '处罚类别', PENALTY_CATEGORY),
    text('CF_NR', '处罚内容'),
    text('CF_NR_FK', '罚款金额（万元）'),
    text('CF_NR_WFFF', '没收违法所得、没收非法财物的金额（万元）'),
    text('CF_NR_ZKDX', '暂扣或吊销证照名称及编号'),
    text('CF_JDRQ', '处罚决定日期'),
    text('CF_YXQ', '处罚有效期'),
    coded('SXDJ', '失信等级', DISHONESTY_GRADE),
    text('CF_CFJG', '处罚机关'),
    code('CF_CFJGDM', '处罚机关统一社会信用代码'),
    text('CF_SJLY', '数据来源单位'),
    code('CF_SJLYDM', '数据来源单位统一社会信用代码'),
    text('BZ', '备注'),
  ],
  'dishonest-debtor': [
    text('iname', '被执行人姓名/名称'),
    text('partyTypeName', '被执行人类型'),
    // An organisation's USCC or organisation code; a person's number is not in `fields` (certificateRow).
    code('cardNum', '统一社会信用代码/组织机构代码'),
    text('businessEntity', '法定代表人或负责人姓名'),
    text('courtName', '执行法院'),
    text('areaName', '省份'),
    text('caseCode', '案号'),
    text('regDate', '立案时间'),
    text('gistId', '执行依据文号'),
    text('gistUnit', '做出执行依据单位'),
    text('duty', '生效法律文书确定的义务'),
    text('performance', '被执行人的履行情况'),
    text('performedPart', '已履行部分'),
    text('unperformPart', '未履行部分'),
    text('disruptTypeName', '失信被执行人行为具体情形'),
    text('publishDate', '发布时间'),
  ],
};

/** Kind names, as the site shows them. */
export const KIND_LABELS: Record<SiteKind, string> = {
  license: PUSH_KINDS.license.label,
  penalty: PUSH_KINDS.penalty.label,
  'dishonest-debtor': PUSH_KINDS['dishonest-debtor'].label,
};

/** What replaces a natural person's certificate number on every page. */
export const HIDDEN = '已隐藏';

/** Free text on its way to a page: any identity number in it masked (birth-date digits hidden), any other form of one redacted. */
export function publicText(value: string): string {
  return redactIdentityNumbers(maskIdentityShaped(value));
}

/** A USCC or an organisation code as is; anything else in such a field (a person's number left in clear by some older write) is masked like free text. */
function publicCode(value: string): string {
  return isValidUscc(value) || organisationCodeProblem(value) === null ? value : publicText(value);
}

function shownValue(rule: FieldRule, value: string): string {
  if (rule.shown === 'text') return publicText(value);
  if (rule.shown === 'code') return publicCode(value);
  const table = rule.shown.table;
  return value
    .split(';')
    .map((c) => codeName(table, c) ?? publicText(c))
    .join('、');
}

/** The label of a natural person's certificate, as shown in place of the number: 身份证号码已隐藏. */
function hiddenCertificateLabel(type: string): string {
  const name = codeName(CERTIFICATE_TYPE, type) ?? '证件';
  return `${name}号码${HIDDEN}`;
}

/**
 * The subject's slug for its page URL: 26 base32 characters of SHA-256 over the subject key.
 * A person's key is `PID#<keyed hash>` (HMAC under the hub's secret lookup key), so the slug
 * cannot be reversed by trying the identity-number space; an organisation's is its USCC,
 * public anyway. The keyed hash counts by its digest (`v1#<d>` and `<d>` are the same
 * subject), as contentHash does.
 */
export function subjectSlugOf(subjectKey: string): string {
  const canonical = subjectKey.replace(/^(PID#|CERT#[^#]+#)(.*)$/, (_all, prefix: string, hash: string) => `${prefix}${parseLookupHash(hash).digest}`);
  return base32(createHash('sha256').update(`site-subject\u0000${canonical}`).digest(), 26);
}

/**
 * In the government-integrity column (政务诚信专栏): dishonesty information (penalties, court
 * listings) about a government body (a USCC of the establishment offices: head.governmentBody).
 * A licence granted to a public institution is not integrity information and stays out.
 * Disciplinary records and commitments (about civil servants and government bodies) join
 * when those kinds get an allow-list.
 */
const GOVERNMENT_INTEGRITY_KINDS: readonly SiteKind[] = ['penalty', 'dishonest-debtor'];

function titleOf(kind: SiteKind, fields: Record<string, string>): string {
  switch (kind) {
    case 'license':
      return `${fields.XK_XKWS ?? '行政许可决定书'} ${fields.XK_WSH ?? ''}`;
    case 'penalty':
      return `行政处罚决定书 ${fields.CF_WSH ?? ''}`;
    case 'dishonest-debtor':
      return `失信被执行人 ${fields.caseCode ?? ''}`;
  }
}

/** The public form of `head` on `asOf` (YYYY-MM-DD, China), or undefined when the site must not show it. */
export function toPublicRecord(head: StoredHead, asOf: string): PublicRecord | undefined {
  if (head.status !== 'active' || !isPublishedOn(head.publication, asOf)) return undefined;
  if (!isSiteKind(head.kind)) return undefined;
  const kind = head.kind;
  const spec = PUSH_KINDS[kind];
  const fields: PublicField[] = [];
  for (const rule of PUBLIC_FIELDS[kind]) {
    // With a certificate, the certificate field is the person's number's place: never shown (certificateRow below).
    if (head.certificate && rule.code === spec.subject.certificateNumberField) continue;
    const value = head.fields[rule.code];
    if (value !== undefined) fields.push({ code: rule.code, label: rule.label, value: shownValue(rule, value) });
  }
  if (head.certificate) {
    // certificateRow: in place of the number: its type and 已隐藏, after the certificate type (双公示) or the party type (a listing).
    const row: PublicField = { code: spec.subject.certificateNumberField, label: kind === 'dishonest-debtor' ? '身份证号码' : '证件号码', value: HIDDEN };
    const after = fields.findIndex((f) => f.code === (kind === 'dishonest-debtor' ? 'partyTypeName' : `${kind === 'license' ? 'XK' : 'CF'}_XDR_ZJLX`));
    fields.splice(after < 0 ? fields.length : after + 1, 0, row);
  }
  const name = head.fields[spec.subject.nameField] ?? '';
  const subjectLabel = head.certificate
    ? hiddenCertificateLabel(head.certificate.type)
    : publicCode(head.fields[`${kind === 'license' ? 'XK' : 'CF'}_XDR_SHXYM`] ?? (kind === 'dishonest-debtor' ? head.fields.cardNum : undefined) ?? '');
  return {
    id: head.id,
    kind,
    title: publicText(titleOf(kind, head.fields)),
    subjectName: publicText(name),
    subjectSlug: subjectSlugOf(head.subjectKey),
    subjectLabel,
    decisionDate: head.decisionDate,
    underObjection: head.objection !== undefined && head.objection.count > 0,
    governmentIntegrity: head.governmentBody === true && GOVERNMENT_INTEGRITY_KINDS.includes(kind),
    from: head.publication.from,
    ...(head.publication.until !== undefined ? { until: head.publication.until } : {}),
    fields,
  };
}

/** The summary of `record` that lists show (and the publisher keeps per list). */
export function toListEntry(record: ListEntry): ListEntry {
  return {
    id: record.id,
    kind: record.kind,
    title: record.title,
    subjectName: record.subjectName,
    subjectSlug: record.subjectSlug,
    subjectLabel: record.subjectLabel,
    decisionDate: record.decisionDate,
    underObjection: record.underObjection,
    governmentIntegrity: record.governmentIntegrity,
  };
}
