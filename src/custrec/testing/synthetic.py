"""Seeded synthetic customer data: realistic, reproducible and fast enough for benchmarks.

>>> from custrec.testing import synthetic
>>> data = synthetic.generate(100, seed=7)
>>> data.customers[0].id
'C000001'

What it makes looks like the customer files of a Chinese business: about 70% of the persons
have Chinese names (real surnames, weighted by how common they are; one or two given-name
characters), the rest Latin names; some customers are organisations (公司 names with an
industry). Phones are Chinese mobiles (13x/15x/17x/18x/19x), some landlines with real area
codes, a few foreign numbers; emails are derived from the names at common domains;
WeChat, QQ and WhatsApp handles; Chinese addresses from a table of real province / city /
district combinations with postal codes, some foreign ones; birth dates (some missing),
occupations, tags, custom fields. Each customer's history is skewed the way real ones are
(many customers with few orders, a few with many): transactions of one to four line items in
CNY, some with after-sales returns and refunds (never more than the total), interactions over
the channels the customer can be reached on, and feedback with ratings and NPS answers.

Guarantees:

- **Deterministic**: the same arguments give the same records, ids and timestamps included.
  Only :class:`random.Random` is used, and every moment derives from ``start``, never the
  clock.
- **Prefix-stable**: the first ``k`` customers of ``n`` are the ``k`` customers of
  ``generate(k)``, with the same history.
- **Unique contact points**: no two customers share a phone number, email or handle (up to
  :data:`MAX_CUSTOMERS` customers; foreign numbers and landlines of cities with 7-digit
  numbers up to a million), so duplicates added on purpose later are the only ones there
  are.
- **Valid**: every record is exactly what custrec's validating constructors would build
  from the same values (the test suite proves it by rebuilding each record from its
  serialised form).

The last point needs a word. Building a record through its constructors runs every
converter and validator, and :class:`~custrec.model.Phone` parses its number with
phonenumbers: that alone costs about five times what this generator spends on a whole
customer, random draws included. Here values are canonical by construction (aware
datetimes, quantised money, E.164 numbers of prefixes phonenumbers accepts), so records
are assembled directly; the test suite checks that the shortcut and the constructors agree.

To add a knob, add a field to :class:`Profile`; the makers read everything from it.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import random
import types
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from os import PathLike
from pathlib import Path
from typing import Any, TypeVar, cast

import attrs

from custrec.errors import ImportRowError, ValidationError
from custrec.model import (
    Address,
    AfterSalesEvent,
    AfterSalesKind,
    Channel,
    Consent,
    ConsentPurpose,
    Customer,
    CustomerKind,
    CustomValue,
    Direction,
    Email,
    Feedback,
    FeedbackTopic,
    FrozenMap,
    Gender,
    Handle,
    HandleNetwork,
    HistoryRecord,
    Interaction,
    LineItem,
    Money,
    Outcome,
    PaymentMethod,
    Phone,
    Record,
    SalesChannel,
    Transaction,
    TransactionStatus,
    currency_exponent,
)
from custrec.model._ids import ID_PATTERN
from custrec.serialize import from_json, to_json

__all__ = [
    "DEFAULT_START",
    "MAX_CUSTOMERS",
    "TIMEZONE",
    "Dataset",
    "Profile",
    "generate",
    "iter_customers",
    "iter_history",
    "load_jsonl",
    "write_jsonl",
]

T = TypeVar("T")

DEFAULT_START = date(2023, 1, 1)
"""The first day of the generated period when no ``start`` is given."""

TIMEZONE = timezone(timedelta(hours=8))
"""The UTC offset of every generated moment (China Standard Time, which has no DST)."""

MAX_CUSTOMERS = 10_000_000
"""The most customers one run makes while keeping contact points unique."""


# --- Knobs ----------------------------------------------------------------------------------


def _share(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValidationError(attribute.name, value, "a share is a number from 0 to 1")


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ValidationError(attribute.name, value, "must be a finite number from 0")


def _positive_int(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(attribute.name, value, "must be a whole number from 1")


@attrs.frozen
class Profile:
    """The knobs of the generator: who the customers are and how much history they have.

    Shares are probabilities from 0 to 1; ``*_per_customer`` are means of skewed counts
    (a Poisson count whose rate is log-normal, so many customers have few records and a
    few have many).

    Attributes:
        organisation_share: Customers that are organisations rather than persons.
        chinese_share: Persons with a Chinese name; the others have Latin names.
        abroad_share_chinese: Persons with a Chinese name who live abroad (foreign
            address and phone).
        abroad_share_latin: Persons with a Latin name who live abroad.
        birth_date_missing: Persons whose birth date is not recorded.
        landline_share: Persons who also gave a landline.
        email_share: Persons who gave an email address (organisations always do).
        span_days: Length of the generated period, from ``start``.
        transactions_per_customer: Mean number of transactions of a person;
            organisations buy twice as often.
        interactions_per_customer: Mean number of interactions.
        feedback_per_customer: Mean number of feedback records.
        history_skew: Spread of the log-normal rate; 0 gives plain Poisson counts.
        max_history_per_customer: Cap on each kind of history record per customer.
        after_sales_share: Completed transactions with an after-sales event.
        currency: ISO 4217 code of every amount.
        id_prefix: Text before the zero-padded customer number (``"C"`` gives
            ``"C000001"``).
    """

    organisation_share: float = attrs.field(default=0.08, validator=_share)
    chinese_share: float = attrs.field(default=0.70, validator=_share)
    abroad_share_chinese: float = attrs.field(default=0.02, validator=_share)
    abroad_share_latin: float = attrs.field(default=0.15, validator=_share)
    birth_date_missing: float = attrs.field(default=0.12, validator=_share)
    landline_share: float = attrs.field(default=0.12, validator=_share)
    email_share: float = attrs.field(default=0.70, validator=_share)
    span_days: int = attrs.field(default=730, validator=_positive_int)
    transactions_per_customer: float = attrs.field(default=3.0, validator=_non_negative)
    interactions_per_customer: float = attrs.field(default=2.0, validator=_non_negative)
    feedback_per_customer: float = attrs.field(default=0.6, validator=_non_negative)
    history_skew: float = attrs.field(default=1.0, validator=_non_negative)
    max_history_per_customer: int = attrs.field(default=500, validator=_positive_int)
    after_sales_share: float = attrs.field(default=0.06, validator=_share)
    currency: str = attrs.field(default="CNY")
    id_prefix: str = attrs.field(default="C")

    @currency.validator
    def _check_currency(self, attribute: attrs.Attribute[str], value: str) -> None:
        Money(Decimal(0), value)  # raises ValidationError naming the currency

    @id_prefix.validator
    def _check_id_prefix(self, attribute: attrs.Attribute[str], value: str) -> None:
        # Records are assembled without their validators (see the module docstring), so
        # what goes into an id is checked here, with the longest number it can get.
        if not isinstance(value, str) or not ID_PATTERN.fullmatch(f"{value}{MAX_CUSTOMERS}"):
            raise ValidationError(attribute.name, value, "must make valid ids (no spaces, ≤ 120)")


@attrs.frozen
class Dataset:
    """Customers and their history, as :func:`generate` and :func:`load_jsonl` return them.

    Attributes:
        customers: The customers, in id order.
        interactions: Every interaction, customer by customer, oldest first.
        transactions: Every transaction, customer by customer, oldest first.
        feedback: Every piece of feedback, customer by customer, oldest first.
    """

    customers: tuple[Customer, ...]
    interactions: tuple[Interaction, ...]
    transactions: tuple[Transaction, ...]
    feedback: tuple[Feedback, ...]

    def records(self) -> Iterator[Record]:
        """Yield every record: customers first, then interactions, transactions, feedback.

        That is an order in which a store accepts them (history needs its customer).
        """
        yield from self.customers
        yield from self.interactions
        yield from self.transactions
        yield from self.feedback

    def __len__(self) -> int:
        return (
            len(self.customers)
            + len(self.interactions)
            + len(self.transactions)
            + len(self.feedback)
        )


# --- Vocabulary -----------------------------------------------------------------------------


def _pairs(text: str) -> list[tuple[str, str]]:
    """``"张zhang 王wang"`` as ``[("张", "zhang"), ("王", "wang")]``."""
    out = []
    for token in text.split():
        cut = next(i for i, char in enumerate(token) if char.isascii())
        out.append((token[:cut], token[cut:]))
    return out


# Surnames with their pinyin, most common first.
_SURNAMES = _pairs(
    "王wang 李li 张zhang 刘liu 陈chen 杨yang 黄huang 赵zhao 吴wu 周zhou 徐xu 孙sun 马ma "
    "朱zhu 胡hu 郭guo 何he 林lin 罗luo 高gao 郑zheng 梁liang 谢xie 宋song 唐tang 许xu "
    "韩han 冯feng 邓deng 曹cao 彭peng 曾zeng 肖xiao 田tian 董dong 袁yuan 潘pan 于yu 蒋jiang "
    "蔡cai 余yu 杜du 叶ye 程cheng 苏su 魏wei 吕lv 丁ding 任ren 沈shen 姚yao 卢lu 姜jiang "
    "崔cui 钟zhong 谭tan 陆lu 汪wang 范fan 金jin 石shi 廖liao 贾jia 夏xia 韦wei 付fu 方fang "
    "白bai 邹zou 孟meng 熊xiong 秦qin 邱qiu 江jiang 尹yin 薛xue 闫yan 段duan 雷lei 侯hou "
    "龙long 史shi 陶tao 黎li 贺he 顾gu 毛mao 郝hao 龚gong 邵shao 万wan 钱qian 严yan 覃qin "
    "武wu 戴dai 欧阳ouyang 司马sima 诸葛zhuge 上官shangguan 东方dongfang"
)
# Weights: about per mille of the population (2020 census) for the most common surnames, a
# flat tail, and the compound surnames (the last five) rarer still.
_SURNAME_HEAD = (71, 70, 66, 54, 45, 31, 20, 20, 16, 16, 13, 12, 12, 11, 10, 10, 9, 9, 8, 8)
_SURNAME_WEIGHTS = (*_SURNAME_HEAD, *(4,) * (len(_SURNAMES) - len(_SURNAME_HEAD) - 5), *(1,) * 5)
_FEMALE_GIVEN = _pairs(
    "芳fang 娜na 秀xiu 英ying 敏min 静jing 丽li 艳yan 娟juan 霞xia 玲ling 燕yan 梅mei "
    "琳lin 雪xue 婷ting 颖ying 倩qian 欣xin 怡yi 佳jia 慧hui 萍ping 红hong 洁jie 晶jing "
    "莉li 瑶yao 雨yu 涵han 梦meng 悦yue 诗shi 思si 晓xiao 月yue 彤tong 蕾lei 薇wei 婉wan "
    "露lu 琴qin 兰lan 桂gui 玉yu 凤feng 春chun 丹dan 宁ning 欢huan 璐lu 琪qi"
)
_MALE_GIVEN = _pairs(
    "伟wei 强qiang 磊lei 军jun 洋yang 勇yong 杰jie 涛tao 明ming 超chao 刚gang 平ping "
    "辉hui 鹏peng 华hua 飞fei 鑫xin 波bo 斌bin 宇yu 浩hao 凯kai 健jian 俊jun 帆fan "
    "帅shuai 旭xu 龙long 峰feng 建jian 国guo 志zhi 海hai 东dong 亮liang 文wen 博bo "
    "子zi 轩xuan 然ran 晨chen 阳yang 天tian 成cheng 新xin 家jia 瑞rui 泽ze 嘉jia 毅yi 坤kun"
)
_LATIN_FEMALE = (
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Susan", "Jessica", "Sarah", "Karen",
    "Emma", "Olivia", "Sophie", "Anna", "Maria", "Marie", "Giulia", "Ana", "Yuki", "Ji-woo",
    "Fatima", "Olga", "Chloé", "Zoë", "Ingrid",
)  # fmt: skip
_LATIN_MALE = (
    "James", "John", "Robert", "Michael", "David", "William", "Richard", "Thomas", "Daniel",
    "Lucas", "Peter", "Hans", "Pierre", "Luca", "Carlos", "Kenji", "Min-jun", "Ahmed", "Ivan",
    "José", "François", "Søren", "Mark", "Paul",
)  # fmt: skip
_LATIN_FAMILY = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
    "Anderson", "Moore", "Martin", "Lee", "Clark", "Walker", "Müller", "Schmidt", "Dubois",
    "Rossi", "García", "Fernández", "Tanaka", "Suzuki", "Kim", "Park", "Nguyen", "Ivanov",
    "Khan", "O'Brien", "Dvořák",
)  # fmt: skip

# Province, city, district, postal code, landline area code, digits of a local number.
_Place = tuple[str, str, str, str, str, int]
_CN_PLACES: tuple[_Place, ...] = (
    ("北京市", "北京市", "朝阳区", "100020", "010", 8),
    ("北京市", "北京市", "海淀区", "100080", "010", 8),
    ("北京市", "北京市", "东城区", "100010", "010", 8),
    ("上海市", "上海市", "浦东新区", "200120", "021", 8),
    ("上海市", "上海市", "徐汇区", "200030", "021", 8),
    ("上海市", "上海市", "静安区", "200040", "021", 8),
    ("天津市", "天津市", "和平区", "300041", "022", 8),
    ("重庆市", "重庆市", "渝中区", "400010", "023", 8),
    ("广东省", "广州市", "天河区", "510630", "020", 8),
    ("广东省", "广州市", "越秀区", "510030", "020", 8),
    ("广东省", "深圳市", "南山区", "518052", "0755", 8),
    ("广东省", "深圳市", "福田区", "518048", "0755", 8),
    ("广东省", "佛山市", "禅城区", "528000", "0757", 8),
    ("浙江省", "杭州市", "西湖区", "310013", "0571", 8),
    ("浙江省", "宁波市", "鄞州区", "315100", "0574", 8),
    ("江苏省", "南京市", "鼓楼区", "210008", "025", 8),
    ("江苏省", "苏州市", "姑苏区", "215000", "0512", 8),
    ("四川省", "成都市", "武侯区", "610041", "028", 8),
    ("湖北省", "武汉市", "武昌区", "430061", "027", 8),
    ("湖南省", "长沙市", "岳麓区", "410006", "0731", 8),
    ("陕西省", "西安市", "雁塔区", "710061", "029", 8),
    ("山东省", "济南市", "历下区", "250011", "0531", 8),
    ("山东省", "青岛市", "市南区", "266001", "0532", 8),
    ("福建省", "厦门市", "思明区", "361001", "0592", 7),
    ("福建省", "福州市", "鼓楼区", "350001", "0591", 8),
    ("河南省", "郑州市", "金水区", "450003", "0371", 8),
    ("辽宁省", "沈阳市", "和平区", "110001", "024", 8),
    ("辽宁省", "大连市", "中山区", "116001", "0411", 8),
    ("黑龙江省", "哈尔滨市", "南岗区", "150001", "0451", 8),
    ("云南省", "昆明市", "五华区", "650021", "0871", 8),
    ("安徽省", "合肥市", "蜀山区", "230031", "0551", 8),
    ("江西省", "南昌市", "东湖区", "330006", "0791", 8),
    ("河北省", "石家庄市", "长安区", "050011", "0311", 8),
    ("广西壮族自治区", "南宁市", "青秀区", "530022", "0771", 7),
    ("海南省", "海口市", "美兰区", "570203", "0898", 8),
)
# Bigger cities come up more often.
_CN_PLACE_WEIGHTS = (
    6, 5, 4, 6, 5, 4, 3, 3, 4, 3, 5, 4, 2, 4, 2, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1,
    1, 1, 1, 1,
)  # fmt: skip
_STREETS = (
    "人民路", "中山路", "解放路", "建设路", "和平路", "新华路", "长江路", "东风路", "文化路",
    "朝阳路", "青年路", "胜利路", "幸福路", "迎宾大道", "科技路", "南京路", "北京路",
    "滨江大道", "学府路", "花园路",
)  # fmt: skip
_ESTATES = (
    "阳光花园", "锦绣家园", "翠湖苑", "世纪华庭", "金色港湾", "碧水湾", "御景园", "枫林小区",
    "康乐新村", "东方明珠苑",
)  # fmt: skip
_TOWERS = ("国贸", "环球", "金融", "财富", "时代", "中信", "汇丰", "万达", "新城", "联合")

# Country, region, city, district, street pattern, postal code, phone pattern. In the
# patterns "#" is a digit of the customer's unique number and "d" a random digit 2-7; every
# pattern gives numbers phonenumbers accepts as valid.
_Abroad = tuple[str, str | None, str, str | None, str, str, str]
_ABROAD: tuple[_Abroad, ...] = (
    ("US", "NY", "New York", None, "{n} Broadway", "10012", "+1 212 d## ####"),
    ("US", "CA", "San Francisco", None, "{n} Market St", "94105", "+1 (415) d##-####"),
    ("GB", "England", "London", None, "{n} Baker Street", "NW1 6XE", "+44 20 7### d###"),
    ("DE", "Berlin", "Berlin", None, "Friedrichstraße {n}", "10117", "+49 30 d#######"),
    ("FR", "Île-de-France", "Paris", None, "{n} rue de Rivoli", "75001", "+33 1 d# ## ## ##"),
    ("JP", "Tokyo", "Tokyo", "Minato", "Roppongi 1-{n}", "106-0032", "+81 3-5###-####"),
    ("SG", None, "Singapore", None, "{n} Orchard Road", "238839", "+65 8d## ####"),
    ("AU", "NSW", "Sydney", None, "{n} George Street", "2000", "+61 2 9### ####"),
    ("KR", "Seoul", "Seoul", "Gangnam-gu", "Teheran-ro {n}", "06236", "+82 2-d###-####"),
)
# Mobile prefixes phonenumbers' CN metadata accepts for every 8 digits that follow; weighted
# like the operators' market (13x and 15x and 18x most common).
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
    "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "170", "171", "173", "175", "176", "177", "178",
    "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
    "190", "191", "193", "195", "196", "197", "198", "199",
)  # fmt: skip
_MOBILE_WEIGHTS = [3 if p[1] in "358" else 1 for p in _MOBILE_PREFIXES]

_EMAIL_DOMAINS = (
    "qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "sohu.com", "aliyun.com",
)  # fmt: skip
_EMAIL_DOMAIN_WEIGHTS = (40, 22, 10, 5, 5, 3, 3)
_LATIN_DOMAINS = (
    "gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "qq.com",
)  # fmt: skip

_OCCUPATIONS_CN: tuple[tuple[str, str | None], ...] = (
    ("经理", "销售经理"), ("经理", "总经理"), ("销售", "销售代表"), ("技术", "技术支持"),
    ("技术", "技术总监"), ("工程师", "软件工程师"), ("工程师", "结构工程师"),
    ("教师", "高级教师"), ("医生", "主治医师"), ("护士", "护士长"), ("会计", "财务主管"),
    ("律师", "合伙人"), ("设计师", "UI设计师"), ("公务员", "科员"), ("采购", "采购主管"),
    ("市场", "市场专员"), ("人事", "人事经理"), ("产品", "产品经理"), ("个体户", "店主"),
    ("自由职业", None), ("学生", None), ("退休", None),
)  # fmt: skip
_OCCUPATIONS_LATIN: tuple[tuple[str, str | None], ...] = (
    ("Manager", "Sales Manager"), ("Engineer", "Software Engineer"),
    ("Teacher", "English Teacher"), ("Consultant", "Senior Consultant"),
    ("Designer", "Art Director"), ("Entrepreneur", "Founder"), ("Student", None),
    ("Retired", None),
)  # fmt: skip
# Industry, the word in a company's name, and the company's English word for its domain.
_INDUSTRIES = (
    ("信息技术", "科技", "tech"), ("批发零售", "贸易", "trade"), ("餐饮", "餐饮管理", "food"),
    ("建筑", "建筑工程", "build"), ("医疗健康", "医疗器械", "med"), ("教育", "教育咨询", "edu"),
    ("物流运输", "物流", "logistics"), ("食品", "食品", "foods"), ("纺织服装", "服饰", "fashion"),
    ("电子制造", "电子", "elec"), ("文化传媒", "文化传媒", "media"), ("房地产", "置业", "land"),
    ("汽车", "汽车服务", "auto"), ("酒店旅游", "酒店管理", "hotels"),
)  # fmt: skip
_BRANDS = _pairs(
    "星辰xingchen 华盛huasheng 天宇tianyu 恒通hengtong 鼎新dingxin 远航yuanhang 金桥jinqiao "
    "宏达hongda 瑞丰ruifeng 博远boyuan 汇川huichuan 嘉诚jiacheng 锦程jincheng 新元xinyuan "
    "泰和taihe 永信yongxin 中科zhongke 联创lianchuang 盛世shengshi 云帆yunfan 东方dongfang "
    "海纳haina 佳禾jiahe 安达anda 致远zhiyuan 启明qiming 万象wanxiang 华信huaxin"
)
_COMPANY_FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")
_INTERESTS = (
    "旅游", "美食", "摄影", "健身", "阅读", "音乐", "电影", "茶艺", "高尔夫", "瑜伽", "数码",
    "时尚", "红酒", "户外", "书法", "钓鱼",
)  # fmt: skip
_FAMILY = ("已婚，一子", "已婚，一女", "已婚，二孩", "未婚", "已婚", "单身，养猫", "三代同堂")
_SPECIAL_NEEDS = ("对花生过敏", "素食", "不吃辣", "乳糖不耐受", "需要无障碍通道", "海鲜过敏")
_NOTES = (
    "老客户介绍",
    "喜欢周末到店",
    "偏好微信联系，不接电话",
    "对价格敏感，关注促销",
    "需开具增值税专用发票",
    "生日当月赠送礼品",
    "Prefers English, email only",
)
_TAGS = ("vip", "潜在客户", "新客户", "老客户", "高价值", "流失风险", "活动参与", "生日关怀")
_TAG_WEIGHTS = (10, 15, 20, 25, 8, 6, 10, 6)
_SOURCES = ("门店", "线上商城", "老客户介绍", "展会", "电话营销", "微信公众号", "抖音", "合作伙伴")
_STAFF = ("王经理", "李娜", "客服-小刘", "张强", "陈静", "赵磊", "Emily Chen", "客服-小周")
_STORES = (
    "北京朝阳大悦城店",
    "上海南京西路店",
    "广州天河城店",
    "深圳万象城店",
    "杭州湖滨银泰店",
    "成都春熙路店",
    "线上旗舰店",
)
_MEMBER_LEVELS = ("普通会员", "银卡会员", "金卡会员", "钻石会员")
_MEMBER_WEIGHTS = (55, 25, 15, 5)
_TAG_COUNTS = (0, 0, 1, 1, 1, 2, 2, 3)

# Product id, name, unit price.
_PRODUCTS: tuple[tuple[str, str, str], ...] = (
    ("P1001", "无线蓝牙耳机", "299.00"), ("P1002", "智能手环", "199.00"),
    ("P1003", "移动电源 20000mAh", "129.00"), ("P1004", "机械键盘", "459.00"),
    ("P1005", "27英寸显示器", "1299.00"), ("P1006", "智能手机 128G", "2999.00"),
    ("P1007", "平板电脑", "3299.00"), ("P1008", "USB-C 数据线", "39.90"),
    ("P2001", "纯棉T恤", "89.00"), ("P2002", "牛仔裤", "269.00"), ("P2003", "羽绒服", "899.00"),
    ("P2004", "运动鞋", "599.00"), ("P2005", "真丝围巾", "358.00"),
    ("P2006", "羊毛大衣", "1580.00"),
    ("P3001", "西湖龙井 250g", "368.00"), ("P3002", "云南普洱茶饼", "198.00"),
    ("P3003", "五常大米 5kg", "89.90"), ("P3004", "坚果礼盒", "158.00"),
    ("P3005", "进口红酒", "268.00"), ("P3006", "月饼礼盒", "238.00"),
    ("P4001", "不粘锅", "299.00"), ("P4002", "电饭煲", "499.00"),
    ("P4003", "空气净化器", "1699.00"),
    ("P4004", "四件套床品", "459.00"), ("P4005", "保温杯", "129.00"),
    ("P5001", "保湿面霜", "420.00"), ("P5002", "防晒霜", "168.00"), ("P5003", "口红", "320.00"),
    ("P5004", "精华液", "760.00"), ("P6001", "儿童绘本套装", "128.00"),
    ("P6002", "积木玩具", "399.00"), ("P7001", "年度会员服务", "199.00"),
    ("P7002", "上门安装服务", "80.00"), ("P7003", "延保服务 2年", "150.00"),
)  # fmt: skip

_SUBJECTS: dict[Channel, tuple[str, ...]] = {
    Channel.PHONE: ("电话回访", "咨询产品价格", "投诉物流延迟", "预约上门安装", "催付尾款"),
    Channel.EMAIL: ("发票开具", "报价单", "Order confirmation", "合同续签", "会员活动通知"),
    Channel.WECHAT: ("咨询库存", "新品推荐", "售后问题反馈", "活动报名", "发送电子券"),
    Channel.SMS: ("生日祝福", "会员积分提醒", "物流通知", "促销短信"),
    Channel.SOCIAL: ("抖音评论回复", "小红书咨询", "微博私信"),
    Channel.IN_PERSON: ("到店选购", "门店试穿", "上门拜访", "展会交流", "产品演示"),
    Channel.CHAT: ("在线客服咨询", "退换货咨询", "修改收货地址", "账户信息更新"),
}
_CONTENTS = (
    "客户询问{product}的价格和库存，已告知并发送链接。",
    "客户对{product}的质量表示满意，希望有更多颜色可选。",
    "客户反映{product}配送较慢，已联系物流加急。",
    "介绍了{product}的会员优惠，客户表示考虑一下。",
    "客户要求开具发票，已登记抬头和税号。",
    "Customer asked about the warranty of {product}; sent the terms by email.",
)
_FEEDBACK_TEXTS: dict[int, tuple[str, ...]] = {
    5: ("非常满意，下次还会再来！", "服务周到，物流很快。", "Great quality, will buy again."),
    4: ("整体不错，包装可以再改进。", "性价比高，推荐。", "Good, delivery a bit slow."),
    3: ("一般，和描述基本一致。", "价格有点高。"),
    2: ("质量一般，有点失望。", "客服回复太慢。"),
    1: ("商品有瑕疵，要求退货。", "非常不满意，不会再买。", "Arrived broken."),
}
# Weighted tables: the values, then the running sums of their weights (for _Draw.pick).
_OUTCOMES = (
    (Outcome.RESOLVED, Outcome.PENDING, Outcome.NO_ANSWER, Outcome.FOLLOW_UP, Outcome.ESCALATED,
     Outcome.DECLINED),
    (55, 65, 75, 90, 93, 100),
)  # fmt: skip
_ITEM_COUNTS = ((1, 2, 3, 4), (50, 80, 95, 100))
_PERSON_QUANTITIES = ((1, 2, 3), (70, 90, 100))
_ORGANISATION_QUANTITIES = ((1, 2, 3, 10), (70, 88, 96, 100))
_PERSON_PAYMENTS = (
    (PaymentMethod.WECHAT_PAY, PaymentMethod.ALIPAY, PaymentMethod.CARD, PaymentMethod.CASH,
     PaymentMethod.BANK_TRANSFER),
    (35, 65, 85, 95, 100),
)  # fmt: skip
_ORGANISATION_PAYMENTS = (
    (PaymentMethod.BANK_TRANSFER, PaymentMethod.INVOICE, PaymentMethod.ALIPAY),
    (50, 75, 100),
)
_SALES_CHANNELS = (
    (SalesChannel.IN_STORE, SalesChannel.ONLINE, SalesChannel.WECHAT, SalesChannel.MARKETPLACE,
     SalesChannel.PHONE),
    (45, 75, 85, 95, 100),
)  # fmt: skip
_AFTER_SALES_KINDS = (
    (AfterSalesKind.RETURN, AfterSalesKind.REFUND, AfterSalesKind.EXCHANGE, AfterSalesKind.REPAIR),
    (35, 60, 80, 100),
)
_RATINGS = ((5, 4, 3, 2, 1), (45, 75, 87, 94, 100))
_NPS_BY_RATING = {5: (8, 10), 4: (7, 9), 3: (5, 8), 2: (2, 6), 1: (0, 4)}
_TRANSACTION_NOTES = ("需开发票", "礼品包装", "加急配送", "送货前电话联系")
_AFTER_SALES_NOTES = {
    AfterSalesKind.RETURN: "七天无理由退货",
    AfterSalesKind.REFUND: "部分退款（价格保护）",
    AfterSalesKind.EXCHANGE: "尺码不合适，换货",
    AfterSalesKind.REPAIR: "保修期内免费维修",
}


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return out


@functools.cache  # names come from the tables above: a few dozen texts
def _ascii(text: str) -> str:
    """``"Müller-O'Brien"`` as ``"mullerobrien"``: a name folded for an email handle."""
    folded = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in folded if char.isascii() and char.isalnum())


# --- Building records without re-validating them -------------------------------------------


def _setter(name: str) -> Callable[[object, object], None]:
    def set_field(made: object, value: object) -> None:
        object.__setattr__(made, name, value)

    return set_field


def _assembler(prototype: T) -> Callable[..., T]:
    """Return a function that builds instances of an attrs class from canonical values.

    It takes every field as a keyword (an unknown keyword is a TypeError) and sets it on a
    new instance, skipping converters, validators and ``__attrs_post_init__``. Fields not
    given keep the value they have on ``prototype``, a validated instance, so a field added
    to the model later gets its default here too. The function is compiled, as attrs
    compiles ``__init__``, because this is the generator's innermost loop.
    """
    cls = type(prototype)
    names = [field.name for field in attrs.fields(cast(Any, cls))]
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    for name in names:
        namespace[f"_default_{name}"] = getattr(prototype, name)
        slot = cls.__dict__.get(name)
        # A slot's own setter is a third faster than object.__setattr__.
        if isinstance(slot, types.MemberDescriptorType):
            namespace[f"_set_{name}"] = slot.__set__
        else:
            namespace[f"_set_{name}"] = _setter(name)
    source = "\n".join(
        [
            f"def assemble(*, {', '.join(f'{name}=_default_{name}' for name in names)}):",
            "    made = _new(_cls)",
            *(f"    _set_{name}(made, {name})" for name in names),
            "    return made",
        ]
    )
    exec(source, namespace)  # noqa: S102 - the source is built from the class's field names
    assemble: Callable[..., T] = namespace["assemble"]
    return assemble


_EPOCH = datetime(2000, 1, 1, tzinfo=TIMEZONE)
_NO_IDS: FrozenMap[str, str] = FrozenMap()
_customer = _assembler(Customer(id="_", created_at=_EPOCH, updated_at=_EPOCH))
_phone = _assembler(Phone("13800000000", region="CN"))
_email = _assembler(Email("_@_"))
_handle = _assembler(Handle(HandleNetwork.WECHAT, "_"))
_address = _assembler(Address())
_consent = _assembler(Consent(ConsentPurpose.MARKETING_SMS, granted=True, at=_EPOCH))
_money = _assembler(Money(Decimal(0), "CNY"))
_line_item = _assembler(LineItem("_", Money(Decimal(0), "CNY")))
_after_sales = _assembler(AfterSalesEvent(AfterSalesKind.REPAIR, _EPOCH, id="_"))
_transaction = _assembler(Transaction("_", _EPOCH, total=Money(Decimal(0), "CNY"), id="_"))
_interaction = _assembler(Interaction("_", _EPOCH, Channel.PHONE, id="_"))
_feedback = _assembler(Feedback("_", _EPOCH, rating=5, id="_"))


# --- Customers ------------------------------------------------------------------------------


def _check_arguments(seed: int, start: date | None) -> date:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValidationError("seed", seed, "a seed is a whole number")
    if start is None:
        return DEFAULT_START
    if isinstance(start, datetime) or not isinstance(start, date):
        raise ValidationError("start", start, "expected a date")
    return start


def _unique(index: int, digits: int, salt: int) -> str:
    """``digits`` digits, different for every ``index`` below ``10 ** digits``.

    An affine map modulo a power of ten is a bijection (the multiplier is coprime to ten);
    reversing the digits hides the arithmetic progression it would otherwise show.
    """
    value = (index * 7_654_321 + salt * 1_000_003) % _POWERS[digits]
    return format(value, _FORMATS[digits])[::-1]


_POWERS = {digits: 10**digits for digits in range(1, 10)}
_FORMATS = {digits: f"0{digits}d" for digits in range(1, 10)}
_DAY = 86_400
_OPENING, _CLOSING = 8 * 3600, 22 * 3600  # business hours, in seconds after midnight
_UTC_OFFSET = 8 * 3600


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, TIMEZONE)


class _Draw:
    """Random draws from one seeded stream, cheaper than :class:`random.Random`'s helpers.

    ``Random.choice`` and ``Random.randint`` avoid a bias of under 2**-50 at several times
    the cost of ``int(random() * n)``; synthetic data does not need that precision.
    """

    def __init__(self, stream: str, start: date, profile: Profile) -> None:
        self.rng = random.Random(stream)  # noqa: S311 - test data, not security
        self.random = self.rng.random
        self.profile = profile
        self.start = int(datetime.combine(start, time(), TIMEZONE).timestamp())
        self.end = self.start + profile.span_days * _DAY

    def choice(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def between(self, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high``, both included."""
        return low + int(self.random() * (high - low + 1))

    def pick(self, items: Sequence[T], cumulative: Sequence[float]) -> T:
        """A weighted choice; ``cumulative`` holds the running sums of the weights."""
        return items[bisect.bisect(cumulative, self.random() * cumulative[-1])]

    def moment(self, low: int, high: int) -> int:
        """A timestamp from ``low`` to ``high``, in business hours when they are days apart."""
        days = (high - low) // _DAY
        if days < 1:
            return self.between(low, max(low, high))
        midnight = low - (low + _UTC_OFFSET) % _DAY
        moment = midnight + self.between(1, days) * _DAY + self.between(_OPENING, _CLOSING - 1)
        return min(moment, high)


