"""Model building: seed shapes and parameter counts, activations, inits, CNN shape checks, the memory estimate."""

import pytest
import torch
from torch import nn

from nnplay.config import PRESETS, ModelConfig, TrainConfig
from nnplay.engine import seeded_model
from nnplay.models import build_model, count_parameters, layer_table, parameter_listing


def test_seed_mlp_matches_seed_000_printout():
    model = seeded_model(PRESETS["seed-mlp"].model, 0)
    listing = parameter_listing(model)
    assert [(r["name"], r["shape"]) for r in listing] == [
        ("lin_1.weight", (256, 784)), ("lin_1.bias", (256,)), ("lin_2.weight", (10, 256)), ("lin_2.bias", (10,))]
    assert count_parameters(model) == 203_530
    assert sum(r.params for r in layer_table(PRESETS["seed-mlp"].model)) == 203_530
    # He init: weights small (std √(2/784) ≈ 0.0505), biases zero, as seed 000 prints
    assert abs(model.lin_1.weight.std().item() - (2 / 784) ** 0.5) < 0.002
    assert listing[1]["first values"] == [0.0] * 5


@pytest.mark.parametrize("key,hidden,params", [
    ("model-a", (100,), 784 * 100 + 100 + 100 * 10 + 10),
    ("model-d", (100, 100), 784 * 100 + 100 + 100 * 100 + 100 + 100 * 10 + 10),
])
def test_seed_001_models(key, hidden, params):
    cfg = PRESETS[key].model
    assert cfg.hidden == hidden
    model = build_model(cfg)
    assert count_parameters(model) == params
    # seed 001 lists 4 parameter tensors for a 1-hidden-layer model: (100, 784), (100,), (10, 100), (10,)
    if key == "model-a":
        assert [tuple(p.shape) for p in model.parameters()] == [(100, 784), (100,), (10, 100), (10,)]
        assert isinstance(model.act_1, nn.Sigmoid)


def test_seed_cnn_shapes_follow_seed_003_comments():
    rows = {r.name: r for r in layer_table(PRESETS["seed-cnn"].model)}
    assert rows["pool_1"].output_shape == (32, 14, 14)
    assert rows["pool_2"].output_shape == (64, 7, 7)
    assert rows["pool_3"].output_shape == (128, 4, 4)
    assert rows["flatten"].output_shape == (4 * 4 * 128,)
    model = build_model(PRESETS["seed-cnn"].model)
    out = model(torch.zeros(2, 1, 28, 28))
    assert out.shape == (2, 10)
    assert model.fc_1.in_features == 2048 and model.fc_1.out_features == 625
    assert count_parameters(model) == sum(r.params for r in layer_table(PRESETS["seed-cnn"].model))


def test_logistic_regression_has_no_hidden_layer():
    model = build_model(ModelConfig(hidden=()))
    assert count_parameters(model) == 7850
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_per_layer_activations_and_dropout():
    cfg = ModelConfig(hidden=(32, 16), activation=("tanh", "gelu"), dropout=0.2)
    model = build_model(cfg)
    assert isinstance(model.act_1, nn.Tanh) and isinstance(model.act_2, nn.GELU)
    assert isinstance(model.drop_1, nn.Dropout)


@pytest.mark.parametrize("init,check", [
    ("constant", lambda w: torch.all(w == 0.5)),
    ("normal", lambda w: abs(w.std().item() - 0.01) < 0.002),
    ("xavier", lambda w: w.abs().max().item() <= (6 / (784 + 64)) ** 0.5),
])
def test_inits(init, check):
    model = build_model(ModelConfig(hidden=(64,), init=init, init_value=0.5, init_std=0.01))
    assert check(model.lin_1.weight.detach())


