"""The benchmark scripts' table formatting (no benchmark is run here)."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def transcription():
    spec = importlib.util.spec_from_file_location("transcription_bench", ROOT / "benchmarks" / "transcription.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_unplayed_class_is_not_applicable_not_zero(transcription):
    # the kick/snare/hi-hat-only table: toms are separated (scored 0.0 against an empty
    # reference by mir_eval) but never played, so their cell says "not applicable"
    rows = [{"kick": (1.0, 1.0, 1.0), "toms": (0.0, 0.0, 0.0)},
            {"kick": (0.5, 0.25, 1.0), "toms": (0.0, 0.0, 0.0)}]
    played = {"kick"}
    assert transcription.table_cell(rows, "toms", played) == transcription.NOT_APPLICABLE == "–"
    assert transcription.table_cell(rows, "kick", played) == "0.750 (0.62 / 1.00)"
