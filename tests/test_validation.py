"""The shared argument checks (nmfaudio._validation) and the one behaviour of
``random_state`` across the engine, separate() and the adapters."""

from __future__ import annotations

import numpy as np
import pytest

import nmfaudio
from nmfaudio._validation import as_generator, check_int, check_number, check_random_state
from nmfaudio.adapters import image, spikes


@pytest.mark.parametrize("value", [0, -3, 1.0, 2.5, True, np.bool_(True), "3", None],
                         ids=["0", "negative", "float 1.0", "float", "True", "numpy bool", "str", "None"])
def test_check_int_rejects_with_the_usual_message(value):
    with pytest.raises(ValueError, match=r"^n=.* must be an int >= 1$"):
        check_int(value, "n")


def test_check_int_accepts_numpy_ints_and_adds_the_example():
    assert check_int(np.int64(4), "n") == 4 and type(check_int(np.int64(4), "n")) is int
    assert check_int(0, "max_iter", 0) == 0
    with pytest.raises(ValueError, match=r"^learn_frames=0 must be an int >= 1 \(e.g. 20000\)$"):
        check_int(0, "learn_frames", example=20000)


@pytest.mark.parametrize("value, kwargs, message", [
    (-1, dict(minimum=0), "tol=-1 must be a finite number >= 0"),
    (0, dict(minimum=0, strict=True), "tol=0 must be a finite number > 0"),
    (float("nan"), {}, "tol=nan must be a finite number"),
    (float("inf"), dict(minimum=0), "tol=inf must be a finite number >= 0"),
    (True, {}, "tol=True must be a finite number"),
    ("1", dict(expected="a number of seconds > 0"), "tol='1' must be a number of seconds > 0"),
    (2, dict(minimum=0, maximum=1), "tol=2 must be a finite number >= 0 and <= 1"),
    (1, dict(maximum=1, strict_maximum=True), "tol=1 must be a finite number < 1"),
], ids=["below", "not above", "nan", "inf", "bool", "custom wording", "above", "not below"])
def test_check_number_messages(value, kwargs, message):
    with pytest.raises(ValueError) as info:
        check_number(value, "tol", **kwargs)
    assert str(info.value) == message


def test_check_number_returns_floats():
    assert check_number(np.float32(0.5), "x", minimum=0) == 0.5
    assert check_number(3, "x", minimum=0, strict=True) == 3.0
    assert check_number(1, "x", minimum=0, maximum=1) == 1.0  # the bounds themselves are allowed


def test_as_generator_accepts_the_four_kinds():
    generator = np.random.default_rng(1)
    assert as_generator(generator) is generator
    assert as_generator(5).random() == np.random.default_rng(5).random()
    assert isinstance(as_generator(None), np.random.Generator)
    # A RandomState gives one seed drawn from it: the same state, the same generator, and
    # the caller's RandomState advances.
    a, b = np.random.RandomState(3), np.random.RandomState(3)
    assert as_generator(a).random() == as_generator(b).random()
    assert a.randint(10**6) == b.randint(10**6)


@pytest.mark.parametrize("value", [True, 1.5, "0", [0]], ids=["bool", "float", "str", "list"])
def test_as_generator_rejects_anything_else(value):
    message = r"must be None, an int, a numpy Generator or a numpy RandomState"
    with pytest.raises(ValueError, match=message):
        as_generator(value)
    with pytest.raises(ValueError, match=message):
        check_random_state(value)


@pytest.mark.parametrize("value", [-1, np.int64(-3)], ids=["int", "numpy int"])
def test_a_negative_seed_is_named(value):
    # numpy's own "expected non-negative integer" named no argument, from factorize,
    # separate, the adapters alike
    message = rf"random_state={int(value)} must be an int >= 0 \(a seed\)"
    with pytest.raises(ValueError, match=message):
        check_random_state(value)
    with pytest.raises(ValueError, match=message):
        nmfaudio.factorize(np.ones((3, 3)), 1, random_state=value)
    assert as_generator(2**70).random() == as_generator(2**70).random()  # a large seed stays a seed


