"""Issue 25's knobs: batch norm, pooling and LeNet-5, the mse loss, max-norm and augmentation, in the models,
the engine, the network view, Inspect, the exports, checkpoints, links, the CLI and sweeps.

What does not live here: the generated training script repeating them step for step
(tests/test_export_script.py's knob cases), the Train page's controls (tests/test_page_knobs.py).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from torch import nn

from nnplay import augment
from nnplay.checkpoint import checkpoint_bytes, load_checkpoint
from nnplay.cli import main
from nnplay.codec import from_query, parse_value, to_query
from nnplay.config import PRESETS, ConfigError, ModelConfig, TrainConfig
from nnplay.data import normalise
from nnplay.engine import RunControl, batch_loss, evaluate, seeded_model, train
from nnplay.export import export_onnx, export_safetensors, export_torchscript, load_safetensors, onnx_logits
from nnplay.figures.inspect import augmented_figure
from nnplay.figures.network import cnn_figure, cnn_stages, network_figure
from nnplay.lessons import neurons
from nnplay.models import build_model, count_parameters, describe, folded_linear, layer_table, weight_layers
from nnplay.sweeps.plan import Axis, SweepPlan, largest_run

BN_MLP = ModelConfig(hidden=(32, 16), batch_norm=True)
BN_CNN = dataclasses.replace(PRESETS["lenet-5"].model, batch_norm=True)
QUICK = TrainConfig(epochs=1, batch_size=100, device="cpu", seed=1)


@pytest.fixture(scope="module")
def bn_models(tiny_data):
    """An MLP and LeNet-5 with batch norm, trained one epoch: their running statistics are not the init's."""
    out = {}
    for name, cfg, limit in (("mlp", BN_MLP, 2000), ("cnn", BN_CNN, 400)):
        model = seeded_model(cfg, 1)
        result = train(model, tiny_data.limited(limit, 200), QUICK)
        assert result.status == "finished", result.message
        out[name] = (model.eval(), cfg)
    return out


# ---------------------------------------------------------------------------------------------
# batch norm


def test_batch_norm_sits_after_each_hidden_layer_before_its_activation():
    rows = [(r.name, r.kind) for r in layer_table(BN_MLP)]
    assert rows[2:7] == [("lin_1", "Linear"), ("bn_1", "BatchNorm1d"), ("act_1", "relu"), ("lin_2", "Linear"),
                         ("bn_2", "BatchNorm1d")]
    assert rows[-1] == ("lin_3", "Linear")  # none after the output layer
    model = build_model(BN_MLP)
    names = [n for n, _ in model.named_children()]
    assert names == ["flatten", "lin_1", "bn_1", "act_1", "lin_2", "bn_2", "act_2", "lin_3"]
    assert isinstance(model.bn_1, nn.BatchNorm1d) and model.bn_1.num_features == 32
    for cfg in (BN_MLP, BN_CNN, PRESETS["lenet-5"].model, PRESETS["seed-cnn"].model):
        assert sum(r.params for r in layer_table(cfg)) == count_parameters(build_model(cfg))
    cnn = build_model(BN_CNN)
    assert isinstance(cnn.bn_1, nn.BatchNorm2d) and isinstance(cnn.bn_fc_2, nn.BatchNorm1d)
    assert [n for n, _ in weight_layers(cnn)] == ["conv_1", "conv_2", "fc_1", "fc_2", "fc_3"]
    assert describe(BN_MLP).endswith(" bn") and not describe(ModelConfig()).endswith(" bn")


@pytest.mark.slow
def test_evaluation_uses_the_running_statistics(bn_models, tiny_data):
    model, _ = bn_models["mlp"]
    images, labels = tiny_data.test_images[:300], tiny_data.test_labels[:300]
    whole = evaluate(model, images, labels, batch_size=4096, keep_probabilities=True)
    one_by_one = evaluate(model, images, labels, batch_size=1, keep_probabilities=True)
    torch.testing.assert_close(whole.probabilities, one_by_one.probabilities, atol=1e-5, rtol=0)  # batch-free
    assert model.training is False
    model.train()  # in training mode the batch's own statistics differ from the running ones
    with torch.no_grad():
        batch_stats = model(normalise(images)).softmax(1)
    model.eval()
    assert (batch_stats - whole.probabilities).abs().max() > 1e-3


