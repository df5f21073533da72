"""The training engine: events, determinism, stop/pause, divergence, schedules, real accuracy."""

import threading

import pytest
import torch

from nnplay.config import PRESETS, ModelConfig, TrainConfig
from nnplay.engine import (EpochMetrics, LayerStats, RunControl, RunEnd, RunStart, StepEvent, evaluate,
                           pick_device, seeded_model, train)


def quick(**kw) -> TrainConfig:
    return TrainConfig(**{"epochs": 1, "batch_size": 100, **kw})


def test_one_epoch_reports_every_kind_of_event(tiny_data):
    events = []
    result = train(seeded_model(ModelConfig(hidden=(32,)), 0), tiny_data, quick(), on_event=events.append)
    kinds = [type(e) for e in events]
    assert kinds[0] is RunStart and kinds[-1] is RunEnd
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert [s.step for s in steps] == list(range(1, 21))  # 2000 images / 100
    assert sum(isinstance(e, LayerStats) for e in events) == 2  # lin_1 and lin_2
    (epoch,) = [e for e in events if isinstance(e, EpochMetrics)]
    assert epoch.device == result.device  # the device "auto" picked: a GPU's where there is one
    assert epoch.device.startswith("CUDA: " if torch.cuda.is_available() else ("CPU", "MPS"))
    assert epoch.seconds > 0 and epoch.samples_per_s > 0
    assert 0.3 < epoch.test_accuracy <= 1 and result.status == "finished"
    stats = result.history.layer_stats[0]
    assert sum(stats.weight_hist[0]) == 32 * 784 and len(stats.weight_hist[1]) == 31
    assert stats.grad_norm > 0


def test_same_seed_same_numbers_on_cpu(tiny_data):
    def losses(seed):
        cfg = ModelConfig(hidden=(32,), dropout=0.3)
        return [s.loss for s in train(seeded_model(cfg, seed), tiny_data, quick(seed=seed)).history.steps]

    assert losses(3) == losses(3)
    assert losses(3) != losses(4)


def test_stop_keeps_the_model_trained_so_far(tiny_data):
    control = RunControl()

    def listener(event):
        if isinstance(event, StepEvent) and event.step == 5:
            control.stop()

    model = seeded_model(ModelConfig(hidden=(32,)), 0)
    before = model.lin_1.weight.detach().clone()
    result = train(model, tiny_data, quick(log_every=5, epochs=3), on_event=listener, control=control)
    assert result.status == "stopped" and "stopped at step 5" in result.message
    assert not torch.equal(before, model.lin_1.weight.detach().cpu())  # trained on a GPU where there is one
    assert len(result.history.epochs) == 1  # the partial epoch is still reported


@pytest.mark.slow
def test_pause_and_resume(tiny_data):
    control = RunControl()
    control.pause()
    result = {}
    thread = threading.Thread(target=lambda: result.update(r=train(
        seeded_model(ModelConfig(hidden=(16,)), 0), tiny_data, quick(), control=control)))
    thread.start()
    thread.join(0.5)
    assert thread.is_alive() and control.paused  # waiting, not training
    control.resume()
    thread.join(30)
    assert result["r"].status == "finished"


def test_exploding_loss_is_diverged_not_an_exception(tiny_data):
    result = train(seeded_model(PRESETS["seed-mlp"].model, 0), tiny_data, quick(optimizer="sgd", lr=10.0))
    assert result.status == "diverged"
    assert result.message.startswith("diverged at step ")
    step = int(result.message.split()[3].rstrip(":"))
    assert [s.step for s in result.history.steps] == list(range(1, step))
    assert result.history.end.status == "diverged"


def test_nan_loss_is_diverged(tiny_data):
    model = seeded_model(ModelConfig(hidden=(8,), init="constant", init_value=1e38, activation="identity"), 0)
    result = train(model, tiny_data, quick())
    assert result.status == "diverged" and "diverged at step 1" in result.message


