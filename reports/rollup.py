"""Rolling township figures up the region tree, and checking that the levels add up.

Every row's figure = its own-level items (`own_level`) + the sum of its children, where
a row's parent is its nearest ancestor that has a row (township → county → city →
province; a township directly under a city, as in 东莞, rolls into the city). Registry
columns never have own-level items, so for them a parent is exactly the sum of its
children, as reports.md requires.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from reports.models import LEVEL_KEYS, METRIC_KEYS, MONEY_METRICS


def parent_of(code: str, codes) -> str | None:
    for length in (6, 4, 2):
        if length < len(code) and code[:length] in codes:
            return code[:length]
    return None


def locate(code: str, codes) -> str | None:
    """The row an item attached to `code` belongs to: its township, or the nearest existing ancestor."""
    for length in (9, 6, 4, 2):
        if length <= len(code) and code[:length] in codes:
            return code[:length]
    return None


def add_into(target: dict, values: dict) -> None:
    for key, value in values.items():
        if value:
            target[key] = target.get(key, 0) + value


def roll_up(values: dict[str, dict], rules: dict[str, dict], targets: set[str]) -> None:
    """Add each row into its parent, deepest first, for parents in `targets` (in place)."""
    codes = set(values)
    for code in sorted(codes, key=len, reverse=True):
        parent = parent_of(code, codes)
        if parent is not None and parent in targets:
            add_into(values[parent], values[code])
            add_into(rules.setdefault(parent, {}), rules.get(code, {}))


def normalise(values: dict) -> dict:
    out = {}
    for key in METRIC_KEYS:
        value = values.get(key, 0) or 0
        out[key] = Decimal(value).quantize(Decimal("0.01")) if key in MONEY_METRICS else int(value)
    return out


def to_json(values: dict) -> dict:
    """Non-zero figures for a JSON column (money as a string, JSON has no decimals)."""
    return {k: (str(v) if k in MONEY_METRICS else v) for k, v in normalise(values).items() if v}


def from_json(values: dict | None) -> dict:
    return {k: (Decimal(v) if k in MONEY_METRICS else v) for k, v in (values or {}).items()}


def level_of(code: str) -> str:
    return LEVEL_KEYS[len(code)]


def check_level_sums(rows) -> list[dict]:
    """Where a row's figure is not its own-level items + the sum of its children.

    `rows` are RollupRow-like objects of one month. Returns one entry per mismatching
    region and column; an empty list means every level adds up.
    """
    by_code = {row.region_code: row for row in rows}
    children: dict[str, list[str]] = defaultdict(list)
    for code in by_code:
        parent = parent_of(code, by_code)
        if parent is not None:
            children[parent].append(code)
    problems = []
    for code in sorted(children):
        expected = from_json(by_code[code].own_level)
        for child in children[code]:
            add_into(expected, by_code[child].metrics())
        actual = by_code[code].metrics()
        for key in METRIC_KEYS:
            want = Decimal(str(expected.get(key, 0) or 0))
            if Decimal(str(actual[key])) != want:
                problems.append({"region_code": code, "region_name": by_code[code].region_name,
                                 "metric": key, "expected": want, "actual": actual[key]})
    return problems