class _CustomerMaker(_Draw):
    """Makes customer number ``index`` (1, 2, …) from one random stream."""

    def __init__(self, seed: int, start: date, profile: Profile) -> None:
        super().__init__(f"custrec-synthetic-customers:{seed}", start, profile)
        self.surname_cum = _cumulative(_SURNAME_WEIGHTS)
        self.place_cum = _cumulative(_CN_PLACE_WEIGHTS)
        self.mobile_cum = _cumulative(_MOBILE_WEIGHTS)
        self.domain_cum = _cumulative(_EMAIL_DOMAIN_WEIGHTS)
        self.tag_cum = _cumulative(_TAG_WEIGHTS)
        self.level_cum = _cumulative(_MEMBER_WEIGHTS)

    def make(self, index: int) -> Customer:
        rnd = self.random
        profile = self.profile
        # Earlier customers are more numerous: the file grew fast at first.
        day = int(profile.span_days * 0.95 * rnd() ** 1.3)
        joined = self.start + day * _DAY + self.between(_OPENING, _CLOSING - 1)
        created = _at(joined)
        organisation = rnd() < profile.organisation_share
        fields = self.organisation(index) if organisation else self.person(index, created)
        level = self.pick(_MEMBER_LEVELS, self.level_cum)
        tags = self.tags(organisation=organisation, vip=level == "钻石会员")
        custom: dict[str, CustomValue] = {
            "member_level": level,
            "points": int(self.rng.paretovariate(1.2) * 200),
        }
        if rnd() < 0.6:
            custom["preferred_store"] = self.choice(_STORES)
        return _customer(
            id=f"{profile.id_prefix}{index:06d}",
            tags=tags,
            custom=FrozenMap(custom),
            external_ids=FrozenMap({"erp": f"K{index:07d}"}) if rnd() < 0.2 else _NO_IDS,
            consents=self.consents(joined, fields),
            source=self.choice(_SOURCES),
            owner=self.choice(_STAFF) if rnd() < 0.8 else None,
            notes=self.choice(_NOTES) if rnd() < 0.2 else None,
            created_at=created,
            updated_at=created if rnd() < 0.5 else _at(self.moment(joined, self.end)),
            reviewed_at=_at(self.moment(joined, self.end)) if rnd() < 0.3 else None,
            **fields,
        )

    # -- persons and organisations ---------------------------------------------------------

    def person(self, index: int, created: datetime) -> dict[str, Any]:
        rnd = self.random
        profile = self.profile
        chinese = rnd() < profile.chinese_share
        female = rnd() < 0.5
        occupation: str | None
        job_title: str | None
        if chinese:
            surname, surname_py = self.pick(_SURNAMES, self.surname_cum)
            pool = _FEMALE_GIVEN if female else _MALE_GIVEN
            given, given_py = self.choice(pool)
            if rnd() < 0.7:
                second, second_py = self.choice(pool)
                given, given_py = given + second, given_py + second_py
            name = surname + given
            abroad = rnd() < profile.abroad_share_chinese
            occupation, job_title = self.choice(_OCCUPATIONS_CN)
        else:
            first = self.choice(_LATIN_FEMALE if female else _LATIN_MALE)
            family = self.choice(_LATIN_FAMILY)
            name = f"{first} {family}"
            given_py, surname_py = _ascii(first), _ascii(family)
            abroad = rnd() < profile.abroad_share_latin
            occupation, job_title = self.choice(_OCCUPATIONS_LATIN)
        if rnd() < 0.1:
            occupation = job_title = None
        birth = None
        if rnd() >= profile.birth_date_missing:
            age = int(self.rng.triangular(18, 81, 35))
            days = int(age * 365.25) + self.between(0, 364)
            birth = date.fromordinal(created.toordinal() - days)
        place = None if abroad else self.pick(_CN_PLACES, self.place_cum)
        company = industry = None
        if occupation is not None and rnd() < 0.4:
            industry, word, _ = self.choice(_INDUSTRIES)
            brand, _ = self.choice(_BRANDS)
            city = (place or self.choice(_CN_PLACES))[1].removesuffix("市")
            company = f"{city}{brand}{word}有限公司"
        interests = {self.choice(_INTERESTS): None for _ in range(self.between(0, 3))}
        return {
            "name": name,
            "kind": CustomerKind.PERSON,
            "gender": None if rnd() < 0.05 else Gender.FEMALE if female else Gender.MALE,
            "birth_date": birth,
            "occupation": occupation,
            "job_title": job_title,
            "company": company,
            "industry": industry,
            "interests": tuple(interests),
            "family": self.choice(_FAMILY) if rnd() < 0.3 else None,
            "special_needs": (self.choice(_SPECIAL_NEEDS),) if rnd() < 0.08 else (),
            **self.person_contacts(index, (given_py, surname_py), chinese=chinese, place=place),
        }

    def person_contacts(
        self, index: int, name: tuple[str, str], *, chinese: bool, place: _Place | None
    ) -> dict[str, Any]:
        """Phones, emails, handles and addresses: in China when ``place``, else abroad."""
        rnd = self.random
        profile = self.profile
        abroad = self.choice(_ABROAD) if place is None else None
        if abroad is not None:
            phones = [self.foreign_phone(index, abroad, primary=True)]
        else:
            phones = [self.mobile(index, primary=True, chinese=chinese)]
            if not chinese and rnd() < 0.05:
                phones.append(self.foreign_phone(index, self.choice(_ABROAD), primary=False))
        if place is not None and rnd() < profile.landline_share:
            label = self.choice(("home", "work", "家庭"))
            phones.append(self.landline(index, place, label=label, primary=False))
        emails: tuple[Email, ...] = ()
        if rnd() < (profile.email_share if chinese else 0.9):
            emails = (self.email(index, *name, chinese=chinese),)
        addresses: tuple[Address, ...] = ()
        if abroad is not None:
            addresses = (self.foreign_address(abroad),)
        elif place is not None and rnd() < 0.9:
            addresses = (self.cn_address(place, label="home", primary=True),)
            if rnd() < 0.15:
                work = self.pick(_CN_PLACES, self.place_cum)
                addresses += (self.cn_address(work, label="work", primary=False),)
        return {
            "phones": tuple(phones),
            "emails": emails,
            "handles": self.person_handles(index, *name, chinese=chinese, phone=phones[0]),
            "addresses": addresses,
        }

    def organisation(self, index: int) -> dict[str, Any]:
        place = self.pick(_CN_PLACES, self.place_cum)
        industry, word, english = self.choice(_INDUSTRIES)
        brand, brand_py = self.choice(_BRANDS)
        name = f"{place[1].removesuffix('市')}{brand}{word}{self.choice(_COMPANY_FORMS)}"
        role = self.choice(("info", "sales", "service", "purchase", "hr"))
        email = f"{role}{_unique(index, 7, 3)}@{brand_py}{english}.com.cn"
        handles: tuple[Handle, ...] = ()
        if self.random() < 0.5:
            network = HandleNetwork.WECHAT if self.random() < 0.7 else HandleNetwork.DINGTALK
            handles = (_handle(network=network, handle=f"{brand_py}_{_unique(index, 7, 9)}"),)
        return {
            "name": name,
            "kind": CustomerKind.ORGANISATION,
            "company": name,
            "industry": industry,
            "phones": (
                self.landline(index, place, label="work", primary=True),
                self.mobile(index, primary=False, chinese=True, label="联系人手机"),
            ),
            "emails": (_email(address=email, label="work", primary=True),),
            "handles": handles,
            "addresses": (self.cn_address(place, label="office", primary=True, office=True),),
        }

    def tags(self, *, organisation: bool, vip: bool) -> frozenset[str]:
        tags = {self.pick(_TAGS, self.tag_cum) for _ in range(self.choice(_TAG_COUNTS))}
        if organisation:
            tags.add("企业客户")
        if vip:
            tags.add("vip")
        return frozenset(tags)

    def consents(self, joined: int, fields: dict[str, Any]) -> tuple[Consent, ...]:
        rnd = self.random
        created = _at(joined)
        source = self.choice(("门店登记", "线上注册", "web form"))
        out = []
        if fields["phones"] and rnd() < 0.6:
            sms = ConsentPurpose.MARKETING_SMS
            out.append(_consent(purpose=sms, granted=True, at=created, source=source))
            if rnd() < 0.08:
                withdrawn = _at(self.moment(joined, self.end))
                out.append(_consent(purpose=sms, granted=False, at=withdrawn, source="短信退订"))
        if fields["emails"] and rnd() < 0.4:
            email = ConsentPurpose.MARKETING_EMAIL
            out.append(_consent(purpose=email, granted=True, at=created, source=source))
        return tuple(out)

    # -- contact points --------------------------------------------------------------------

    def mobile(
        self, index: int, *, primary: bool, chinese: bool, label: str | None = None
    ) -> Phone:
        # Two numbers per customer: its own, and (for organisations) a contact person's.
        number = self.pick(_MOBILE_PREFIXES, self.mobile_cum) + _unique(
            2 * index + (0 if primary else 1), 8, 1
        )
        style = self.random()
        if style < 0.6:
            raw = number
        elif style < 0.75:
            raw = f"{number[:3]} {number[3:7]} {number[7:]}"
        elif style < 0.85:
            raw = f"{number[:3]}-{number[3:7]}-{number[7:]}"
        elif style < 0.95:
            raw = f"+86 {number[:3]} {number[3:7]} {number[7:]}"
        else:
            raw = f"+86{number}"
        if label is None:
            label = "手机" if chinese and self.random() < 0.3 else "mobile"
        e164 = f"+86{number}"
        return _phone(raw=raw, label=label, primary=primary, region="CN", e164=e164, valid=True)

    def landline(self, index: int, place: _Place, *, label: str, primary: bool) -> Phone:
        area, width = place[4], place[5]
        # The digits after the first are unique: for 7-digit cities, up to a million customers.
        local = str(self.between(2, 7)) + _unique(index % _POWERS[width - 1], width - 1, 2)
        shown = f"{local[:-4]} {local[-4:]}" if self.random() < 0.3 else local
        style = self.random()
        if style < 0.6:
            raw = f"{area}-{shown}"
        elif style < 0.85:
            raw = f"({area}) {shown}"
        else:
            raw = f"+86 {area[1:]} {shown}"
        e164 = f"+86{area[1:]}{local}"
        return _phone(raw=raw, label=label, primary=primary, region="CN", e164=e164, valid=True)

    def foreign_phone(self, index: int, abroad: _Abroad, *, primary: bool) -> Phone:
        """A number in ``abroad``'s country, unique for the first million customers."""
        digits = iter(_unique(index % 1_000_000, 6, 5) + "0")
        raw = "".join(
            next(digits) if char == "#" else str(self.between(2, 7)) if char == "d" else char
            for char in abroad[6]
        )
        e164 = "+" + "".join(char for char in raw if char.isdigit())
        return _phone(
            raw=raw, label="overseas", primary=primary, region="CN", e164=e164, valid=True
        )

    def email(self, index: int, given: str, surname: str, *, chinese: bool) -> Email:
        # Every local part ends in digits unique to the customer, after letters only: no two
        # customers can share an address.
        number = _unique(index, 7, 6).lstrip("0") or "0"
        style = self.random()
        if chinese:
            domain = self.pick(_EMAIL_DOMAINS, self.domain_cum)
            if domain == "qq.com" and style < 0.5:
                local = f"1{_unique(index, 7, 7)}"  # the QQ number, as for the QQ handle
            elif style < 0.6:
                local = f"{surname}{given}{number}"
            elif style < 0.75:
                local = f"{given}.{surname}{number}"
            elif style < 0.9:
                local = f"{surname}_{given}{number}"
            else:
                local = f"{surname[0]}{given[0]}{number}"
        else:
            domain = self.choice(_LATIN_DOMAINS)
            if style < 0.5:
                local = f"{given}.{surname}{number}"
            elif style < 0.8:
                local = f"{given[0]}{surname}{number}"
            else:
                local = f"{given}{number}"
        label = "personal" if self.random() < 0.8 else "work"
        return _email(address=f"{local}@{domain}", label=label, primary=True)

    def person_handles(
        self, index: int, given: str, surname: str, *, chinese: bool, phone: Phone
    ) -> tuple[Handle, ...]:
        rnd = self.random
        handles: tuple[Handle, ...] = ()
        if rnd() < (0.75 if chinese else 0.3):
            if rnd() < 0.5:
                handle = f"wxid_{int(_unique(index, 7, 8)) * 7919:x}"
            else:
                handle = f"{surname}{given}_{_unique(index, 7, 9)}"
            handles = (_handle(network=HandleNetwork.WECHAT, handle=handle, primary=True),)
        if chinese and rnd() < 0.2:
            handles += (_handle(network=HandleNetwork.QQ, handle=f"1{_unique(index, 7, 7)}"),)
        if not chinese and rnd() < 0.3:
            handles += (_handle(network=HandleNetwork.WHATSAPP, handle=phone.e164),)
        return handles

    def cn_address(
        self, place: _Place, *, label: str, primary: bool, office: bool = False
    ) -> Address:
        street = f"{self.choice(_STREETS)}{self.between(1, 999)}号"
        if office:
            street += f"{self.choice(_TOWERS)}大厦{self.between(2, 38)}层"
        elif self.random() < 0.7:
            building, floor, flat = self.between(1, 30), self.between(1, 33), self.between(1, 4)
            street += f"{self.choice(_ESTATES)}{building}栋{floor}{flat:02d}室"
        return _address(
            country="CN",
            province=place[0],
            city=place[1],
            district=place[2],
            street=street,
            postal_code=place[3],
            label=label,
            primary=primary,
        )

    def foreign_address(self, abroad: _Abroad) -> Address:
        country, region, city, district, street, postal, _ = abroad
        return _address(
            country=country,
            province=region,
            city=city,
            district=district,
            street=street.format(n=self.between(1, 300)),
            postal_code=postal,
            label="home",
            primary=True,
        )