def test_a_batch_of_one_image_is_refused_and_a_last_one_joins_the_batch_before(tiny_data):
    with pytest.raises(ConfigError, match="at least 2 images per batch") as err:
        train(seeded_model(BN_MLP, 0), tiny_data.limited(50, 20), dataclasses.replace(QUICK, batch_size=1))
    assert err.value.field == "batch_size"
    result = train(seeded_model(BN_MLP, 0), tiny_data.limited(201, 20), QUICK)  # 100 + 101, not 100 + 100 + 1
    assert result.status == "finished" and result.history.start.steps_per_epoch == 2
    assert result.history.epochs[-1].step == 2
    plain = train(seeded_model(ModelConfig(hidden=(8,)), 0), tiny_data.limited(201, 20), QUICK)
    assert plain.history.start.steps_per_epoch == 3  # without batch norm nothing changes


def test_the_network_view_folds_batch_norm_into_the_weights(bn_models, tiny_data):
    model, _ = bn_models["mlp"]
    digit = tiny_data.test_images[0].numpy()
    run = neurons.mlp_forward(model, digit)  # numpy, from the folded weights
    with torch.no_grad():
        logits = model(normalise(tiny_data.test_images[:1])).double()[0].numpy()
    np.testing.assert_allclose(run.logits, logits, atol=1e-4)
    (name, w, b), *_ = folded_linear(model)
    assert name == "lin_1" and not torch.equal(w, model.lin_1.weight.detach())  # the scale of bn_1 is in it
    fig = network_figure(model, digit)
    hidden = next(t for t in fig.data if t.name == "hidden 1")
    np.testing.assert_allclose(hidden.customdata[:, 1], run.values[1][hidden.customdata[:, 0].astype(int)], atol=1e-9)


def test_the_network_view_draws_lenet_with_batch_norm(bn_models, tiny_data):
    model, _ = bn_models["cnn"]
    digit = tiny_data.test_images[1].numpy()
    stages = cnn_stages(model, digit)
    assert set(stages) == {"act_1", "act_2", "act_fc", "output"} and stages["act_fc"].shape == (84,)
    fig = cnn_figure(model, digit)
    fc = next(t for t in fig.data if t.name == "fc")
    assert len(fc.x) == 64  # the first page of the 84 units before the output
    assert any("fc 2 (84)" in a.text for a in fig.layout.annotations)
    np.testing.assert_allclose(fc.customdata[:, 1], stages["act_fc"][fc.customdata[:, 0].astype(int)])


@pytest.mark.slow
@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_batch_norm_exports_and_round_trips(bn_models, tiny_data, tmp_path, family):
    model, cfg = bn_models[family]
    images = normalise(tiny_data.test_images[:64])
    with torch.no_grad():
        reference = model(images)
    scripted = torch.jit.load(str(export_torchscript(model, tmp_path / "m.pt")))
    torch.testing.assert_close(scripted(images), reference, atol=1e-5, rtol=0)
    loaded, loaded_cfg, _ = load_checkpoint(checkpoint_bytes(model, cfg))
    assert loaded_cfg == cfg and not loaded.training
    torch.testing.assert_close(loaded(images), reference, atol=0, rtol=0)
    if pytest.importorskip("safetensors"):
        weights, _ = export_safetensors(model, cfg, tmp_path / "m.safetensors")
        back, _ = load_safetensors(weights)
        torch.testing.assert_close(back(images), reference, atol=0, rtol=0)
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    got = onnx_logits(export_onnx(model, tmp_path / "m.onnx"), images)
    assert (got - reference).abs().max().item() < 1e-4


