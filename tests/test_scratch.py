"""Tests for ``nnplay.lessons.scratch``: seed 004's six versions of one regression.

What lives here: in the same-math mode all six loss curves agree to 1e-6 (float64, same data
and starting weights); run as the seed wrote them, the curves change exactly where
``SEED_DIFFERENCES`` says they do; the seed's lr = 1e-6 makes no visible progress where the
progress check says so, and the suggested rates do; the displayed code is the cleaned seed
code and runs.
What does not live here: the /scratch page (``tests/test_pages_teach.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

from nnplay.lessons.scratch import (DIN, DOUT, N, SAME_MATH, SEED_DIFFERENCES, SEED_FIXES, SEED_LR, SEED_RECIPES,
                            STEPS, VERSIONS, Recipe, cached_curve, make_problem, relative_drop, run_ladder, run_version,
                            suggested_lr, visible_progress)


@pytest.fixture(scope="module")
def problem():
    return make_problem(seed=0)


@pytest.fixture(scope="module")
def seed_curves(problem):
    """Every version as the seed wrote it: 5000 steps at lr 1e-6 (the /scratch page's default,
    so its test reuses these curves from the process cache)."""
    curves = {n: list(cached_curve(n, 0, STEPS, SEED_LR, None)) for n in VERSIONS}  # the page's call
    assert list(cached_curve(4, 0, 50, SEED_LR)) == run_version(4, problem, 50, SEED_LR)  # same numbers
    return curves


def test_the_seed_problem(problem):
    assert (N, DIN, DOUT, STEPS, SEED_LR) == (64, 4, 2, 5000, 1e-6)
    assert problem.x.shape == (64, 4) and problem.y.shape == (64, 2) and problem.w.shape == (4, 2)
    assert problem.x.dtype == np.float64


@pytest.mark.slow
@pytest.mark.parametrize("recipe", [SAME_MATH, Recipe(bias=True, loss="mean"), Recipe(bias=True, loss="half_sum")],
                         ids=["seed-1-math", "seed-4-math", "bias-sum"])
def test_same_math_gives_identical_curves(problem, recipe):
    curves = run_ladder(problem, steps=300, lr=suggested_lr(recipe), same_math=recipe)
    reference = np.array(curves[1])
    assert relative_drop(curves[1]) > 0.5  # the curve actually moves
    for number, curve in curves.items():
        assert len(curve) == 300
        np.testing.assert_allclose(curve, reference, rtol=0, atol=1e-6, err_msg=f"version {number}")


@pytest.mark.slow
def test_same_math_at_the_seed_rate(problem):
    curves = run_ladder(problem, steps=200, lr=SEED_LR, same_math=SAME_MATH)
    for curve in curves.values():
        np.testing.assert_allclose(curve, curves[1], rtol=0, atol=1e-6)


def test_seed_recipes_are_faithful():
    assert all(SEED_RECIPES[n] == Recipe(bias=False, loss="half_sum", optimizer="sgd") for n in (1, 2, 3))
    assert SEED_RECIPES[4] == Recipe(bias=True, loss="mean", optimizer="sgd")
    assert SEED_RECIPES[5] == SEED_RECIPES[6] == Recipe(bias=True, loss="mean", optimizer="adam")


@pytest.mark.slow
def test_seed_curves_change_where_the_seed_changes_things(seed_curves):
    assert set(seed_curves) == set(VERSIONS)
    assert all(len(c) == STEPS and np.all(np.isfinite(c)) for c in seed_curves.values())
    assert [(d.from_version, d.to_version) for d in SEED_DIFFERENCES] == [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6)]
    for diff in SEED_DIFFERENCES:
        a, b = np.array(seed_curves[diff.from_version]), np.array(seed_curves[diff.to_version])
        gap = np.abs(a - b).max()
        if diff.changes_curve:
            assert gap > 1e-6, f"{diff.from_version}→{diff.to_version} should change the curve"
        else:
            assert gap < 1e-6, f"{diff.from_version}→{diff.to_version} should not change the curve"


@pytest.mark.slow
def test_mean_loss_reads_64_times_smaller(seed_curves):
    """With b = 0 at the start: mean over N·Dout = 128 vs half the sum: a factor 64."""
    assert seed_curves[3][0] / seed_curves[4][0] == pytest.approx(N * DOUT / 2)


@pytest.mark.slow
def test_seed_rate_progress_is_what_the_check_reports(seed_curves):
    # The mean-loss versions (4-6) barely move in 5000 steps at lr 1e-6 ...
    for number in (4, 5, 6):
        assert relative_drop(seed_curves[number]) < 0.01
        assert not visible_progress(seed_curves[number])
    # ... while the sum loss of versions 1-3 has 64x larger gradients and does move.
    for number in (1, 2, 3):
        assert visible_progress(seed_curves[number])


@pytest.mark.slow
@pytest.mark.parametrize("number", VERSIONS)
def test_suggested_rate_makes_visible_progress(problem, number):
    recipe = SEED_RECIPES[number]
    curve = run_version(number, problem, steps=300, lr=suggested_lr(recipe))
    assert np.all(np.isfinite(curve))
    assert visible_progress(curve) and relative_drop(curve) > 0.3
    assert suggested_lr(recipe) >= 1e-2


def test_progress_check():
    assert not visible_progress([100.0, 99.5])
    assert visible_progress([100.0, 98.0])
    assert not visible_progress([100.0, float("nan")])
    assert not visible_progress([100.0, 1e9])  # diverging is not progress


@pytest.mark.parametrize("number", VERSIONS)
def test_displayed_code_is_cleaned_and_runs(number):
    code = VERSIONS[number].code
    statements = "\n".join(line.split("#")[0] for line in code.splitlines())  # comments may cite the typos
    assert "matnul" not in statements and "grad_W" not in statements
    compile(code, f"version_{number}", "exec")
    namespace: dict = {}
    exec(code.replace("range(5000)", "range(20)"), namespace)
    assert len(namespace["losses"]) == 20
    assert np.all(np.isfinite(np.asarray(namespace["losses"], dtype=float)))


def test_the_seed_fixes_are_in_the_displayed_code():
    assert "np.matmul(np.transpose(x), grad_y_pred)" in VERSIONS[1].code
    assert "w -= lr * grad_w" in VERSIONS[2].code
    assert "requires_grad=True" in VERSIONS[3].code
    assert "with torch.no_grad():" in VERSIONS[4].code
    assert "torch.optim.Adam" in VERSIONS[5].code and "torch.optim.Adam" in VERSIONS[6].code
    assert "class MyOneLayerNet(torch.nn.Module)" in VERSIONS[6].code
    assert {fix.version for fix in SEED_FIXES} == {1, 2, 3, 4}


def test_hand_written_updates_refuse_adam(problem):
    with pytest.raises(ValueError, match="plain gradient descent"):
        run_version(1, problem, steps=1, recipe=Recipe(optimizer="adam"))
    with pytest.raises(ValueError, match="plain gradient descent"):
        run_ladder(problem, steps=1, same_math=Recipe(optimizer="adam"))


def test_bad_arguments_are_refused(problem):
    with pytest.raises(ValueError, match="versions are 1 to 6"):
        run_version(7, problem)
    with pytest.raises(ValueError, match="positive"):
        run_version(1, problem, lr=0.0)
    with pytest.raises(ValueError, match="loss must be"):
        Recipe(loss="l1")


def test_displayed_code_follows_the_rate_and_steps():
    for number, version in VERSIONS.items():
        code = version.code_for(lr=0.05, steps=20)
        assert "1e-6" not in code and "range(5000)" not in code and "range(20)" in code
        assert "lr = 0.05" in code or "lr=0.05" in code
        namespace: dict = {}
        exec(code, namespace)
        assert len(namespace["losses"]) == 20
    assert VERSIONS[1].code_for() == VERSIONS[1].code  # the seed's own rate and steps: the seed's code


def test_agreement_needs_converging_curves_equal_to_rounding():
    from nnplay.lessons.scratch import agreement, diverged

    base = [10.0, 5.0, 2.5, 1.25]
    same = agreement({1: base, 2: [v * (1 + 1e-13) for v in base], 3: list(base)})
    assert same.agree and same.gap == pytest.approx(2.5e-13 * 4, rel=0.5) and not same.diverged
    off = agreement({1: base, 2: [v * 1.01 for v in base]})
    assert not off.agree and off.relative_gap == pytest.approx(0.01)
    blown = agreement({1: base, 2: [10.0, 1e100, 2.9e289, float("inf")], 3: base})
    assert blown.diverged == (2,) and not blown.agree
    assert diverged([1.0, 2.0]) and diverged([1.0, float("nan"), 0.5]) and not diverged(base)