def iter_customers(
    n_customers: int,
    *,
    seed: int = 0,
    start: date | None = None,
    profile: Profile | None = None,
) -> Iterator[Customer]:
    """Return an iterator of ``n_customers`` customers made one at a time, holding none.

    For benchmarks at a million records. The customers are those of
    :func:`generate` with the same arguments, in the same order.

    Args:
        n_customers: How many (up to :data:`MAX_CUSTOMERS`).
        seed: Same seed, same customers.
        start: First day of the period the customers join in (:data:`DEFAULT_START`
            when ``None``); the period is ``profile.span_days`` long.
        profile: The knobs; the defaults when ``None``.

    Returns:
        Customers ``C000001``, ``C000002``… (``profile.id_prefix`` then at least six
        digits), made as they are consumed.

    Raises:
        ValidationError: An argument is out of range.
    """
    first = _check_arguments(seed, start)
    if isinstance(n_customers, bool) or not isinstance(n_customers, int):
        raise ValidationError("n_customers", n_customers, "expected a whole number")
    if not 0 <= n_customers <= MAX_CUSTOMERS:
        raise ValidationError("n_customers", n_customers, f"must be from 0 to {MAX_CUSTOMERS}")
    maker = _CustomerMaker(seed, first, profile or Profile())
    return map(maker.make, range(1, n_customers + 1))


