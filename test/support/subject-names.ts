/**
 * Subject names as a credit office meets them (seeded, for tests and benchmarks of the search index): most company
 * names begin with a city or province (上海…, 上海市浦东新区…, 北京…, 广州市…, 深圳市…), 个体工商户 are named after
 * their district and trade or after their operator (王…, 李…, 张…), government bodies after their city
 * (某某市市场监督管理局, 某某市某某区人力资源和社会保障局), people by surname and given name. Clustered on
 * purpose: a search index keyed by a name's first characters meets exactly this skew.
 */
import type { Random } from './seeded-random.js';

/** Places a company name begins with, weighted (a hub in Shanghai sees mostly Shanghai names). */
const PLACES: readonly (readonly [string, number])[] = [
  ['上海', 34],
  ['上海市', 8],
  ['北京', 8],
  ['广州市', 5],
  ['深圳市', 5],
  ['杭州', 4],
  ['南京', 3],
  ['苏州', 3],
  ['江苏', 3],
  ['浙江', 3],
  ['广东', 2],
  ['成都', 2],
  ['武汉', 2],
  ['天津', 2],
  ['重庆', 2],
  ['宁波', 2],
  ['无锡', 1],
  ['合肥', 1],
  ['厦门', 1],
  ['青岛', 1],
  ['中国', 2],
  ['中铁', 1],
];

const SHANGHAI_DISTRICTS = ['浦东新区', '黄浦区', '徐汇区', '长宁区', '静安区', '普陀区', '虹口区', '杨浦区', '闵行区', '宝山区', '嘉定区', '金山区', '松江区', '青浦区', '奉贤区', '崇明区'];
const CITIES = ['上海', '北京', '广州', '深圳', '杭州', '南京', '苏州', '成都', '武汉', '天津', '重庆', '宁波'];
const BRAND = '华信达通宏鑫盛恒源泰德丰安康美佳瑞祥兴隆博创新科天金银海明辉嘉元和顺晟昊宇峰睿智联合众诚远航星辰光阳东方南北中云龙凤豪旭锦绣盈利聚富鼎坤乾启迪腾飞卓越优品尚易捷百千万'.split('');
const INDUSTRIES = ['科技', '贸易', '餐饮管理', '建筑工程', '物流', '实业', '投资管理', '信息技术', '文化传媒', '医药', '电子', '机械设备', '房地产开发', '商务咨询', '环保科技', '食品', '服装', '汽车销售', '教育科技', '广告', '装饰工程', '网络科技', '供应链管理', '生物科技', '新能源'];
const FORMS = ['有限公司', '有限公司', '有限公司', '有限公司', '股份有限公司', '有限责任公司', '合伙企业（有限合伙）'];
const SHOPS = ['便利店', '小吃店', '餐饮店', '水果店', '理发店', '五金店', '烟酒店', '服装店', '面馆', '超市', '汽车修理部', '日用品商店', '奶茶店', '药店'];
const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈'.split('');
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文红玉兰志坚海燕春梅鹏飞晓东'.split('');
const BUREAUS = ['市场监督管理局', '人力资源和社会保障局', '生态环境局', '应急管理局', '税务局', '城市管理行政执法局', '卫生健康委员会', '交通委员会', '住房和城乡建设管理委员会', '文化和旅游局'];

function weighted(random: Random, items: readonly (readonly [string, number])[]): string {
  const total = items.reduce((sum, [, w]) => sum + w, 0);
  let roll = random.next() * total;
  for (const [item, w] of items) {
    roll -= w;
    if (roll < 0) return item;
  }
  return items.at(-1)![0];
}

const brand = (random: Random) => `${random.pick(BRAND)}${random.pick(BRAND)}`;
const person = (random: Random) => `${random.pick(SURNAMES)}${random.pick(GIVEN)}${random.chance(0.7) ? random.pick(GIVEN) : ''}`;

/** One subject name. */
export function subjectName(random: Random): string {
  const roll = random.next();
  if (roll < 0.55) {
    // A company named after its place: 上海华信科技有限公司, 上海市浦东新区…, 北京…分公司.
    const place = weighted(random, PLACES);
    const district = place === '上海市' ? random.pick(SHANGHAI_DISTRICTS) : '';
    const branch = random.chance(0.08) ? `${random.pick(SHANGHAI_DISTRICTS).replace(/新区|区$/, '')}分公司` : '';
    return `${place}${district}${brand(random)}${random.pick(INDUSTRIES)}${random.pick(FORMS)}${branch}`;
  }
  if (roll < 0.7) {
    // A company whose name begins with its brand: 鑫盛（上海）贸易有限公司.
    const place = random.chance(0.4) ? `（${random.pick(CITIES)}）` : '';
    return `${brand(random)}${place}${random.pick(INDUSTRIES)}${random.pick(FORMS)}`;
  }
  if (roll < 0.9) {
    // 个体工商户: after its district and trade (上海市浦东新区华信便利店), or with no name of its own, its operator's.
    if (random.chance(0.5)) return `上海市${random.pick(SHANGHAI_DISTRICTS)}${brand(random)}${random.pick(SHOPS)}`;
    if (random.chance(0.5)) return `${random.pick(SHANGHAI_DISTRICTS)}${person(random)}${random.pick(SHOPS)}`;
    return person(random);
  }
  if (roll < 0.93) {
    // A government body: 上海市浦东新区市场监督管理局, 北京市税务局.
    const city = random.chance(0.7) ? '上海' : random.pick(CITIES);
    const district = city === '上海' && random.chance(0.7) ? random.pick(SHANGHAI_DISTRICTS) : '';
    return `${city}市${district}${random.pick(BUREAUS)}`;
  }
  // A natural person (a penalty of an individual).
  return person(random);
}

/** `count` names (repeats happen, as they do: common shop and person names). */
export function subjectNames(random: Random, count: number): string[] {
  return Array.from({ length: count }, () => subjectName(random));
}
