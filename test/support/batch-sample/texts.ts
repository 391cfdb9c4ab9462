/**
 * The free text of a 失信被执行人 row: the obligation fixed by the judgment
 * (duty), the basis document (gistId, gistUnit) and the behaviour that got the
 * debtor listed (disruptTypeName). Duty text carries what a CSV writer must
 * quote: ASCII commas (thousands separators, clauses), ASCII double quotes and
 * line breaks between numbered items.
 */
import type { Random } from '../seeded-random.js';
import { courtCode, type Place } from './places.js';

/** 失信被执行人行为具体情形, as the Supreme People's Court's list words them. */
export const DISRUPT_TYPES = [
  '有履行能力而拒不履行生效法律文书确定义务',
  '违反财产报告制度',
  '违反限制消费令',
  '以伪造证据、暴力、威胁等方法妨碍、抗拒执行',
  '以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行',
  '无正当理由拒不履行执行和解协议',
] as const;

/** One behaviour, or two joined by a comma as court systems export them. */
export function disruptTypeName(random: Random): string {
  const first = random.pick(DISRUPT_TYPES);
  if (random.chance(0.8)) return first;
  const second = random.pick(DISRUPT_TYPES);
  return second === first ? first : `${first},${second}`;
}

/** 12,345,678 (ASCII thousands separators, as many judgments print amounts). */
export function yuan(amount: number): string {
  return String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 生效法律文书确定的义务: several templates, some over several lines, some with ASCII quotes. */
export function dutyText(random: Random, creditor: string, principal: number, fee: number, since: string): string {
  const wan = ((principal + fee) / 10_000).toFixed(2);
  switch (random.int(0, 6)) {
    case 0:
      return `被执行人于判决生效之日起十日内支付申请执行人${creditor}借款本金${yuan(principal)}元及利息（以${yuan(principal)}元为基数，自${since}起按全国银行间同业拆借中心公布的一年期贷款市场报价利率计算至实际清偿之日止）。`;
    case 1:
      return `一、被执行人于本判决生效之日起十日内向${creditor}支付货款${yuan(principal)}元;\n二、被执行人支付逾期付款违约金(以${yuan(principal)}元为基数, 自${since}起按日万分之五计算);\n三、案件受理费${yuan(fee)}元由被执行人负担。`;
    case 2:
      return `被执行人向申请执行人支付工程款${yuan(principal)}元, 并承担"${creditor}"为实现债权支出的律师费${yuan(fee)}元。`;
    case 3:
      return `被申请人应向申请人${creditor}支付租金${yuan(principal)}元、违约金${yuan(fee)}元，仲裁费由被申请人承担。\r\n逾期履行的，加倍支付迟延履行期间的债务利息。`;
    case 4:
      // A line break with no comma nearby: only the line break makes a CSV writer quote it.
      return `被执行人于本判决生效之日起十日内支付申请执行人${creditor}${wan}万元。\n如未按期履行，加倍支付迟延履行期间的债务利息。`;
    case 5:
      // Double quotes and nothing else a CSV writer must quote.
      return `被执行人支付"${creditor}"服务费${wan}万元`;
    default:
      return `给付${yuan(principal + fee)}元`;
  }
}

/** 上海市 → 上海, 乌鲁木齐市 → 乌鲁木齐, 黔西南布依族苗族自治州 → 黔西南. */
function shortCity(city: string): string {
  const name = city.replace(/市$/, '');
  return name.length > 4 ? name.slice(0, 3) : name;
}

export interface Gist {
  gistId: string;
  gistUnit: string;
}

/**
 * 执行依据文号 and 做出执行依据单位: a judgment of the court itself or of the
 * intermediate court on appeal, an arbitral award, or a notarised debt instrument.
 */
export function gist(random: Random, place: Place, caseYear: number): Gist {
  const year = random.chance(0.6) ? caseYear - 1 : caseYear;
  const n = random.int(1, 39999);
  const roll = random.next();
  if (roll < 0.6) return { gistId: `(${year})${courtCode(place)}民初${n}号`, gistUnit: place.court };
  if (roll < 0.75) return { gistId: `(${year})${place.intermediateCode}民终${n}号`, gistUnit: place.intermediateCourt };
  if (roll < 0.9) return { gistId: `(${year})${shortCity(place.city)}仲字第${n}号`, gistUnit: `${place.city}仲裁委员会` };
  // A notarised debt instrument made enforceable: the notary's own number style.
  return { gistId: `(${year})${place.abbreviation}${place.county.slice(0, 1)}证经字第${n}号`, gistUnit: `${place.countyFull}公证处` };
}