# --- History --------------------------------------------------------------------------------


class _HistoryMaker(_Draw):
    """Makes each customer's interactions, transactions and feedback from one stream."""

    def __init__(self, seed: int, start: date, profile: Profile) -> None:
        super().__init__(f"custrec-synthetic-history:{seed}", start, profile)
        self.currency = profile.currency
        self.cent = Decimal(1).scaleb(-(currency_exponent(profile.currency) or 0))
        self.products = [
            (pid, name, _money(amount=Decimal(price).quantize(self.cent), currency=self.currency))
            for pid, name, price in _PRODUCTS
        ]
        self.counters = {"I": 0, "T": 0, "F": 0}
        self.items_cache: dict[tuple[int, int], LineItem] = {}

    def next_id(self, letter: str) -> str:
        self.counters[letter] += 1
        return f"{letter}{self.counters[letter]:08d}"

    def count(self, mean: float) -> int:
        """A skewed count: Poisson with a log-normal rate whose mean is ``mean``."""
        if mean <= 0:
            return 0
        rng = self.rng
        sigma = self.profile.history_skew
        rate = rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma) if sigma else mean
        if rate > 30:
            found = max(0, round(rng.gauss(rate, math.sqrt(rate))))
        else:
            # Knuth's method: fine for the small rates most customers have.
            limit, found, product = math.exp(-rate), 0, self.random()
            while product > limit:
                found += 1
                product *= self.random()
        return min(found, self.profile.max_history_per_customer)

    def history(self, customer: Customer) -> list[HistoryRecord]:
        profile = self.profile
        joined = math.ceil(customer.created_at.timestamp())
        # A customer made after the period still gets a month of history.
        until = self.end if self.end > joined else joined + 30 * _DAY
        scale = 2.0 if customer.kind is CustomerKind.ORGANISATION else 1.0
        transactions = [
            self.transaction(customer, moment, until)
            for moment in self.moments(profile.transactions_per_customer * scale, joined, until)
        ]
        interactions = [
            self.interaction(customer, moment)
            for moment in self.moments(profile.interactions_per_customer, joined, until)
        ]
        feedback = [
            self.feedback(customer, joined, until, transactions, interactions)
            for _ in range(self.count(profile.feedback_per_customer))
        ]
        ranked: list[tuple[datetime, int, str, HistoryRecord]] = [
            *((record.at, 0, record.id, record) for record in interactions),
            *((record.at, 1, record.id, record) for record in transactions),
            *((record.at, 2, record.id, record) for record in feedback),
        ]
        ranked.sort(key=lambda item: item[:3])
        return [item[3] for item in ranked]

    def moments(self, mean: float, low: int, high: int) -> list[int]:
        return sorted(self.moment(low, high) for _ in range(self.count(mean)))

    def line_item(self, product: int, quantity: int) -> LineItem:
        # Line items are values: the same product and quantity can share one instance.
        key = (product, quantity)
        item = self.items_cache.get(key)
        if item is None:
            pid, name, price = self.products[product]
            quantity_ = Decimal(quantity)
            item = _line_item(name=name, unit_price=price, quantity=quantity_, product_id=pid)
            self.items_cache[key] = item
        return item

    def transaction(self, customer: Customer, moment: int, until: int) -> Transaction:
        rnd = self.random
        organisation = customer.kind is CustomerKind.ORGANISATION
        chosen = self.rng.sample(range(len(self.products)), self.pick(*_ITEM_COUNTS))
        quantities = _ORGANISATION_QUANTITIES if organisation else _PERSON_QUANTITIES
        items = tuple(self.line_item(product, self.pick(*quantities)) for product in chosen)
        total = sum((item.unit_price.amount * item.quantity for item in items), Decimal(0))
        ident = self.next_id("T")
        status = TransactionStatus.COMPLETED
        after: tuple[AfterSalesEvent, ...] = ()
        roll = rnd()
        if until - moment < 3 * _DAY and roll < 0.3:
            status = TransactionStatus.PENDING
        elif roll < 0.02:
            status = TransactionStatus.CANCELLED
        elif rnd() < self.profile.after_sales_share:
            event, refunds_all = self.after_sales(ident, moment, until, items, total)
            after = (event,)
            if refunds_all:
                status = TransactionStatus.REFUNDED
        return _transaction(
            customer_id=customer.id,
            at=_at(moment),
            items=items,
            total=_money(amount=total, currency=self.currency),
            id=ident,
            payment_method=self.pick(
                *(_ORGANISATION_PAYMENTS if organisation else _PERSON_PAYMENTS)
            ),
            channel=self.pick(*_SALES_CHANNELS),
            status=status,
            after_sales=after,
            note=self.choice(_TRANSACTION_NOTES) if rnd() < 0.05 else None,
        )

    def after_sales(
        self, ident: str, moment: int, until: int, items: tuple[LineItem, ...], total: Decimal
    ) -> tuple[AfterSalesEvent, bool]:
        """One after-sales event, and whether it refunds everything.

        A return pays back one line; a refund part of the total; neither more than the
        total.
        """
        kind = self.pick(*_AFTER_SALES_KINDS)
        when = max(min(moment + self.between(_DAY, 20 * _DAY), until), moment)
        amount = None
        if kind is AfterSalesKind.RETURN:
            item = self.choice(items)
            amount = item.unit_price.amount * item.quantity
        elif kind is AfterSalesKind.REFUND:
            share = Decimal(self.between(5, 50)) / 100
            amount = max((total * share).quantize(self.cent, rounding=ROUND_DOWN), self.cent)
            amount = min(amount, total)
        money = None if amount is None else _money(amount=amount, currency=self.currency)
        event = _after_sales(
            kind=kind, at=_at(when), amount=money, note=_AFTER_SALES_NOTES[kind], id=f"{ident}-A1"
        )
        return event, amount is not None and amount >= total

    def interaction(self, customer: Customer, moment: int) -> Interaction:
        rnd = self.random
        # Customers are contacted the ways they can be reached.
        channels = [Channel.SMS, Channel.IN_PERSON, Channel.CHAT, Channel.SOCIAL]
        weights = [10, 15, 10, 3]
        if customer.phones:
            channels.append(Channel.PHONE)
            weights.append(30)
        if customer.emails:
            channels.append(Channel.EMAIL)
            weights.append(10)
        if any(handle.network is HandleNetwork.WECHAT for handle in customer.handles):
            channels.append(Channel.WECHAT)
            weights.append(25)
        channel = self.pick(channels, _cumulative(weights))
        outcome = self.pick(*_OUTCOMES)
        at = _at(moment)
        follow_up = None
        if outcome in (Outcome.FOLLOW_UP, Outcome.PENDING):
            follow_up = date.fromordinal(at.toordinal() + self.between(3, 14))
        content = None
        if rnd() < 0.8:
            content = self.choice(_CONTENTS).format(product=self.choice(_PRODUCTS)[1])
        return _interaction(
            customer_id=customer.id,
            at=at,
            channel=channel,
            id=self.next_id("I"),
            direction=Direction.OUTBOUND if rnd() < 0.55 else Direction.INBOUND,
            subject=self.choice(_SUBJECTS[channel]),
            content=content,
            outcome=outcome,
            handled_by=self.choice(_STAFF),
            next_follow_up=follow_up,
        )

    def feedback(
        self,
        customer: Customer,
        joined: int,
        until: int,
        transactions: list[Transaction],
        interactions: list[Interaction],
    ) -> Feedback:
        rnd = self.random
        rating = self.pick(*_RATINGS)
        roll = rnd()
        topic, about, after = FeedbackTopic.SERVICE, None, joined
        if transactions and roll < 0.6:
            sale = self.choice(transactions)
            topic, about, after = FeedbackTopic.TRANSACTION, sale.id, int(sale.at.timestamp())
        elif transactions and roll < 0.8:
            sale = self.choice(transactions)
            product = self.choice(sale.items).product_id
            topic, about, after = FeedbackTopic.PRODUCT, product, int(sale.at.timestamp())
        elif interactions and roll < 0.9:
            contact = self.choice(interactions)
            topic, about, after = FeedbackTopic.INTERACTION, contact.id, int(contact.at.timestamp())
        moment = max(min(after + self.between(60, 10 * _DAY), until), after)
        # Every piece has a rating or an NPS answer, often both, sometimes words.
        shape = rnd()
        text = None
        if shape < 0.15 or rnd() < 0.4:
            text = self.choice(_FEEDBACK_TEXTS[rating])
        return _feedback(
            customer_id=customer.id,
            at=_at(moment),
            rating=rating if shape < 0.85 else None,
            nps=self.between(*_NPS_BY_RATING[rating]) if shape > 0.5 else None,
            text=text,
            topic=topic,
            about_id=about,
            id=self.next_id("F"),
        )


