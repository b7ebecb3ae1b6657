"""benchmarks/sections.py's songs that change groove: the sections' notes, lengths and grooves
(composition only: nothing is rendered)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import sections  # noqa: E402


@pytest.mark.parametrize("pattern", ["hrh", "rhr", "hh"])
def test_sections_join_their_grooves_at_one_tempo(pattern):
    song = sections.compose_sections(3, pattern, bars=4)
    length = 4 * 4 * 60.0 / song["bpm"]  # four bars of 4/4
    assert 90.0 <= song["bpm"] <= 140.0
    assert song["seconds"] == pytest.approx(len(pattern) * length, rel=1e-12)
    assert [round(start / length, 9) for start, _, _ in song["sections"]] == list(range(len(pattern)))
    times = [t for t, _, _ in song["notes"]]
    assert times == sorted(times) and 0.0 <= times[0] and times[-1] < song["seconds"]
    for (start, end, style), letter in zip(song["sections"], pattern):
        assert (style == "ride") == (letter == "r")
        rides = [role for t, role, _ in song["notes"] if start <= t < end and role == "ride"]
        # a ride groove keeps time on the ride (eighths, less the fills and bells: at least a
        # stroke a beat); a hat groove plays the ride at most as an accent
        assert (len(rides) >= 4 * 4) if letter == "r" else (len(rides) <= 4)


def test_sections_are_seeded_and_a_bad_pattern_is_named():
    first, again = sections.compose_sections(5, "hrh"), sections.compose_sections(5, "hrh")
    assert first["notes"] == again["notes"] and first["bpm"] == again["bpm"]
    assert not np.isclose(sections.compose_sections(6, "hrh")["bpm"], first["bpm"])
    with pytest.raises(ValueError, match="pattern 'hxh'"):
        sections.compose_sections(0, "hxh")
