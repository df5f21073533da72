"""Checkpoints: round trip, and every kind of bad file refused with a sentence."""

import io
import pickle

import pytest
import torch

from nnplay import checkpoint
from nnplay.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint, save_checkpoint
from nnplay.config import PRESETS, ModelConfig
from nnplay.engine import seeded_model


def test_round_trip(tmp_path):
    cfg = PRESETS["seed-cnn"].model
    model = seeded_model(cfg, 1)
    path = tmp_path / "m.pt"
    save_checkpoint(model, cfg, path, meta={"test_accuracy": 0.5})
    loaded, loaded_cfg, meta = load_checkpoint(path)
    assert loaded_cfg == cfg and meta == {"test_accuracy": 0.5}
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    assert load_checkpoint(checkpoint_bytes(model, cfg))[1] == cfg


class Evil:
    def __reduce__(self):
        return (print, ("this code ran",))


@pytest.mark.parametrize("payload,match", [
    (b"", "empty"),
    (b"hello, this is a text file", "not a PyTorch checkpoint"),
    (pickle.dumps(Evil()), "not a PyTorch checkpoint|Python objects"),
])
def test_bad_bytes_are_refused(payload, match):
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(payload)


def test_pickled_code_is_not_run(capsys):
    buffer = io.BytesIO()
    torch.save({"format": checkpoint.FORMAT, "evil": Evil()}, buffer)
    with pytest.raises(CheckpointError, match="Python objects other than weights"):
        load_checkpoint(buffer.getvalue())
    assert "this code ran" not in capsys.readouterr().out


def test_plain_state_dict_is_not_an_nnplay_model():
    buffer = io.BytesIO()
    torch.save(seeded_model(ModelConfig(hidden=(8,)), 0).state_dict(), buffer)
    with pytest.raises(CheckpointError, match="not an nnplay model"):
        load_checkpoint(buffer.getvalue())


def test_weights_that_do_not_fit_the_config():
    data = checkpoint_bytes(seeded_model(ModelConfig(hidden=(8,)), 0), ModelConfig(hidden=(8,)))
    payload = torch.load(io.BytesIO(data), weights_only=True)
    payload["model_config"]["hidden"] = [9]
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(buffer.getvalue())


def test_truncated_and_oversized(monkeypatch):
    data = checkpoint_bytes(seeded_model(ModelConfig(hidden=(8,)), 0), ModelConfig(hidden=(8,)))
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(data[: len(data) // 2])
    monkeypatch.setattr(checkpoint, "MAX_BYTES", 1000)
    with pytest.raises(CheckpointError, match="at most"):
        load_checkpoint(data)