def iter_history(
    customers: Iterable[Customer],
    *,
    seed: int = 0,
    start: date | None = None,
    profile: Profile | None = None,
) -> Iterator[HistoryRecord]:
    """Return an iterator of each customer's history in turn, made as it is consumed.

    For each customer: its interactions, transactions and feedback, oldest first (at the
    same moment interactions, then transactions, then feedback, as
    :meth:`~custrec.store.Store.history` orders them). Records happen between the
    customer's ``created_at`` and the end of the period (``start`` plus
    ``profile.span_days``). Ids are ``I00000001``, ``T00000001``, ``F00000001``…, numbered
    in the order made; after-sales events are ``<transaction id>-A1``.

    Only each customer's own records are held at a time, so a million transactions can be
    made from :func:`iter_customers` in constant memory.

    Args:
        customers: The customers (any, not only generated ones).
        seed: Same seed and customers, same history.
        start: First day of the period; :data:`DEFAULT_START` when ``None``. Give the
            ``start`` the customers were made with.
        profile: The knobs; the defaults when ``None``.

    Returns:
        Interactions, transactions and feedback.

    Raises:
        ValidationError: An argument is out of range.
    """
    maker = _HistoryMaker(seed, _check_arguments(seed, start), profile or Profile())
    return itertools.chain.from_iterable(map(maker.history, customers))


