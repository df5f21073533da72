"""Step mode of ``nnplay.engine.RunControl``: one batch per ``step()`` while paused, or a slow rate.

What lives here: a real (tiny) run started paused in a thread, stepped call by call, with every
step's ``StepEvent`` counted (``log_every=1``); the rate limit; bad arguments. What does not: the
rest of the engine (``tests/test_engine.py``), the Train page's step button (wired later).
"""

from __future__ import annotations

import queue
import threading
import time

import pytest

from nnplay.config import ModelConfig, TrainConfig
from nnplay.engine import RunControl, StepEvent, seeded_model, train


def start_paused(data, control: RunControl, **cfg):
    """Train in a thread from a paused control; return (thread, queue of step numbers, result dict)."""
    steps: queue.Queue[int] = queue.Queue()
    result: dict = {}

    def on_event(event) -> None:
        if isinstance(event, StepEvent):
            steps.put(event.step)

    config = TrainConfig(**{"epochs": 1, "batch_size": 100, "log_every": 1, "seed": 0, **cfg})
    thread = threading.Thread(target=lambda: result.update(r=train(
        seeded_model(ModelConfig(hidden=(16,)), 0), data, config, on_event=on_event, control=control)))
    thread.start()
    return thread, steps, result


@pytest.mark.slow
def test_each_step_call_trains_exactly_one_batch(tiny_data):
    control = RunControl()
    control.pause()
    thread, steps, result = start_paused(tiny_data, control)
    try:
        with pytest.raises(queue.Empty):
            steps.get(timeout=0.3)  # paused: no step at all
        for expected in (1, 2, 3):
            control.step()
            assert steps.get(timeout=30) == expected
            with pytest.raises(queue.Empty):
                steps.get(timeout=0.3)  # and not one more
            assert control.pending_steps == 0 and control.paused
        control.step(2)
        assert [steps.get(timeout=30), steps.get(timeout=30)] == [4, 5]
        with pytest.raises(queue.Empty):
            steps.get(timeout=0.3)
        control.resume()  # then full speed to the end
        thread.join(60)
        assert result["r"].status == "finished"
        assert [e.step for e in result["r"].history.steps] == list(range(1, 21))  # 2,000 images / 100
    finally:
        control.stop()
        thread.join(30)


@pytest.mark.slow
def test_rate_limit_spaces_the_steps_and_full_speed_lifts_it(tiny_data):
    control = RunControl()
    control.set_rate(20.0)  # 20 steps a second: 10 steps take at least 0.45 s
    assert control.rate == 20.0
    thread, steps, result = start_paused(tiny_data, control)
    try:
        t0 = time.perf_counter()
        for _ in range(10):
            steps.get(timeout=30)
        assert time.perf_counter() - t0 >= 0.4
        control.set_rate(None)
        thread.join(60)
        assert result["r"].status == "finished"
    finally:
        control.stop()
        thread.join(30)


def test_stop_wakes_a_paused_or_slowed_run(tiny_data):
    control = RunControl()
    control.pause()
    control.set_rate(0.01)  # one step per 100 s
    thread, steps, result = start_paused(tiny_data, control)
    control.step()
    assert steps.get(timeout=30) == 1
    control.stop()
    thread.join(30)
    assert not thread.is_alive() and result["r"].status == "stopped"


def test_bad_rate_and_step_count_say_why():
    control = RunControl()
    with pytest.raises(ValueError, match="steps_per_second"):
        control.set_rate(0)
    with pytest.raises(ValueError, match="n ≥ 1"):
        control.step(0)
