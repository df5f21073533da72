"""Successive halving's decision on crafted histories: rungs at 1, η, η², …, the top ⌈n/η⌉ of the runs that
reached a rung go on, the rest stop with a sentence saying why."""

import math

import pytest

from nnplay.sweeps.halving import PREFIX, Halt, decide, rungs


def test_rungs_are_powers_of_eta_below_the_last_epoch():
    assert rungs(3, 10) == [1, 3, 9]
    assert rungs(3, 9) == [1, 3]  # a run's last epoch is no rung: it is done anyway
    assert rungs(2, 10) == [1, 2, 4, 8]
    assert rungs(3, 1) == []
    with pytest.raises(ValueError, match="η ≥ 2"):
        rungs(1, 10)


def test_the_first_run_at_a_rung_always_goes_on():
    assert decide({"a": [0.1]}, "a", eta=3, epochs=10) is None


def test_a_run_below_the_top_third_of_six_stops_with_the_sentence():
    curves = {"a": [0.90, 0.95], "b": [0.84], "c": [0.80], "d": [0.70], "e": [0.65], "f": [0.612]}
    halt = decide(curves, "f", eta=3, epochs=5)
    assert halt == Halt("f", 1, 0.612, 0.84, 6, 3)
    assert halt.sentence() == ("Stopped early by successive halving: at epoch 1 its test accuracy 61.2% was below "
                               "the top third (≥ 84.0%) of the 6 runs that reached epoch 1.")
    assert halt.sentence().startswith(PREFIX)
    # the second best of six is in the top third: it goes on; so is a tie with the cutoff
    assert decide(curves, "b", eta=3, epochs=5) is None
    assert decide({**curves, "g": [0.84]}, "g", eta=3, epochs=5) is None


def test_only_runs_that_reached_the_rung_count_and_only_at_a_rung():
    # "b" has finished epoch 2 only: epoch 2 is no rung for η=3, nothing is decided there
    assert decide({"a": [0.9, 0.95, 0.96], "b": [0.1, 0.2]}, "b", eta=3, epochs=10) is None
    # at epoch 3 (a rung), "c" is compared with "a" alone (the only other run that reached epoch 3)
    curves = {"a": [0.9, 0.95, 0.96], "b": [0.1, 0.2], "c": [0.5, 0.6, 0.7]}
    halt = decide(curves, "c", eta=3, epochs=10)
    assert halt is not None and (halt.epoch, halt.reached, halt.cutoff) == (3, 2, 0.96)
    # η=2 keeps the top half: of four runs at epoch 2, the best two
    curves = {"a": [0.5, 0.9], "b": [0.5, 0.8], "c": [0.5, 0.7], "d": [0.5, 0.75]}
    assert decide(curves, "d", eta=2, epochs=4).sentence().count("top half (≥ 80.0%) of the 4 runs") == 1
    assert decide(curves, "b", eta=2, epochs=4) is None


def test_no_rung_at_the_last_epoch_and_a_nan_ranks_last():
    curves = {"a": [0.9, 0.9, 0.9], "b": [0.1, 0.1, 0.1]}
    assert decide(curves, "b", eta=3, epochs=3) is None  # epoch 3 is its last: stopping it saves nothing
    halt = decide({"a": [0.5], "b": [math.nan]}, "b", eta=3, epochs=5)
    assert halt is not None and "not a number" in halt.sentence()


def test_asynchronous_arrivals_are_judged_against_those_before():
    """ASHA's asynchrony: the order of arrival matters; a weak run arriving first goes on, the same run
    arriving after two better ones stops."""
    assert decide({"weak": [0.3]}, "weak", eta=3, epochs=9) is None
    assert decide({"x": [0.9], "y": [0.8], "weak": [0.3]}, "weak", eta=3, epochs=9) is not None
