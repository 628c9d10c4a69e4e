"""The SQL staging of plain CSV files (imports.fastpath) against the Python parsers it stands in for:
the same file gives the same report (rows, columns, values, reasons) and the same staged values."""
import datetime as dt

import pytest
from django.db import connection

from imports import fastpath, pipeline
from imports.kinds import get_kind
from imports.reader import open_source
from imports.tests.helpers import write_csv
from tests.factories import make_id

pytestmark = pytest.mark.django_db

ID = make_id()
X_ID = next(i for i in (make_id(seq=n) for n in range(2000)) if i.endswith("X"))
IDS = [make_id(), X_ID[:-1] + "x", ID[:-1] + ("1" if ID[-1] == "X" else "X"), ID[:17], make_id(), f" {make_id()} ",
       make_id().translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}), "2.20102199E+17",
       make_id(born=dt.date(2099, 1, 1)), make_id(born=dt.date(1870, 1, 1)), make_id(born=dt.date(2024, 2, 29)), "",
       "A" * 18, make_id()]
NAMES = ["张三", " 李四 ", "王\u3000五", "Ｚｈａｎｇ", "长" * 51, "赵\x07六", "", "O'Brien", "钱\t七"]
DATES = ["2023-01-05", "2023-1-5", "2023/01/05", "2023年1月5日", "2023-02-30", "2024-02-29", "2023-02-29", "2023-11-31",
         "0000-01-01", "", "abc", "2023-01-05 00:00:00", "１９９９-01-01", "2100-12-31"]
MONEY = ["1234.50", "1,234.50", "￥12", "980元", "12.345", "-5", "0", "0.00", "99999999", "100000000", "012.5",
         ".5", "12.", ""]
MONTHS = ["2026-01", "2026-1", "202601", "2026/01", "2026年1月", "2026-13", "2026-00", "0000-01", ""]
ACCOUNTS = ["6217000012345678", "62170 00012345678", "123", "6" * 31, "", "６217000012345678"]
REGIONS = ["220102", "220102000000", "22010200000", "２２０１０２", "", "220102001", "1101", "2201021010010"]
LEVELS = ["1", "一级", "5", "1级", "", "四"]
BOOLS = ["是", "Y", "true", "TRUE", "maybe", "", "否", "0"]


def _rows(plain, *columns):
    """A plain row, then one row for each value of each column with the other cells plain: a row
    with one odd cell is staged by SQL unless that very cell needs Python."""
    rows = [plain(0)]
    for at, values in enumerate(columns):
        for value in values:
            row = plain(len(rows))
            row[at] = value
            rows.append(row)
    return rows


STATUS = ["成功", "SUCCESS", "failed", "退回", "", "x"]
CASES = {
    "deaths": (["姓名", "身份证号", "死亡日期"],
               _rows(lambda i: ["张三", make_id(), "2023-01-05"], NAMES, IDS, DATES)),
    "disability": (["姓名", "身份证号", "残疾类别", "残疾等级", "区划代码"],
                   _rows(lambda i: ["张三", make_id(), "视力", "1", "220102"], NAMES, IDS,
                         ["视力", "visual", "VISUAL", "不知道", "", "肢体"], LEVELS, REGIONS)),
    "payments": (["交易流水号", "发放月份", "户编号", "收款人姓名", "收款人身份证号", "银行账号", "发放金额", "发放日期", "发放状态"],
                 _rows(lambda i: [f"T{i:03d}", "2026-01", "H001", "张三", ID, "6217000012345678", "980.00",
                                  "2026-01-10", "成功"],
                       ["T001", "", " T999", "T" * 41], MONTHS, ["H001", " H002", "", "H" * 33], NAMES, IDS, ACCOUNTS,
                       MONEY, DATES, STATUS)),
    "members": (["户编号", "姓名", "身份证号", "与户主关系", "残疾类别", "残疾等级", "重病", "劳动能力", "月收入"],
                _rows(lambda i: ["H001", "张三", make_id(), "户主", "", "", "否", "", "0"], ["H001", ""], NAMES,
                      IDS, ["户主", "spouse", "其他", "邻居"], ["", "肢体", "x"], LEVELS, BOOLS, ["", "完全丧失", "x"],
                      MONEY)),
    "staff": (["姓名", "身份证号", "人员类别", "工作单位", "职务", "区划代码"],
              _rows(lambda i: ["张三", make_id(), "village_cadre", "民政局", "科员", "220102001"], NAMES, IDS,
                    ["村（居）委会干部", "village_cadre", "路人"], ["民政局", "", "单位" * 60], ["科员"], REGIONS)),
}


def _validate(kind_key, path, prefix):
    kind = get_kind(kind_key)
    staged = pipeline.validate(kind, open_source(str(path), path.name), prefix=prefix)
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT row_no, ok, {", ".join(pipeline.q(c.key) for c in kind.columns)} '
                       f'FROM {pipeline.q(pipeline.stage_name(kind))} ORDER BY row_no')
        rows = cursor.fetchall()
    pipeline.drop_stage(kind)
    return staged.rows_total, staged.rows_invalid, staged.report.as_json(), rows


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL staging is PostgreSQL's")
@pytest.mark.parametrize("kind", list(CASES))
@pytest.mark.parametrize("prefix", [None, "2201"])
def test_sql_staging_reports_and_stages_what_the_python_parsers_do(kind, prefix, tmp_path, monkeypatch):
    header, rows = CASES[kind]
    path = write_csv(tmp_path / f"{kind}.csv", header, rows)
    calls = []
    real_stage = fastpath.stage
    monkeypatch.setattr(fastpath, "stage", lambda *a, **kw: calls.append(1) or real_stage(*a, **kw))
    fast = _validate(kind, path, prefix)
    assert calls, "the SQL staging did not run"
    monkeypatch.setattr(fastpath, "applies", lambda kind, source: False)
    python = _validate(kind, path, prefix)
    assert fast[2]["errors"], "the file has mistakes to report"
    assert fast == python


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL staging is PostgreSQL's")
def test_a_file_copy_cannot_read_as_the_csv_module_does_goes_through_python(tmp_path):
    """A blank line, a short row and a line `\\.` (COPY's end of data): rows keep their numbers."""
    path = tmp_path / "deaths.csv"
    path.write_text(f"姓名,身份证号,死亡日期\n张三,{make_id()},2023-01-05\n\n李四,{make_id()}\n\\.\n"
                    f"王五,{make_id()},2023-02-30\n", encoding="utf-8")
    total, invalid, report, rows = _validate("deaths", path, None)
    assert (total, invalid) == (4, 3)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [
        (4, "死亡日期"), (5, "身份证号"), (5, "死亡日期"), (6, "死亡日期")]