@pytest.mark.parametrize("kwargs,match", [
    (dict(hidden=(0,)), "hidden layer 1 has width 0"),
    (dict(hidden=(64,), activation=("relu", "tanh")), "2 values but the network has 1 layers"),
    (dict(activation="swish"), "activation must be one of"),
    (dict(dropout=1.0), "dropout"),
])
def test_bad_model_configs_say_why(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ModelConfig(**kwargs)


def test_cnn_that_leaves_no_pixels_names_the_layer():
    cfg = ModelConfig(family="cnn", stride=5)
    with pytest.raises(ValueError, match="max-pool after conv layer 2"):
        layer_table(cfg)
    with pytest.raises(ValueError, match="conv layer"):
        build_model(ModelConfig(family="cnn", kernel_size=10))
    # the studied setting on the first layer only is fine
    assert layer_table(ModelConfig(family="cnn", stride=(5, 1, 1)))[-1].output_shape == (10,)


@pytest.mark.parametrize("model_cfg, train_cfg", [
    (ModelConfig(hidden=(64, 32)), TrainConfig(optimizer="adam", batch_size=16)),
    (ModelConfig(hidden=(48,), dropout=0.2), TrainConfig(optimizer="sgd", momentum=0.9, batch_size=8)),
    (ModelConfig(family="cnn", channels=(4, 8), fc_width=16, dropout=0.5), TrainConfig(optimizer="rmsprop", batch_size=4)),
    (ModelConfig(hidden=()), TrainConfig(optimizer="sgd", batch_size=32)),
])
def test_memory_estimate_matches_a_real_model(model_cfg, train_cfg):
    import torch.nn.functional as F

    from nnplay.engine import make_optimizer
    from nnplay.models import estimate_memory

    estimate = estimate_memory(model_cfg, train_cfg)
    model = build_model(model_cfg)
    outputs = []  # every layer's output but flatten's (a view), as autograd keeps them
    for module in model:
        if not isinstance(module, nn.Flatten):
            module.register_forward_hook(lambda m, i, out: outputs.append(out.numel() * out.element_size()))
    x = torch.randn(train_cfg.batch_size, 1, 28, 28)
    opt = make_optimizer(model.parameters(), train_cfg)
    F.cross_entropy(model(x), torch.zeros(train_cfg.batch_size, dtype=torch.long)).backward()
    opt.step()
    assert estimate.weights == sum(p.numel() * p.element_size() for p in model.parameters())
    assert estimate.gradients == sum(p.grad.numel() * p.grad.element_size() for p in model.parameters())
    state = sum(t.numel() * t.element_size() for s in opt.state.values() for t in s.values()
                if torch.is_tensor(t) and t.dim() > 0)  # Adam's step counters are scalars
    assert estimate.optimizer == state
    assert estimate.activations == x.numel() * x.element_size() + sum(outputs)
    assert estimate.total == estimate.weights + estimate.gradients + estimate.optimizer + estimate.activations


def test_a_network_too_large_for_the_memory_is_refused_with_the_estimate_and_the_limit():
    from nnplay.models import memory_refusal

    huge = ModelConfig(hidden=(8192,) * 64)  # 4.3 billion parameters
    sentence = memory_refusal(huge, TrainConfig(), limit=(16 * 10**9, "available RAM"))
    assert "needs about 68.8 GB" in sentence and "16.0 GB of available RAM" in sentence
    assert memory_refusal(ModelConfig(), TrainConfig(), limit=(16 * 10**9, "available RAM")) is None
    assert memory_refusal(ModelConfig(), TrainConfig()) is None  # the seed MLP fits this machine


def test_available_memory_reads_the_machine():
    from nnplay.models import available_memory

    free, what = available_memory("cpu")
    assert what == "available RAM" and (free is None or free > 10**7)


def test_evaluating_switches_dropout_off_and_restores_the_mode():
    from nnplay.models import evaluating

    model = build_model(ModelConfig(hidden=(16,), dropout=0.5))
    x = torch.rand(4, 1, 28, 28)
    model.train()
    with evaluating(model):
        assert not model.training and torch.equal(model(x), model(x))  # no dropout: the same twice
    assert model.training
    model.eval()
    with pytest.raises(RuntimeError), evaluating(model):
        raise RuntimeError("a failure inside the block")
    assert not model.training  # an eval-mode model stays in eval mode, even after an error


def test_weight_layers_in_order_and_by_kind():
    from nnplay.models import weight_layers

    cnn = build_model(ModelConfig(family="cnn", channels=(4, 8), fc_width=16))
    assert [n for n, _ in weight_layers(cnn)] == ["conv_1", "conv_2", "fc_1", "fc_2"]
    assert [n for n, _ in weight_layers(cnn, nn.Conv2d)] == ["conv_1", "conv_2"]
    assert [n for n, _ in weight_layers(cnn, nn.Linear)] == ["fc_1", "fc_2"]


def test_seeded_model_gives_the_same_weights_and_leaves_the_callers_rng_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = seeded_model(ModelConfig(hidden=(8,)), 7)
    assert torch.equal(torch.rand(3), expected_next)  # the caller's random stream went on untouched
    b = seeded_model(ModelConfig(hidden=(8,)), 7)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