# ---------------------------------------------------------------------------------------------
# pooling, several FC layers, LeNet-5


def test_lenet5_is_leCuns_network():
    cfg = PRESETS["lenet-5"].model
    shapes = {r.name: r.output_shape for r in layer_table(cfg)}
    assert shapes["conv_1"] == (6, 28, 28) and shapes["pool_1"] == (6, 14, 14)
    assert shapes["conv_2"] == (16, 10, 10) and shapes["pool_2"] == (16, 5, 5) and shapes["flatten"] == (400,)
    assert shapes["fc_1"] == (120,) and shapes["fc_2"] == (84,) and shapes["fc_3"] == (10,)
    model = build_model(cfg)
    assert count_parameters(model) == 61_706
    assert isinstance(model.pool_1, nn.AvgPool2d) and isinstance(model.act_fc_1, nn.Tanh)
    assert isinstance(model.act_1, nn.Tanh)
    # seed 003's CNN is as it was: max-pool, the last one padded, one FC layer with ReLU
    seed = build_model(PRESETS["seed-cnn"].model)
    assert isinstance(seed.pool_3, nn.MaxPool2d) and seed.pool_3.padding == 1 and isinstance(seed.act_fc, nn.ReLU)
    assert [n for n, _ in seed.named_children()][-4:] == ["fc_1", "act_fc", "drop_fc", "fc_2"]


def test_average_pooling_averages():
    cfg = ModelConfig(family="cnn", channels=(1,), kernel_size=1, padding=0, pool="avg", fc_width=4)
    model = build_model(cfg)
    x = torch.arange(28 * 28, dtype=torch.float32).view(1, 1, 28, 28)
    pooled = model.pool_1(x)
    assert pooled.shape == (1, 1, 14, 14) and pooled[0, 0, 0, 0].item() == (0 + 1 + 28 + 29) / 4


def test_fc_width_takes_one_width_or_several():
    assert parse_value("fc_width", "625") == 625 and parse_value("fc_width", "120,84") == (120, 84)
    assert ModelConfig(family="cnn", fc_width=[120]).fc_width == 120  # one width stays a number
    cfg = PRESETS["lenet-5"].model
    query = to_query(*_defaults(model=cfg))
    assert query["fc_width"] == "120,84" and query["pool"] == "avg" and query["fc_activation"] == "tanh"
    _, back, _, notes = from_query(query)
    assert back == cfg and not notes
    with pytest.raises(ConfigError, match="fully connected layer 2 has width 0") as err:
        ModelConfig(family="cnn", fc_width=(10, 0))
    assert err.value.field == "fc_width"
    with pytest.raises(ConfigError, match="pool must be one of max, avg"):
        ModelConfig(pool="min")


def _defaults(model=None, train=None):
    from nnplay.config import DataConfig

    return DataConfig(), model or ModelConfig(), train or TrainConfig()


# ---------------------------------------------------------------------------------------------
# the loss


def test_mse_is_the_squared_error_of_the_softmax_against_one_hot_targets():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
    labels = torch.tensor([0, 2])
    p = logits.softmax(1)
    target = torch.tensor([[1.0, 0, 0], [0, 0, 1.0]])
    manual = ((p - target) ** 2).mean(1)
    torch.testing.assert_close(batch_loss(logits, labels, "mse"), manual.mean())
    torch.testing.assert_close(batch_loss(logits, labels, "mse", reduction="sum"), manual.sum())
    torch.testing.assert_close(batch_loss(logits, labels), torch.nn.functional.cross_entropy(logits, labels))


