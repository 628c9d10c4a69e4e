import datetime as dt
from decimal import Decimal

import pytest

from imports.kinds import CellError, clean_cell, parse_bool, parse_date, parse_id, parse_money, parse_region
from tests.factories import make_id


def test_cells_are_stripped_and_full_width_made_half_width():
    assert clean_cell("\u3000 ２２０１０２ \u3000") == "220102"
    assert clean_cell(None) == ""
    assert clean_cell(12) == 12


@pytest.mark.parametrize("text", ["2023-03-05", "2023/3/5", "2023年3月5日", "2023-03-05 00:00:00"])
def test_date_spellings(text):
    assert parse_date(text) == dt.date(2023, 3, 5)


def test_real_excel_date_cells_are_dates():
    assert parse_date(dt.datetime(2023, 3, 5)) == dt.date(2023, 3, 5)


@pytest.mark.parametrize("text", ["2023-02-30", "2023-13-01"])
def test_impossible_dates_are_rejected(text):
    with pytest.raises(CellError) as exc:
        parse_date(text)
    assert "不存在" in exc.value.zh and "does not exist" in exc.value.en


def test_unknown_date_format_is_rejected():
    with pytest.raises(CellError):
        parse_date("05.03.2023")


@pytest.mark.parametrize("text,expected", [("1,234.50", "1234.50"), ("￥1234.5", "1234.5"), ("980", "980"),
                                           (980.5, "980.5"), (1000, "1000")])
def test_money(text, expected):
    assert parse_money(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["12.345", "abc", "-5"])
def test_bad_money(text):
    with pytest.raises(CellError):
        parse_money(text)


@pytest.mark.parametrize("text,expected", [("是", True), ("否", False), ("Y", True), ("n", False), ("true", True),
                                           ("FALSE", False), ("1", True), ("0", False)])
def test_booleans(text, expected):
    assert parse_bool(text) is expected


def test_id_lower_x_is_upper_cased_and_check_digit_verified():
    body = "11010519491231002"
    assert parse_id(body + "x") == body + "X"
    good = make_id()
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(CellError) as exc:
        parse_id(wrong)
    assert "校验位" in exc.value.zh


@pytest.mark.parametrize("value", [220102197001010011, 2.20102197001010e17, "2.20102199E+17"])
def test_id_stored_as_number_is_an_error(value):
    with pytest.raises(CellError) as exc:
        parse_id(value)
    assert "存成了数字" in exc.value.zh and "stored as a number" in exc.value.en


def test_region_codes_natural_or_padded():
    parse = parse_region((9, 12))
    assert parse("220102001000") == "220102001"
    assert parse("220102001001") == "220102001001"
    with pytest.raises(CellError):
        parse("220102")  # a county is not a household's region
    with pytest.raises(CellError):
        parse("22010A")