@pytest.mark.parametrize("schedule", ["step", "cosine", "onecycle"])
def test_schedules_change_the_learning_rate(tiny_data, schedule):
    result = train(seeded_model(ModelConfig(hidden=(16,)), 0), tiny_data,
                   quick(schedule=schedule, epochs=2, optimizer="sgd", lr=0.1, momentum=0.9))
    lrs = [s.lr for s in result.history.steps]
    assert result.status == "finished" and max(lrs) > min(lrs)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop"])
def test_every_optimizer_learns(tiny_data, optimizer):
    lr = 0.1 if optimizer == "sgd" else 3e-3
    result = train(seeded_model(ModelConfig(hidden=(32,)), 0), tiny_data,
                   quick(optimizer=optimizer, lr=lr, batch_size=32, epochs=2))
    assert result.history.epochs[-1].test_accuracy > 0.75


@pytest.mark.slow
def test_cnn_trains_a_little(tiny_data):
    cfg = ModelConfig(family="cnn", channels=(4, 8, 8), fc_width=32, dropout=0.5, init="xavier")
    small = tiny_data.limited(500, 200)
    model = seeded_model(cfg, 0)
    before = evaluate(model, small.test_images, small.test_labels).loss
    result = train(model, small, quick(batch_size=25, epochs=2, lr=3e-3))
    assert result.status == "finished" and result.history.epochs[-1].test_loss < before


def test_evaluate_restores_training_mode(tiny_data):
    model = seeded_model(ModelConfig(hidden=(16,), dropout=0.5), 0)
    model.train()
    ev = evaluate(model, tiny_data.test_images, tiny_data.test_labels, batch_size=128, keep_probabilities=True)
    assert model.training and ev.predictions.shape == (500,) and ev.probabilities.shape == (500, 10)
    assert torch.allclose(ev.probabilities.sum(1), torch.ones(500), atol=1e-5)


def test_device_choice():
    assert pick_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="not available"):
            pick_device("cuda")


def test_bad_train_configs_say_why():
    for kwargs, match in [(dict(lr=0), "learning rate"), (dict(epochs=0), "at least 1 epoch"),
                          (dict(batch_size=0), "batch size"), (dict(nesterov=True), "nesterov")]:
        with pytest.raises(ValueError, match=match):
            TrainConfig(**kwargs)


@pytest.mark.slow
def test_one_epoch_of_seed_mlp_on_real_mnist(full_data):
    preset = PRESETS["seed-mlp"]
    result = train(seeded_model(preset.model, 0), full_data, TrainConfig(epochs=1))
    (epoch,) = result.history.epochs
    assert epoch.test_accuracy >= 0.94  # seed 000 prints test_accr 0.945 after its first epoch
    assert abs(epoch.train_loss - 0.380) < 0.05  # and loss 0.380


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_cuda_path_trains_and_reports_the_gpu(tiny_data):
    result = train(seeded_model(ModelConfig(hidden=(32,)), 0), tiny_data, quick(device="cuda"))
    assert result.status == "finished" and result.device.startswith("CUDA: ")
    assert next(result.model.parameters()).is_cuda
    assert result.history.epochs[0].test_accuracy > 0.3


@pytest.mark.slow
def test_a_network_that_starts_high_is_not_called_diverged(tiny_data):
    # N(0, 1) weights give first losses in the hundreds; that is where it starts, not a divergence
    cfg = ModelConfig(hidden=(256, 256), init="normal", init_std=1.0)
    result = train(seeded_model(cfg, 0), tiny_data, quick(lr=1e-3))
    assert result.history.steps[0].loss > 100 and result.status == "finished"


@pytest.mark.slow
def test_a_one_epoch_run_says_one_epoch(tiny_data):
    """Its message reads "finished 1 epoch" (the sweep CLI's JSON lines and the runs table show it)."""
    result = train(seeded_model(ModelConfig(hidden=(8,)), 0), tiny_data, quick(epochs=1))
    assert result.status == "finished" and result.message == "finished 1 epoch"
    result = train(seeded_model(ModelConfig(hidden=(8,)), 0), tiny_data, quick(epochs=2))
    assert result.message == "finished 2 epochs"
