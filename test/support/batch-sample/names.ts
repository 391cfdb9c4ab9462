/**
 * Names of debtors as they appear in court lists: people (common and
 * compound surnames, names with the middle dot of Uyghur transliteration,
 * and, in a share of rows, rare characters outside the BMP or outside GBK),
 * companies and government bodies.
 */
import type { Random } from '../seeded-random.js';
import type { Place } from './places.js';

const SURNAMES = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤'];
const COMPOUND_SURNAMES = ['欧阳', '司马', '诸葛', '上官', '皇甫', '慕容', '令狐'];
const GIVEN = [
  ...'伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鑫波宇浩凯健俊帆帅旭宁龙林欣佳琳晨辰阳婷雪慧颖倩琪梦瑶思涵子轩浩然一诺建国建军志强海峰永刚春梅秋菊冬梅德胜文博',
  '堃', '赟', '喆', '昇', '玥', '珺', '祎', '婧', '甦', '镕', '龑', '頔',
];
/** Uyghur and Kazakh names transliterated with the middle dot U+00B7, as identity cards write them. */
const DOTTED = ['买买提·艾力', '阿依古丽·吐尔逊', '热依拉·阿不都拉', '艾尔肯·吐尔洪', '古丽娜尔·买买提明', '努尔兰·哈力木拉提', '迪丽努尔·阿不来提'];
const TIBETAN = ['扎西次仁', '格桑卓玛', '次仁旺堆', '央金拉姆'];

/**
 * Characters found in real names that many systems cannot hold: outside the
 * BMP (𠮷 U+20BB7, 𡈼 U+2123C, 𫖯 U+2B5AF, 𬱖 U+2CC56, 𬀩 U+2C029, 𬍛 U+2C35B),
 * or in CJK Extension A (䶮 U+4DAE, 㛃 U+36C3, 䲁 U+4C81).
 */
export const RARE_NAME_CHARACTERS = ['𠮷', '𡈼', '𫖯', '𬱖', '𬀩', '𬍛', '䶮', '㛃', '䲁'] as const;
const RARE = /[\u{20000}-\u{3FFFF}\u3400-\u4DBF]/u;

/** True when the text has a character outside the BMP or in CJK Extension A. */
export function hasRareCharacter(text: string): boolean {
  return RARE.test(text);
}

/** A person's name; with `rare`, one character of the given name is a rare one. */
export function personName(random: Random, rare = false): string {
  if (!rare) {
    const special = random.next();
    if (special < 0.01) return random.pick(DOTTED);
    if (special < 0.015) return random.pick(TIBETAN);
  }
  const surname = random.chance(0.02) ? random.pick(COMPOUND_SURNAMES) : random.pick(SURNAMES);
  const length = random.chance(0.7) ? 2 : 1;
  const given = Array.from({ length }, () => random.pick(GIVEN));
  if (rare) given[random.int(0, length - 1)] = random.pick(RARE_NAME_CHARACTERS);
  return surname + given.join('');
}

const BRANDS = ['恒通', '鑫源', '华瑞', '宏达', '金诚', '瑞丰', '德信', '汇通', '天成', '永盛', '博远', '嘉禾', '中联', '隆昌', '新锐', '正泰', '荣华', '盛世', '东方', '万嘉'];
const TRADES = ['建筑工程', '商贸', '房地产开发', '科技', '物流', '餐饮管理', '建材', '纺织', '投资管理', '装饰工程', '汽车销售', '农业开发', '电子', '医药', '供应链管理'];
const FORMS = ['有限公司', '有限公司', '有限公司', '有限责任公司', '股份有限公司', '（集团）有限公司'];

/** A company: 上海恒通建筑工程有限公司, 苏州嘉禾物流有限责任公司. */
export function companyName(random: Random, place: Place): string {
  const where = random.chance(0.3) ? place.countyFull : place.city.replace(/市$/, '');
  return `${where}${random.pick(BRANDS)}${random.pick(TRADES)}${random.pick(FORMS)}`;
}

const COUNTY_BUREAUS = ['自然资源局', '教育局', '财政局', '交通运输局', '卫生健康局', '农业农村局', '水利局', '城市管理局'];
const CITY_BUREAUS = ['住房和城乡建设局', '自然资源和规划局', '交通运输局', '城市管理综合执法局'];

/** Whether a government body sits at county or city level (it decides the division of its USCC). */
export type GovernmentLevel = 'county' | 'city' | 'town';

/** A government body that is itself a judgment debtor: 隆回县人民政府, 杭州市住房和城乡建设局, 容城县南张镇人民政府. */
export function governmentBody(random: Random, place: Place): { name: string; level: GovernmentLevel } {
  const roll = random.next();
  if (roll < 0.35) return { name: `${place.countyFull}人民政府`, level: 'county' };
  if (roll < 0.6) return { name: `${place.countyFull}${random.pick(COUNTY_BUREAUS)}`, level: 'county' };
  if (roll < 0.8) return { name: `${place.city}${random.pick(CITY_BUREAUS)}`, level: 'city' };
  const town = random.pick(place.towns);
  return { name: `${place.countyFull}${town}${town.endsWith('街道') ? '办事处' : '人民政府'}`, level: 'town' };
}
