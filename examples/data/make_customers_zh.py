"""Make the seed customer table: ``customers_zh.csv`` (GBK) and ``customers_zh.xlsx``.

The table is what a small Chinese shop keeps in Excel or WPS (客户档案): Chinese headers,
and Excel's habits — an id stored as a number (107, once 0107), a phone Excel shortened
to ``1.38123E+10``, full-width digits, two phones in one cell, birthdays as serial numbers,
the whole address in one cell, a formula-like name, a blank row, and a few rows that are
wrong (an impossible date, no phone at all, a member level the template does not know).
Nothing in it is about a real person.

Run it from anywhere; it rewrites both files next to itself, the same every time (seeded):

    python examples/data/make_customers_zh.py

The ``.xlsx`` needs openpyxl (``pip install 'custrec[excel]'``); without it only the CSV is
written.
"""

from __future__ import annotations

import contextlib
import csv
import random
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).parent
SEED = 7
HEADERS = [
    "客户编号", "姓名", "性别", "出生日期", "公司名称", "职位",
    "电子邮件", "手机号码", "地址", "会员等级", "备注",
]  # fmt: skip

# Written by hand: each row shows one habit of real spreadsheets.
ROWS: list[list[object]] = [
    ["0101", "陈静", "女", "1985/3/12", "华联超市", "采购经理", "chenjing@hualian.cn", "13812340101", "北京市朝阳区建国路88号", "金卡会员", "老客户，每季度回访"],
    ["0102", "刘强", "男", 31118, "鼎盛贸易", "总经理", "liuqiang@dingsheng.com", "13998760102/13600000102", "上海浦东新区世纪大道100号", "钻石会员", "两个号码"],
    ["0103", "王芳", "女", "1990年7月1日", "", "教师", "WangFang@QQ.com", "１３７８７６５０１０３", "广东省广州市天河区体育西路1号 510000", "普通会员", "号码是全角数字"],
    ["0104", "赵磊", "男", "1988-11-23", "蓝海科技", "工程师", "zhaolei@lanhai.tech", "1.38123E+10", "浙江省杭州市西湖区文三路90号", "银卡会员", "Excel 把号码存成了科学计数法"],
    ["0105", "孙丽", "女", "1992-02-30", "", "设计师", "sunli@163.com", "13500000105", "四川省成都市武侯区", "普通会员", "生日写错了"],
    ["0106", "周杰", "男", "1979-05-06", "周记茶庄", "店主", "", "", "江苏省苏州市姑苏区平江路5号", "普通会员", "没有留电话"],
    [107, "吴敏", "女", 33000, "", "会计", "wumin@126.com", 13400000107, "湖北省武汉市武昌区中南路3号", "银卡会员", "编号被存成了数字"],
    ["0108", "=HYPERLINK(\"http://example.com\")", "男", "", "", "", "", "13300000108", "", "普通会员", "公式单元格"],
    ["0109", "郑洁", "女", "1995.08.15", "", "学生", "zhengjie@outlook.com", "15900000109；18600000109", "", "黑卡", "没有这种会员等级"],
    [None, None, None, None, None, None, None, None, None, None, None],
    ["0110", "冯伟", "男", "1983-09-09", "冯氏五金", "老板", "fengwei@fengshi.cn", "+86 139-0000-0110", "云南省大理白族自治州大理市洱海路1号", "金卡会员", ""],
]  # fmt: skip

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
_PLACES = (
    "北京市海淀区",
    "上海市徐汇区",
    "广东省深圳市南山区",
    "浙江省杭州市滨江区",
    "四川省成都市锦江区",
)
_COMPANIES = ("华联超市", "鼎盛贸易", "蓝海科技", "", "")
_TITLES = ("经理", "销售", "技术", "财务", "")
_LEVELS = ("普通会员", "普通会员", "银卡会员", "金卡会员", "钻石会员")


def rows(extra: int = 14) -> list[list[object]]:
    """The hand-written rows, then ``extra`` ordinary seeded ones."""
    rnd = random.Random(SEED)  # noqa: S311 - made-up data, not secrets
    made = [list(row) for row in ROWS]
    for number in range(111, 111 + extra):
        name = rnd.choice(_SURNAMES) + rnd.choice(_GIVEN) + rnd.choice(_GIVEN)
        birthday = f"{rnd.randint(1960, 2003)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        street = f"{rnd.choice(_PLACES)}人民路{rnd.randint(1, 300)}号"
        made.append(
            [
                f"0{number}",
                name,
                rnd.choice("男女"),
                birthday,
                rnd.choice(_COMPANIES),
                rnd.choice(_TITLES),
                f"c{number}@example.com",
                f"13{rnd.randint(0, 9)}{rnd.randint(0, 99_999_999):08d}",
                street,
                rnd.choice(_LEVELS),
                "",
            ]
        )
    return made


def _csv_cell(value: object) -> str:
    return "" if value is None else str(value)


def write_csv(path: Path) -> None:
    """The table as a Chinese Excel saves "CSV": GBK, CRLF line ends."""
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADERS)
        for row in rows():
            writer.writerow([_csv_cell(value) for value in row])


def write_xlsx(path: Path) -> bool:
    """The table as an ``.xlsx`` workbook, with the cell types Excel would have given it."""
    try:
        import openpyxl  # noqa: PLC0415 - optional: the CSV is written without it
    except ImportError:
        return False
    book = openpyxl.Workbook()
    sheet = book.active
    if sheet is None:  # a new workbook always has one sheet
        sheet = book.create_sheet()
    sheet.title = "客户档案"
    sheet.append(HEADERS)
    for row in rows():
        cells = list(row)
        birthday = cells[3]
        if isinstance(birthday, str) and len(birthday) == 10 and birthday[4] == "-":
            # 1992-02-30 stays text, as Excel leaves a date it cannot read.
            with contextlib.suppress(ValueError):
                cells[3] = datetime.strptime(birthday, "%Y-%m-%d")
        phone = cells[7]
        if isinstance(phone, str) and phone.isdigit() and phone.isascii():
            cells[7] = int(phone)  # Excel turns digits into a number
        sheet.append(cells)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula, as the CSV has it
    # Fixed document dates; the zip container still stamps its entries with today's time.
    book.properties.created = book.properties.modified = datetime(2025, 1, 1)
    book.save(path)
    return True


def main() -> None:
    """Write both files."""
    write_csv(HERE / "customers_zh.csv")
    print(f"wrote {HERE / 'customers_zh.csv'}")
    if write_xlsx(HERE / "customers_zh.xlsx"):
        print(f"wrote {HERE / 'customers_zh.xlsx'}")
    else:
        print("openpyxl is not installed: customers_zh.xlsx not written")


if __name__ == "__main__":
    main()
