"""Loading the shipped 2023 statistical division codes (dibao/data/*.csv.gz)."""
from __future__ import annotations

import csv
import gzip
from pathlib import Path
from typing import Iterator

from django.db import transaction

from dibao.bulk import upsert
from dibao.models import Region

DATA_DIR = Path(__file__).resolve().parent / "data"
# file, level, the CSV column holding the parent's code
LEVEL_FILES = [
    ("provinces.csv.gz", Region.Level.PROVINCE, None),
    ("cities.csv.gz", Region.Level.CITY, "provinceCode"),
    ("areas.csv.gz", Region.Level.COUNTY, "cityCode"),
    ("streets.csv.gz", Region.Level.TOWNSHIP, "areaCode"),
    ("villages.csv.gz", Region.Level.VILLAGE, "streetCode"),
]


def _rows(file_name: str, parent_column: str | None, provinces: set[str] | None,
          known: set[str]) -> Iterator[tuple]:
    with gzip.open(DATA_DIR / file_name, "rt", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            code = rec["code"]
            if provinces and code[:2] not in provinces:
                continue
            parent = rec[parent_column] if parent_column else None
            # A parent missing from the data (rare in the source) leaves the node at the top of its branch.
            yield code, rec["name"], None, parent if parent in known else None


@transaction.atomic
def load_regions(provinces: list[str] | None = None, progress=None) -> dict[str, int]:
    wanted = set(provinces) if provinces else None
    counts: dict[str, int] = {}
    known: set[str] = set(Region.objects.values_list("code", flat=True))
    for file_name, level, parent_column in LEVEL_FILES:
        rows = [(code, name, int(level), parent)
                for code, name, _, parent in _rows(file_name, parent_column, wanted, known)]
        upsert(Region, ["code", "name", "level", "parent_id"], rows,
               conflict_fields=["code"], update_fields=["name", "level", "parent_id"])
        known.update(r[0] for r in rows)
        counts[Region.Level(level).label] = len(rows)
        if progress:
            progress(Region.Level(level).label, len(rows))
    return counts
