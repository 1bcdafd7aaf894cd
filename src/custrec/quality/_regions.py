"""Chinese province and city names: the short forms people write, and the full names.

``北京`` and ``北京市`` are one place; so are ``广东`` and ``广东省``, ``广西`` and
``广西壮族自治区``. The normaliser writes the full name. Only names that are unambiguous are
listed: a short form that is itself another place's full name is left alone.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["CITY_NAMES", "PROVINCE_NAMES"]

_MUNICIPALITIES = ("北京", "上海", "天津", "重庆")
_PROVINCES = (
    "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西", "山东",
    "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海",
    "台湾",
)  # fmt: skip
_AUTONOMOUS = {
    "内蒙古": "内蒙古自治区",
    "广西": "广西壮族自治区",
    "西藏": "西藏自治区",
    "宁夏": "宁夏回族自治区",
    "新疆": "新疆维吾尔自治区",
    "广西自治区": "广西壮族自治区",
    "宁夏自治区": "宁夏回族自治区",
    "新疆自治区": "新疆维吾尔自治区",
    "香港": "香港特别行政区",
    "澳门": "澳门特别行政区",
    "香港特区": "香港特别行政区",
    "澳门特区": "澳门特别行政区",
}

PROVINCE_NAMES = MappingProxyType(
    {
        **{short: f"{short}市" for short in _MUNICIPALITIES},
        **{short: f"{short}省" for short in _PROVINCES},
        **_AUTONOMOUS,
    }
)
"""Short province-level names to their full names (``广东`` → ``广东省``)."""

_CITIES = (
    *_MUNICIPALITIES,
    "石家庄", "唐山", "保定", "廊坊", "太原", "大同", "呼和浩特", "包头", "沈阳", "大连",
    "鞍山", "长春", "吉林", "哈尔滨", "大庆", "南京", "苏州", "无锡", "常州", "南通", "徐州",
    "扬州", "杭州", "宁波", "温州", "绍兴", "嘉兴", "金华", "台州", "湖州", "合肥", "芜湖",
    "福州", "厦门", "泉州", "漳州", "南昌", "赣州", "济南", "青岛", "烟台", "潍坊", "临沂",
    "淄博", "郑州", "洛阳", "开封", "武汉", "宜昌", "襄阳", "长沙", "株洲", "岳阳", "广州",
    "深圳", "佛山", "东莞", "珠海", "中山", "惠州", "汕头", "江门", "湛江", "南宁", "桂林",
    "柳州", "海口", "三亚", "成都", "绵阳", "贵阳", "遵义", "昆明", "拉萨", "西安",
    "咸阳", "兰州", "西宁", "银川", "乌鲁木齐",
)  # fmt: skip

CITY_NAMES = MappingProxyType({short: f"{short}市" for short in _CITIES})
"""Short city names to their full names (``深圳`` → ``深圳市``)."""
