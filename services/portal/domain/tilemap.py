"""The province dashboard's schematic map: one square tile per region of Henan on a grid that keeps
each region roughly where it lies (north up, the directly-administered counties beside their
cities), drawn as SVG by the portal — no map service, no geometry to load. A measure the viewer
picks sorts each region into a band; the band gives the tile its colour and a legend entry, and the
tile also carries the value as text, so no meaning rests on colour alone."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable, Mapping


def N_(message: str) -> str:
    """Marks a message id for the catalogue; the page translates it."""
    return message


#: (column, row) of each region's tile: a schematic of Henan, north up.
GRID: dict[str, tuple[int, int]] = {
    "410500": (4, 0), "410900": (5, 0),                                   # 安阳 濮阳
    "419001": (2, 1), "410800": (3, 1), "410600": (4, 1), "410526": (5, 1),  # 济源 焦作 鹤壁 滑县
    "411200": (0, 2), "410300": (1, 2), "410181": (2, 2), "410700": (3, 2), "410728": (4, 2),  # 三门峡 洛阳 巩义 新乡 长垣
    "410482": (1, 3), "410100": (2, 3), "410200": (3, 3), "410225": (4, 3), "411400": (5, 3), "411481": (6, 3),
    "411300": (0, 4), "410400": (1, 4), "411000": (2, 4), "411100": (3, 4), "411600": (4, 4), "411628": (5, 4),
    "411381": (0, 5), "411700": (3, 5), "411729": (4, 5),                  # 邓州 驻马店 新蔡
    "411500": (3, 6), "411525": (4, 6),                                    # 信阳 固始
}
TILE, GAP, PAD = 92, 6, 4


@dataclass(frozen=True)
class Band:
    key: str  # the CSS class suffix: band-<key>
    label: str  # a catalogue message id


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    bands: tuple[Band, ...]
    band_of: Callable[[dict], str]  # a region's facts -> the key of its band
    value_of: Callable[[dict], str]  # a region's facts -> the text on its tile (untranslated parts only)


def _score_band(facts: dict) -> str:
    total = _decimal(facts.get("total"))
    if total is None:
        return "none"
    return "good" if total >= 90 else "fair" if total >= 75 else "poor" if total >= 60 else "bad"


def _count_band(name: str) -> Callable[[dict], str]:
    def band(facts: dict) -> str:
        count = int(facts.get(name) or 0)
        return "good" if count == 0 else "fair" if count <= 2 else "poor" if count <= 9 else "bad"
    return band


_COUNT_BANDS = (Band("good", N_("None")), Band("fair", N_("1 to 2")), Band("poor", N_("3 to 9")),
                Band("bad", N_("10 or more")))

MEASURES: dict[str, Measure] = {m.key: m for m in (
    Measure("report", N_("Report state"),
            (Band("good", N_("Filed on time")), Band("fair", N_("Filed late")), Band("none", N_("Not yet filed")),
             Band("bad", N_("Missing"))),
            lambda f: {"on_time": "good", "late": "fair", "missing": "bad"}.get(f.get("status") or "", "none"),
            lambda f: ""),
    Measure("score", N_("Assessment total"),
            (Band("good", N_("Excellent (90 and above)")), Band("fair", N_("Good (75 and above)")),
             Band("poor", N_("Pass (60 and above)")), Band("bad", N_("Fail (below 60)")),
             Band("none", N_("Not assessed"))),
            _score_band, lambda f: str(f.get("total") or "")),
    Measure("overdue", N_("Overdue items"), _COUNT_BANDS, _count_band("overdue"), lambda f: str(f.get("overdue") or 0)),
    Measure("tips", N_("Tips open"), _COUNT_BANDS, _count_band("tips_open"), lambda f: str(f.get("tips_open") or 0)),
)}
DEFAULT_MEASURE = "report"


def measure(key: str | None) -> Measure:
    """The measure asked for, or the default one for anything else."""
    return MEASURES.get(key or "", MEASURES[DEFAULT_MEASURE])


@dataclass(frozen=True)
class Tile:
    region: str
    x: int
    y: int
    band: str
    value: str


def tiles(facts: Mapping[str, dict], chosen: Measure) -> list[Tile]:
    """A tile per region of the grid, in code order, placed and banded by ``chosen``."""
    placed = []
    for code in sorted(GRID):
        column, row = GRID[code]
        found = facts.get(code, {})
        placed.append(Tile(code, PAD + column * (TILE + GAP), PAD + row * (TILE + GAP), chosen.band_of(found),
                           chosen.value_of(found)))
    return placed


def size() -> tuple[int, int]:
    """The drawing's width and height in SVG units."""
    columns = max(x for x, _ in GRID.values()) + 1
    rows = max(y for _, y in GRID.values()) + 1
    return 2 * PAD + columns * TILE + (columns - 1) * GAP, 2 * PAD + rows * TILE + (rows - 1) * GAP


def _decimal(text) -> Decimal | None:
    try:
        return Decimal(str(text)) if text not in (None, "") else None
    except InvalidOperation:
        return None