@pytest.mark.slow
def test_training_with_mse_reports_mse_and_learns(tiny_data):
    cfg = dataclasses.replace(QUICK, loss="mse", epochs=2, lr=3e-3)
    model = seeded_model(ModelConfig(hidden=(64,)), 0)
    result = train(model, tiny_data, cfg)
    e = result.history.epochs[-1]
    assert all(0 <= s.loss <= 0.2 for s in result.history.steps)  # an mse of probabilities, not a log loss
    again = evaluate(model, tiny_data.test_images, tiny_data.test_labels, loss="mse")
    assert e.test_loss == pytest.approx(again.loss) and e.test_accuracy == again.accuracy > 0.7
    ce = evaluate(model, tiny_data.test_images, tiny_data.test_labels)
    assert ce.accuracy == again.accuracy and ce.loss > again.loss  # the same predictions, another loss


# ---------------------------------------------------------------------------------------------
# max-norm


@pytest.mark.slow
def test_max_norm_holds_every_units_incoming_weights(tiny_data):
    cfg = dataclasses.replace(QUICK, optimizer="sgd", lr=0.5, momentum=0.9)
    data = tiny_data.limited(600, 100)
    for model_cfg in (ModelConfig(hidden=(64, 32)), ModelConfig(family="cnn", channels=(2, 4), fc_width=16)):
        free = seeded_model(model_cfg, 0)
        train(free, data, cfg)
        norms = [layer.weight.detach().flatten(1).norm(dim=1).max().item() for _, layer in weight_layers(free)]
        assert max(norms) > 1.2  # without the constraint some unit grows past it
        held = seeded_model(model_cfg, 0)
        result = train(held, data, dataclasses.replace(cfg, max_norm=1.0))
        assert result.status == "finished"
        for name, layer in weight_layers(held):
            assert layer.weight.detach().flatten(1).norm(dim=1).max().item() <= 1.0 + 1e-5, name


# ---------------------------------------------------------------------------------------------
# augmentation


AFFINE = TrainConfig(augment="affine", shift=3.0, rotate=15.0, scale=0.15, shear=10.0)


def _centre(x: torch.Tensor) -> torch.Tensor:
    """(B, 2) centre of mass (x, y) in pixels of (B, 1, 28, 28) images."""
    grid = torch.arange(28, dtype=torch.float32)
    mass = x.sum((1, 2, 3))
    return torch.stack([(x.sum((1, 2)) * grid).sum(1) / mass, (x.sum((1, 3)) * grid).sum(1) / mass], 1)


def test_an_affine_distortion_without_range_is_the_identity_and_a_shift_moves_the_digit(tiny_data):
    x = normalise(tiny_data.train_images[:64])
    g = augment.augment_generator(0)
    still = dataclasses.replace(AFFINE, shift=0.0, rotate=0.0, scale=0.0, shear=0.0)
    torch.testing.assert_close(augment.distort(x, still, g), x, atol=1e-5, rtol=0)
    assert augment.distort(x, TrainConfig(), g) is x  # augment none
    moved = augment.distort(x, dataclasses.replace(still, shift=4.0), g)
    delta = _centre(moved) - _centre(x)
    assert delta.abs().max() <= 4.0 + 0.3 and delta.abs().mean() > 1.0  # each image its own shift, within ±4 px
    rotated = augment.distort(x, dataclasses.replace(still, rotate=30.0), g)
    assert (rotated - x).abs().mean() > 0.02
    assert (rotated.sum((1, 2, 3)) / x.sum((1, 2, 3))).sub(1).abs().max() < 0.05  # ink is kept, not lost


def test_elastic_distortion_is_smooth_and_scaled_by_alpha():
    cfg = TrainConfig(augment="elastic", elastic_alpha=34.0, elastic_sigma=4.0)
    field = augment.elastic_field(32, cfg, augment.augment_generator(0), "cpu") * 14  # back to pixels
    assert field.shape == (32, 28, 28, 2)
    neighbour = (field[:, 1:] - field[:, :-1]).abs().mean()
    assert neighbour < 0.2 * field.abs().mean()  # smooth: neighbours move alike
    rough = augment.elastic_field(32, dataclasses.replace(cfg, elastic_sigma=0.5), augment.augment_generator(0), "cpu")
    assert (rough[:, 1:] - rough[:, :-1]).abs().mean() * 14 > 3 * neighbour
    double = augment.elastic_field(32, dataclasses.replace(cfg, elastic_alpha=68.0), augment.augment_generator(0), "cpu")
    torch.testing.assert_close(double * 14, 2 * field)


