"""The province map's layout and bands: every region of the reference data has one tile of its own,
and each measure sorts a region's facts into one of its legend's bands."""
from __future__ import annotations

import pytest

from shared.reference import default_reference

from services.portal.domain import tilemap


def test_every_region_has_a_tile_and_no_two_tiles_overlap():
    assert set(tilemap.GRID) == set(default_reference().regions)
    assert len(set(tilemap.GRID.values())) == len(tilemap.GRID) == 28
    placed = tilemap.tiles({}, tilemap.measure(None))
    width, height = tilemap.size()
    assert all(0 <= t.x and t.x + tilemap.TILE <= width and 0 <= t.y and t.y + tilemap.TILE <= height for t in placed)


@pytest.mark.parametrize("facts, band", [
    ({"status": "on_time"}, "good"), ({"status": "late"}, "fair"), ({"status": "missing"}, "bad"),
    ({"status": "awaiting"}, "none"), ({}, "none")])
def test_the_report_measure_bands_each_state(facts, band):
    assert tilemap.MEASURES["report"].band_of(facts) == band


@pytest.mark.parametrize("total, band", [("90.00", "good"), ("89.99", "fair"), ("75", "fair"), ("60.00", "poor"),
                                         ("59.99", "bad"), (None, "none"), ("not a number", "none")])
def test_the_score_measure_follows_the_grades_of_spec_6(total, band):
    assert tilemap.MEASURES["score"].band_of({"total": total}) == band


@pytest.mark.parametrize("count, band", [(0, "good"), (1, "fair"), (2, "fair"), (3, "poor"), (9, "poor"), (10, "bad")])
def test_count_measures_band_by_how_many(count, band):
    assert tilemap.MEASURES["overdue"].band_of({"overdue": count}) == band
    assert tilemap.MEASURES["tips"].band_of({"tips_open": count}) == band
    assert tilemap.MEASURES["tips"].value_of({"tips_open": count}) == str(count)


def test_every_band_a_measure_gives_is_in_its_legend_and_an_unknown_measure_is_the_default():
    samples = [{"status": s, "total": t, "overdue": n, "tips_open": n}
               for s in ("on_time", "late", "missing", "awaiting") for t in ("95", "80", "65", "10", None)
               for n in (0, 1, 5, 20)]
    for measure in tilemap.MEASURES.values():
        legend = {band.key for band in measure.bands}
        assert {measure.band_of(facts) for facts in samples} <= legend, measure.key
    assert tilemap.measure("<script>").key == tilemap.DEFAULT_MEASURE
