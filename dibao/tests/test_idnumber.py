"""Resident ID numbers: the reasons a caseworker sees, normalisation, derived facts, masking."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from dibao import idnumber
from tests.factories import make_id

VALID = make_id(region="220102", born=dt.date(1985, 7, 9), seq=12, male=False)  # order 024 → 女


def reason(value) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        idnumber.validate_id(value)
    return info.value.code, info.value.messages[0]


def test_valid_number_is_returned():
    assert idnumber.validate_id(VALID) == VALID


def test_bad_check_digit_names_the_expected_digit():
    wrong = VALID[:-1] + ("0" if VALID[-1] != "0" else "1")
    code, message = reason(wrong)
    assert code == "checksum"
    assert "校验位错误" in message and f"应为 {VALID[-1]}" in message


@pytest.mark.parametrize("value, n", [(VALID[:17], 17), (VALID + "1", 19), ("220102850709024", 15)])
def test_wrong_length(value, n):
    code, message = reason(value)
    assert code == "length" and f"当前为 {n} 位" in message


def test_impossible_birth_date():
    body = "22010219990230001"
    code, message = reason(body + "0")
    assert code == "birth_date" and "19990230" in message and "不存在" in message


def test_birth_date_in_the_future():
    code, message = reason(make_id(born=dt.date.today() + dt.timedelta(days=2)))
    assert code == "birth_date" and "晚于今天" in message


def test_letters_inside_the_number():
    code, message = reason("22010219850709A24X")
    assert code == "format" and "数字" in message


def test_lower_case_x_is_upper_cased():
    body = next(b for b in (f"22010219850709{n:03d}" for n in range(1000))
                if idnumber.ric.calc_check_digit(b + "0") == "X")
    assert idnumber.validate_id(body + "x") == body + "X"


def test_full_width_digits_and_spaces_are_normalised():
    full_width = VALID.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    assert idnumber.validate_id("\u3000" + full_width + " ") == VALID


@pytest.mark.parametrize("value", ["2.20102199E+17", "2.2010219850709E17", "2e17"])
def test_scientific_notation_is_an_error_saying_so(value):
    code, message = reason(value)
    assert code == "number" and "Excel" in message and "数字" in message


def test_empty_is_an_error():
    assert reason("  ")[0] == "required"


def test_derived_birth_date_sex_and_age():
    assert idnumber.birth_date(VALID) == dt.date(1985, 7, 9)
    assert idnumber.sex(VALID) == "女"
    assert idnumber.sex(make_id(male=True)) == "男"
    assert idnumber.age_on(VALID, dt.date(2026, 7, 8)) == 40
    assert idnumber.age_on(VALID, dt.date(2026, 7, 9)) == 41


def test_mask_keeps_region_and_last_four():
    assert idnumber.mask_id(VALID) == VALID[:6] + "*" * 8 + VALID[-4:]
    assert VALID[6:14] not in idnumber.mask_id(VALID)