def test_the_elastic_field_has_simards_covariance():
    """alpha · (Gaussian of sigma) * U(−1, 1) per pixel: per-pixel spread and neighbours' correlation as the
    smoothing matrix S says (covariance alpha²/3 · S·Sᵀ ⊗ S·Sᵀ), near the edges (zeros beyond) too."""
    cfg = TrainConfig(augment="elastic", elastic_alpha=34.0, elastic_sigma=4.0)
    field = augment.elastic_field(4000, cfg, augment.augment_generator(0), "cpu").double() * 14  # pixels
    s = augment._smoothing_matrix(4.0, "cpu").double()
    c = s @ s.T
    spread = 34.0 * (c.diag()[:, None] * c.diag()[None, :] / 3).sqrt()  # (y, x)
    for axis in (0, 1):
        torch.testing.assert_close(field[..., axis].std(0), spread, rtol=0.06, atol=0)
    measured = torch.corrcoef(torch.stack([field[:, 14, 14, 0], field[:, 14, 17, 0], field[:, 5, 14, 0]]))
    assert measured[0, 1].item() == pytest.approx((c[14, 17] / (c[14, 14] * c[17, 17]).sqrt()).item(), abs=0.03)
    assert measured[0, 2].item() == pytest.approx((c[5, 14] / (c[14, 14] * c[5, 5]).sqrt()).item(), abs=0.03)
    assert field.mean().abs() < 0.05 and abs(torch.corrcoef(field[:, 14, 14].T)[0, 1]) < 0.05  # x, y independent


def test_an_elastic_distortion_draws_a_few_numbers_per_image_and_resamples_once(monkeypatch):
    """The field is drawn in the smoothing's leading eigenvectors (r×r per image and direction, r < 28), and
    affine + elastic read the image through one grid."""
    cfg = TrainConfig(augment="affine+elastic", elastic_sigma=4.0)
    r = augment._field_basis(cfg, "cpu").shape[1]
    assert r < 10
    calls = []
    real = augment.F.grid_sample
    monkeypatch.setattr(augment.F, "grid_sample", lambda *a, **k: calls.append(1) or real(*a, **k))
    g, fresh = augment.augment_generator(2), augment.augment_generator(2)
    augment.distort(torch.rand(8, 1, 28, 28), cfg, g)
    augment.affine_theta(8, cfg, fresh, "cpu")
    torch.randn(8 * 2 * r, r, generator=fresh)
    assert calls == [1] and torch.equal(g.get_state(), fresh.get_state())  # nothing else drawn


def test_the_grid_is_the_affine_grid_plus_the_field_and_a_batch_can_take_maps_drawn_for_its_epoch(tiny_data):
    """Affine alone resamples as ``F.affine_grid`` does; with elastic, the grid is that plus ``elastic_field`` drawn
    next; with an epoch's maps drawn at once (as a run draws them), each batch reads its share and draws its field."""
    x = normalise(tiny_data.train_images[:32])
    both = dataclasses.replace(AFFINE, augment="affine+elastic")
    g = augment.augment_generator(5)
    theta = augment.affine_theta(32, AFFINE, g, "cpu")
    reference = augment.F.grid_sample(x, augment.F.affine_grid(theta, list(x.shape), align_corners=False),
                                      align_corners=False)
    torch.testing.assert_close(augment.distort(x, AFFINE, augment.augment_generator(5)), reference, atol=1e-5, rtol=0)
    g = augment.augment_generator(6)
    theta = augment.affine_maps(32, both, g, "cpu")
    field = augment.elastic_field(32, both, g, "cpu")
    grid = augment.F.affine_grid(theta, list(x.shape), align_corners=False) + field
    reference = augment.F.grid_sample(x, grid, align_corners=False)
    torch.testing.assert_close(augment.distort(x, both, augment.augment_generator(6)), reference, atol=1e-5, rtol=0)
    g, fresh = augment.augment_generator(7), augment.augment_generator(7)
    maps = augment.affine_maps(32, both, g, "cpu")  # an epoch of 32 images in two batches of 16
    assert augment.affine_maps(32, dataclasses.replace(both, augment="elastic"), g, "cpu") is None
    batches = [augment.distort(x[i:i + 16], both, g, maps[i:i + 16]) for i in (0, 16)]
    torch.testing.assert_close(maps, augment.affine_theta(32, both, fresh, "cpu"))
    for i, batch in zip((0, 16), batches):  # with its maps given, a batch draws its field only
        grid = augment.F.affine_grid(maps[i:i + 16], [16, 1, 28, 28], align_corners=False)
        grid = grid + augment.elastic_field(16, both, fresh, "cpu")
        torch.testing.assert_close(batch, augment.F.grid_sample(x[i:i + 16], grid, align_corners=False),
                                   atol=1e-5, rtol=0)