def generate(
    n_customers: int,
    *,
    seed: int = 0,
    start: date | None = None,
    profile: Profile | None = None,
) -> Dataset:
    """Make ``n_customers`` customers and their history.

    Args:
        n_customers: How many customers (up to :data:`MAX_CUSTOMERS`).
        seed: Same seed, same dataset, to the last id and timestamp.
        start: First day of the generated period; :data:`DEFAULT_START` when ``None``.
            Nothing is taken from the clock.
        profile: The knobs; the defaults when ``None``.

    Returns:
        The customers and their history, each kind in customer order, oldest first.

    Raises:
        ValidationError: An argument is out of range.
    """
    customers = tuple(iter_customers(n_customers, seed=seed, start=start, profile=profile))
    interactions: list[Interaction] = []
    transactions: list[Transaction] = []
    feedback: list[Feedback] = []
    for record in iter_history(customers, seed=seed, start=start, profile=profile):
        if isinstance(record, Transaction):
            transactions.append(record)
        elif isinstance(record, Interaction):
            interactions.append(record)
        else:
            feedback.append(record)
    return Dataset(customers, tuple(interactions), tuple(transactions), tuple(feedback))


# --- Files ----------------------------------------------------------------------------------


def write_jsonl(dataset: Dataset, path: str | PathLike[str]) -> int:
    """Write a dataset as JSON Lines: one :func:`custrec.to_json` record per line.

    Customers come first, then interactions, transactions and feedback, so a reader can
    store each line as it comes. The file is UTF-8 with LF line ends, whatever the
    platform, so the same dataset always gives the same bytes.

    Args:
        dataset: What to write.
        path: The file; replaced if it exists.

    Returns:
        The number of lines written.
    """
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="\n") as out:
        for record in dataset.records():
            out.write(to_json(record))
            out.write("\n")
            count += 1
    return count


def load_jsonl(path: str | PathLike[str]) -> Dataset:
    """Read back a file written by :func:`write_jsonl` (or any JSON Lines of records).

    Blank lines are skipped. Records keep their order within each kind.

    Args:
        path: The file.

    Returns:
        The records, by kind.

    Raises:
        ImportRowError: A line is not a record document; ``row`` is its line number.
    """
    found: dict[type[Any], list[Any]] = {
        Customer: [],
        Interaction: [],
        Transaction: [],
        Feedback: [],
    }
    with Path(path).open(encoding="utf-8") as source:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                record = from_json(line)
            except ValidationError as exc:
                raise ImportRowError(number, exc.field or None, exc.value, exc.reason) from exc
            found[type(record)].append(record)
    return Dataset(
        tuple(found[Customer]),
        tuple(found[Interaction]),
        tuple(found[Transaction]),
        tuple(found[Feedback]),
    )
