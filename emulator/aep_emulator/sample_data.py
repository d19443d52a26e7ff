"""Built-in source data that batch runs "ingest": deterministic rows per day before the emulated now.

Every source table has a fixed column list and, for each UTC day in the last ``HISTORY_DAYS`` days, a
deterministic number of rows (3..40) spread over that day. A run's input record count is the number of
rows whose delta column falls in its window, so counts follow windows exactly and repeat across runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

DAY = 86400
HISTORY_DAYS = 400
MIN_ROWS_PER_DAY = 3
MAX_ROWS_PER_DAY = 40

PRODUCT_COLUMNS = ("Product_Id", "Product_Name", "Description", "Type", "Create_Time", "Update_Time")

# Tables the tutorials name (seed 001/004 read PayPal's, seed 002 Stripe's).
TABLES: dict[str, tuple[str, ...]] = {
    "PayPal.Catalog_Products": PRODUCT_COLUMNS,
    "Stripe.Catalog_Products": PRODUCT_COLUMNS,
}
TIME_COLUMNS = ("Create_Time", "Update_Time")


@dataclass(frozen=True)
class SampleRow:
    """One generated row (only what counting needs; :func:`row_values` renders all columns).

    :param table: source table name.
    :param day: UTC day number (epoch seconds // 86400).
    :param index: row number inside the day.
    :param create_time: epoch seconds of ``Create_Time``.
    :param update_time: epoch seconds of ``Update_Time``.
    """

    table: str
    day: int
    index: int
    create_time: float
    update_time: float


def _digest(*parts: object) -> int:
    text = ":".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def rows_on_day(table: str, day: int) -> int:
    """How many rows ``table`` has on a UTC day (deterministic, 3..40)."""
    span = MAX_ROWS_PER_DAY - MIN_ROWS_PER_DAY + 1
    return MIN_ROWS_PER_DAY + _digest(table, day) % span


def iter_rows(table: str, start: float, end: float, now: float) -> Iterator[SampleRow]:
    """Rows created on the days overlapping ``[start, end)``, limited to the history before ``now``."""
    first_day = max(int(start // DAY) - 1, int(now // DAY) - HISTORY_DAYS)
    last_day = min(int(end // DAY), int(now // DAY))
    for day in range(first_day, last_day + 1):
        count = rows_on_day(table, day)
        for index in range(count):
            created = day * DAY + (index + 0.5) * DAY / count
            # Updates come 0-47 h after creation, so Update_Time windows differ from Create_Time ones.
            updated = created + (_digest(table, day, index) % (48 * 3600))
            if created < now:
                yield SampleRow(table, day, index, created, min(updated, now))


def count_rows(table: str, delta_column: str, start: float, end: float, now: float) -> int:
    """Rows whose ``delta_column`` lies in ``[start, end)`` and not after ``now``."""
    total = 0
    for row in iter_rows(table, start - 2 * DAY, end, now):
        value = row.create_time if delta_column == "Create_Time" else row.update_time
        if start <= value < end and value <= now:
            total += 1
    return total


def row_values(row: SampleRow) -> dict[str, object]:
    """All columns of a row, as a source system would hand them over."""
    import datetime

    def iso(seconds: float) -> str:
        return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc).isoformat()

    product = f"P-{row.day:05d}-{row.index:02d}"
    return {
        "Product_Id": product,
        "Product_Name": f"Product {product}",
        "Description": f"Sample catalog product {product}",
        "Type": ("DIGITAL", "PHYSICAL", "SERVICE")[_digest(product) % 3],
        "Create_Time": iso(row.create_time),
        "Update_Time": iso(row.update_time),
    }
