/**
 * Real administrative divisions with their courts, as they appear in court
 * batches: the basic-level court (its 案号 code is the province abbreviation
 * and the last four digits of the division), the intermediate court above it,
 * and the names a government body of the place carries.
 */
export interface Place {
  /** 6-digit administrative division code (GB/T 2260): digits 3-8 of a USCC, 1-6 of an identity number. */
  division: string;
  /** areaName as courts deliver it: the province without 省/市/自治区. */
  province: string;
  /** The province's one-character abbreviation used in 案号. */
  abbreviation: string;
  /** The prefecture-level city (or the municipality itself). */
  city: string;
  /** The county-level unit: 区, 县 or 县级市. */
  county: string;
  /** The full name a body of the county-level unit carries: 上海市浦东新区, 隆回县, 昆山市. */
  countyFull: string;
  /** The basic-level court. */
  court: string;
  /** The intermediate court above it and its 案号 code. */
  intermediateCourt: string;
  intermediateCode: string;
  /** Towns (镇, 乡, 街道) of the county, for township governments. */
  towns: readonly string[];
}

type Row = [division: string, province: string, abbreviation: string, city: string, county: string, intermediateCode: string, towns: string];

const ROWS: readonly Row[] = [
  ['110105', '北京', '京', '北京市', '朝阳区', '03', '麦子店街道 三里屯街道 来广营乡'],
  ['310115', '上海', '沪', '上海市', '浦东新区', '01', '川沙新镇 高桥镇 张江镇'],
  ['440106', '广东', '粤', '广州市', '天河区', '01', '石牌街道 五山街道 棠下街道'],
  ['440305', '广东', '粤', '深圳市', '南山区', '03', '粤海街道 蛇口街道 西丽街道'],
  ['330106', '浙江', '浙', '杭州市', '西湖区', '01', '转塘街道 留下街道 三墩镇'],
  ['320583', '江苏', '苏', '苏州市', '昆山市', '05', '周庄镇 千灯镇 花桥镇'],
  ['510104', '四川', '川', '成都市', '锦江区', '01', '春熙路街道 书院街街道 三圣街道'],
  ['420106', '湖北', '鄂', '武汉市', '武昌区', '01', '中华路街道 粮道街道 首义路街道'],
  ['410105', '河南', '豫', '郑州市', '金水区', '01', '经八路街道 花园路街道 丰产路街道'],
  ['370102', '山东', '鲁', '济南市', '历下区', '01', '泉城路街道 大明湖街道 千佛山街道'],
  ['430524', '湖南', '湘', '邵阳市', '隆回县', '05', '桃洪镇 小沙江镇 金石桥镇'],
  ['522327', '贵州', '黔', '黔西南布依族苗族自治州', '册亨县', '23', '者楼街道 坡妹镇 巧马镇'],
  ['350203', '福建', '闽', '厦门市', '思明区', '02', '鼓浪屿街道 中华街道 筼筜街道'],
  ['610113', '陕西', '陕', '西安市', '雁塔区', '01', '小寨路街道 大雁塔街道 曲江街道'],
  ['130629', '河北', '冀', '保定市', '容城县', '06', '容城镇 小里镇 南张镇'],
  ['450330', '广西', '桂', '桂林市', '平乐县', '03', '平乐镇 二塘镇 沙子镇'],
  ['530111', '云南', '云', '昆明市', '官渡区', '01', '关上街道 金马街道 小板桥街道'],
  ['230103', '黑龙江', '黑', '哈尔滨市', '南岗区', '01', '花园街道 大成街道 王岗镇'],
  ['620102', '甘肃', '甘', '兰州市', '城关区', '01', '张掖路街道 皋兰路街道 雁南街道'],
  ['340104', '安徽', '皖', '合肥市', '蜀山区', '01', '三里庵街道 稻香村街道 南岗镇'],
  ['360121', '江西', '赣', '南昌市', '南昌县', '01', '莲塘镇 向塘镇 三江镇'],
  ['650102', '新疆', '新', '乌鲁木齐市', '天山区', '01', '燕儿窝街道 胜利路街道 和平路街道'],
];

const MUNICIPALITIES = new Set(['北京市', '上海市']);

function countyFullName(city: string, county: string): string {
  // A district is named with its city (上海市浦东新区); a county or county-level city stands alone (隆回县, 昆山市).
  return county.endsWith('区') ? `${city}${county}` : county;
}

export const PLACES: readonly Place[] = ROWS.map(([division, province, abbreviation, city, county, intermediateCode, towns]) => {
  const countyFull = countyFullName(city, county);
  const intermediateCourt = MUNICIPALITIES.has(city)
    ? `${city}第${'一二三四'[Number(intermediateCode) - 1]}中级人民法院`
    : `${city}中级人民法院`;
  return {
    division,
    province,
    abbreviation,
    city,
    county,
    countyFull,
    court: `${countyFull}人民法院`,
    intermediateCourt,
    intermediateCode: `${abbreviation}${intermediateCode}`,
    towns: towns.split(' '),
  };
});

/** The 案号 code of a place's basic-level court: 沪0115, 湘0524. */
export function courtCode(place: Place): string {
  return `${place.abbreviation}${place.division.slice(2)}`;
}

/** The division code of the place's prefecture-level city (first four digits and 00). */
export function cityDivision(place: Place): string {
  return `${place.division.slice(0, 4)}00`;
}