def test_check_random_state_does_not_draw():
    state = np.random.RandomState(0)
    before = state.get_state()[1].copy()
    assert check_random_state(state) is state
    np.testing.assert_array_equal(state.get_state()[1], before)


def _random_state_users(random_state):
    """The public functions that take random_state, each on a tiny input."""
    V = np.random.default_rng(0).random((12, 10))
    stack = np.random.default_rng(1).random((6, 4, 4))
    waveforms = np.random.default_rng(2).standard_normal((30, 16))
    return {
        "factorize": nmfaudio.factorize(V, 2, max_iter=5, random_state=random_state).W,
        "compress": image.compress(stack[0], 2, max_iter=5, random_state=random_state).W,
        "factorize_images": image.factorize_images(stack, 2, max_iter=5, random_state=random_state).W,
        "add_noise": image.add_noise(stack, 0.1, random_state=random_state),
        "cluster": spikes.cluster(waveforms, 2, max_iter=5, n_init=1, random_state=random_state).labels,
        "separate": nmfaudio.separate(np.sin(np.arange(4000) / 3.0).astype(np.float32), n_components=2,
                                      n_fft=256, hop_length=64, max_iter=5, random_state=random_state).W,
    }


@pytest.mark.filterwarnings("ignore::nmfaudio.ConvergenceWarning")  # 5 iterations on purpose
def test_random_state_is_one_behaviour_everywhere():
    """int, Generator and RandomState are accepted by the engine, separate() and the
    adapters, and the same RandomState state gives the same result."""
    by_int, again = _random_state_users(7), _random_state_users(7)
    for name, value in again.items():
        np.testing.assert_array_equal(value, by_int[name], err_msg=name)
    first = _random_state_users(np.random.RandomState(7))
    second = _random_state_users(np.random.RandomState(7))
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)
    generated = _random_state_users(np.random.default_rng(7))
    assert generated.keys() == by_int.keys()


def _results():
    """One small result of each public result type, with arrays larger than a REPL shows."""
    from nmfaudio.drums.hit_results import ClassHits, DrumHits

    rng = np.random.default_rng(0)
    V = rng.random((40, 30))
    y = rng.uniform(-0.5, 0.5, (2, 8000)).astype(np.float32)
    times = np.sort(rng.uniform(0, 8, 50))
    kick = ClassHits("kick", 36, times, np.ones(50), np.full(50, 100))
    return {
        "NMFResult": (nmfaudio.factorize(V, 3, random_state=0, max_iter=20), "W=ndarray(shape=(40, 3)"),
        "Separation": (nmfaudio.separate(y, 8000, n_components=2, max_iter=5, random_state=0),
                       "components=ndarray(shape=(2, 2, 8000), dtype=float32)"),
        "CompressedImage": (image.compress(rng.random((30, 20)), 3, max_iter=5, random_state=0),
                            "W=ndarray(shape=(30, 3)"),
        "SpikeClustering": (spikes.cluster(rng.random((60, 2, 20)), 2, random_state=0),
                            "labels=ndarray(shape=(60,), dtype=int64)"),
        "ClassHits": (kick, "times=ndarray(shape=(50,), dtype=float64)"),
        "DrumHits": (DrumHits({"kick": kick}), "DrumHits(hits={'kick': 50}, bpm=120.0"),
    }


@pytest.mark.filterwarnings("ignore::nmfaudio.ConvergenceWarning")  # a few iterations are enough here
def test_results_repr_is_one_line_with_arrays_by_shape():
    """What a notebook shows for a result on its last line: one line naming each array's
    shape and dtype.  Before 2026-12-05 (tour10) the dataclasses' own repr printed the
    arrays (numpy's summaries of them): a Separation of the bundled loop 14,665
    characters, a SpikeClustering of the bundled spikes 4,268, DrumHits 3,131."""
    for name, (result, needle) in _results().items():
        text = repr(result)
        assert text.startswith(f"{name}(") and "\n" not in text and len(text) < 500, (name, text)
        assert needle in text and "array([" not in text, (name, text)