def test_distortions_follow_the_seed(tiny_data):
    x = normalise(tiny_data.train_images[:16])
    both = dataclasses.replace(AFFINE, augment="affine+elastic")
    a = augment.distort(x, both, augment.augment_generator(3))
    b = augment.distort(x, both, augment.augment_generator(3))
    c = augment.distort(x, both, augment.augment_generator(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert (a - x).abs().mean() > 0.02


def test_training_with_augmentation_reproduces_and_never_distorts_the_test_images(tiny_data):
    data = tiny_data.limited(500, 200)
    cfg = dataclasses.replace(QUICK, augment="affine+elastic", shift=2.0, rotate=10.0)
    runs = [train(seeded_model(ModelConfig(hidden=(32,)), 0), data, c) for c in (cfg, cfg, QUICK)]
    same, again, plain = ([s.loss for s in r.history.steps] for r in runs)
    assert same == again and same != plain[:len(same)]
    e = runs[0].history.epochs[-1]
    clean = evaluate(runs[0].model, data.test_images, data.test_labels)
    assert (e.test_loss, e.test_accuracy) == pytest.approx((clean.loss, clean.accuracy))


def test_a_cnn_trains_on_the_cpu_in_channels_last_and_ends_in_the_usual_layout(tiny_data, monkeypatch):
    """A CNN's maps lie channels-last while it trains on the CPU (oneDNN's fast path); the trained model's
    weights are back in the usual layout, and its losses are those of a run in that layout."""
    from nnplay import engine

    layouts = []
    model = seeded_model(BN_CNN, 2)
    model.conv_1.register_forward_hook(
        lambda m, i, o: layouts.append(o.is_contiguous(memory_format=torch.channels_last)))
    fast = train(model, tiny_data.limited(400, 100), QUICK)
    assert fast.status == "finished" and layouts[0] and all(p.is_contiguous() for p in model.parameters())
    assert engine._memory_format(seeded_model(ModelConfig(hidden=(32,)), 0), torch.device("cpu")) \
        == torch.contiguous_format
    monkeypatch.setattr(engine, "_memory_format", lambda *a: torch.contiguous_format)
    usual = train(seeded_model(BN_CNN, 2), tiny_data.limited(400, 100), QUICK)
    assert [s.loss for s in fast.history.steps] == pytest.approx([s.loss for s in usual.history.steps], rel=1e-4)


def test_inspect_shows_training_images_as_the_network_saw_them(tiny_data):
    images = tiny_data.train_images[:5]
    stack = augment.examples(images, AFFINE, copies=3)
    assert stack.shape == (5, 4, 28, 28) and stack.dtype == torch.uint8
    assert torch.equal(stack[:, 0], images)  # each row starts with the image as it is
    assert not torch.equal(stack[:, 1], images) and not torch.equal(stack[:, 1], stack[:, 2])
    assert torch.equal(augment.examples(images, AFFINE, copies=3), stack)  # the run's seed: the same pictures
    fig = augmented_figure(stack.numpy(), "affine")
    assert (fig.layout.meta["images"], fig.layout.meta["copies"]) == (5, 3)
    assert fig.data[0].z.shape == (5 * 30 - 2, 4 * 30 - 2)


# ---------------------------------------------------------------------------------------------
# the command line and sweeps


def test_the_cli_has_a_flag_for_every_knob(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    for flag in ("--batch-norm", "--pool", "--fc-activation", "--loss", "--max-norm", "--augment", "--shift",
                 "--rotate", "--scale", "--shear", "--elastic-alpha", "--elastic-sigma"):
        assert flag in text, flag
    assert "cross_entropy, mse" in " ".join(text.split())


@pytest.mark.slow
def test_the_cli_trains_with_the_knobs(capsys, tmp_path):
    path = tmp_path / "m.pt"
    code = main(["train", "--preset", "seed-mlp", "--epochs", "1", "--train-limit", "600", "--test-limit", "100",
                 "--hidden", "32", "--batch-norm", "true", "--loss", "mse", "--max-norm", "2",
                 "--augment", "affine", "--rotate", "20", "--device", "cpu", "--no-store", "--quiet",
                 "--save", str(path)])
    out = capsys.readouterr().out
    assert code == 0, out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["parameters"] == 784 * 32 + 32 + 2 * 32 + 32 * 10 + 10
    train_cfg = summary["config"]["train"]
    assert train_cfg["loss"] == "mse" and train_cfg["augment"] == "affine" and train_cfg["rotate"] == 20
    model, cfg, _ = load_checkpoint(path)
    assert cfg.batch_norm and isinstance(model.bn_1, nn.BatchNorm1d)
    assert max(layer.weight.norm(dim=1).max().item() for _, layer in weight_layers(model)) <= 2 + 1e-5


def test_a_sweep_varies_the_knobs():
    runs = SweepPlan((Axis.of_list("loss", "cross_entropy, mse"), Axis.of_list("augment", "none, elastic"),
                      Axis.of_list("max_norm", "0, 3"))).expand()
    assert {(r.train.loss, r.train.augment, r.train.max_norm) for r in runs} == {
        (loss, aug, m) for loss in ("cross_entropy", "mse") for aug in ("none", "elastic") for m in (0.0, 3.0)}
    pooled = SweepPlan((Axis.of_list("pool", "max, avg"),), model=ModelConfig(family="cnn")).expand()
    assert [r.model.pool for r in pooled] == ["max", "avg"]
    lenet = SweepPlan((Axis.of_list("batch_size", "10, 100"),), model=PRESETS["lenet-5"].model).expand()
    assert largest_run(lenet).train.batch_size == 100  # several FC widths are added up, not refused


def test_a_cnn_without_a_hidden_fully_connected_layer_trains_exports_and_draws(tmp_path, tiny_data):
    """LeNet-1 (the Published results page) goes from its last pooled maps straight to the 10 outputs."""
    model_cfg = ModelConfig(family="cnn", channels=(4, 12), kernel_size=5, padding=(2, 0), fc_width=(), pool="avg",
                            activation="tanh", init="xavier")
    model = build_model(model_cfg)
    assert [name for name, _ in model.named_children()][-2:] == ["flatten", "fc_1"]
    assert count_parameters(model) == 4326 and describe(model_cfg) == "CNN 4-12 k5 s1 avg-pool"
    result = train(model, tiny_data.limited(200, 50), QUICK)
    assert result.status == "finished"
    export_onnx(model, tmp_path / "lenet1.onnx")
    assert (tmp_path / "lenet1.onnx").stat().st_size > 0
    for image in (tiny_data.test_images[0].numpy(), None):  # the stages for a digit, and the filters alone
        names = [trace.name for trace in cnn_figure(model, image).data]
        assert names[-1] == "output" and "conv 2" in names and "fc" not in names
