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


# -- format /2: a run's configs and history travel with its model ---------------------------------

import random  # noqa: E402
import zipfile  # noqa: E402

from nnplay.checkpoint import ACCEPTS, FORMAT, read_checkpoint  # noqa: E402
from nnplay.config import DataConfig, TrainConfig, to_dict  # noqa: E402
from nnplay.engine import History  # noqa: E402
from nnplay.runs import Run, run_checkpoint_bytes, run_file_name, run_from_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def trained_run(tiny_data):
    run = Run("run 1 · tiny", DataConfig(train_limit=2000, test_limit=500), ModelConfig(hidden=(16,)),
              TrainConfig(epochs=2, batch_size=200, seed=3))
    run.start(tiny_data).wait()
    assert run.status == "finished"
    return run


def _payload(data: bytes) -> dict:
    return torch.load(io.BytesIO(data), weights_only=True)


def _save(payload: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


@pytest.mark.slow
def test_a_downloaded_run_comes_back_with_its_curves_and_accuracies(trained_run):
    data = run_checkpoint_bytes(trained_run)
    assert _payload(data)["format"] == FORMAT == "nnplay-checkpoint/2"
    run, message = run_from_checkpoint("tiny.pt", data)
    assert run is not None and run.status == "loaded" and run.usable
    assert run.final() == trained_run.final()  # accuracies, losses, seconds, epochs done
    assert run.history.steps == trained_run.history.steps
    assert run.history.epochs == trained_run.history.epochs
    assert run.history.start == trained_run.history.start and run.history.end == trained_run.history.end
    assert [s.layer for s in run.history.layer_stats] == [s.layer for s in trained_run.history.layer_stats]
    assert run.history.layer_stats[0].weight_hist == trained_run.history.layer_stats[0].weight_hist
    assert run.train_cfg == trained_run.train_cfg and run.model_cfg == trained_run.model_cfg
    assert run.data_cfg == trained_run.data_cfg
    assert f"test accuracy {trained_run.final()['test_accuracy']:.2%} when saved" in run.message
    assert "with its curves" in message and run.name == "run 1 · tiny (loaded)"
    x = torch.rand(4, 1, 28, 28)
    assert torch.equal(run.model(x), trained_run.model.cpu().eval()(x))
    assert run_file_name(trained_run) == "nnplay-run-1.pt"


@pytest.mark.slow
def test_the_file_never_carries_a_data_folder(trained_run, tmp_path):
    trained_run.data_cfg.data_dir = str(tmp_path)
    try:
        payload = _payload(run_checkpoint_bytes(trained_run))
    finally:
        trained_run.data_cfg.data_dir = None
    assert set(payload["data_config"]) == {"dataset", "train_limit", "test_limit"}
    payload["data_config"]["data_dir"] = "/etc"  # a hand-made file cannot point the server elsewhere
    run, _ = run_from_checkpoint("x.pt", _save(payload))
    assert run.data_cfg.data_dir is None


def test_format_1_files_still_load(trained_run):
    """The page and the CLI wrote /1 before: settings in meta, no history."""
    model, cfg = trained_run.model, trained_run.model_cfg
    old = _save({"format": "nnplay-checkpoint/1", "model_config": to_dict(cfg),
                 "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                 "meta": {"name": "old run", "test_accuracy": 0.9, "train": to_dict(TrainConfig(lr=0.05)),
                          "dataset": "fashion-mnist"}})
    run, message = run_from_checkpoint("old.pt", old)
    assert run.train_cfg.lr == 0.05 and run.data_cfg.dataset == "fashion-mnist"
    assert "test accuracy 90.00% when saved" in run.message and run.history.steps == []
    assert read_checkpoint(old).format == "nnplay-checkpoint/1"
    from nnplay.ui.model_picker import DEFAULT_MODEL_FILE

    assert read_checkpoint(DEFAULT_MODEL_FILE).model_cfg == PRESETS["seed-mlp"].model  # the shipped /1 model


# -- any bytes end in a sentence ---------------------------------------------------------------------


def _refused(message: str, name: str) -> None:
    assert message.startswith(f"{name} was not loaded: "), message
    assert "Traceback" not in message and len(message) < 600


def test_text_and_random_bytes_say_what_the_file_is_not_and_what_nnplay_accepts():
    run, message = run_from_checkpoint("notes.txt", b"shopping list: milk, eggs\n")
    assert run is None and "notes.txt was not loaded: it is not a PyTorch checkpoint" in message
    assert ACCEPTS in message and "Model (.pt)" in message and "python -m nnplay train --save" in message
    run, message = run_from_checkpoint("noise.bin", random.Random(1).randbytes(5000))
    assert run is None and "not a PyTorch checkpoint" in message and "Python objects" not in message


def test_fuzz_random_bytes_text_and_junk_zips_end_in_a_sentence(trained_run):
    rng = random.Random(0)
    good = run_checkpoint_bytes(trained_run)
    junk_zip = io.BytesIO()
    with zipfile.ZipFile(junk_zip, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02junk")
        z.writestr("readme.txt", "hello")
    cases = [rng.randbytes(rng.randrange(1, 3000)) for _ in range(30)]
    cases += [b"PK\x03\x04" + rng.randbytes(500) for _ in range(10)]
    cases += [bytes(good[: rng.randrange(len(good))]) for _ in range(10)]  # cut anywhere
    flipped = bytearray(good)
    for i in rng.sample(range(len(good)), 40):
        flipped[i] ^= 0xFF
    cases += [bytes(flipped), junk_zip.getvalue(), "é한국어 text".encode() * 50, pickle.dumps({"format": FORMAT})]
    for data in cases:
        run, message = run_from_checkpoint("f.pt", data)
        if run is None:
            _refused(message, "f.pt")


WRONG = [None, 3, 2.5, "text", [1, 2], {"x": 1}, torch.zeros(2), True, float("nan")]


@pytest.mark.parametrize("key", ["model_config", "state_dict", "format"])
def test_a_wrong_type_in_a_key_the_model_needs_is_refused(trained_run, key):
    for value in WRONG:
        payload = _payload(run_checkpoint_bytes(trained_run))
        payload[key] = value
        run, message = run_from_checkpoint("w.pt", _save(payload))
        assert run is None, (key, value)
        _refused(message, "w.pt")


@pytest.mark.parametrize("key", ["meta", "history", "train_config", "data_config"])
def test_a_wrong_type_elsewhere_loads_the_model_and_says_what_was_left_out(trained_run, key):
    for value in WRONG:
        payload = _payload(run_checkpoint_bytes(trained_run))
        payload[key] = value
        run, message = run_from_checkpoint("w.pt", _save(payload))
        assert run is not None and run.usable, (key, value, message)
        if not isinstance(value, dict) and value is not None:  # {"x": 1}: a mapping without the fields
            assert "Left out" in message, (key, value, message)


@pytest.mark.slow
def test_wrong_types_inside_the_parts_never_raise(trained_run):
    base = _payload(run_checkpoint_bytes(trained_run))
    spots = [("model_config", "hidden"), ("model_config", "family"), ("model_config", "dropout"),
             ("model_config", "activation"), ("model_config", "kernel_size"), ("train_config", "lr"),
             ("train_config", "optimizer"), ("data_config", "train_limit"), ("meta", "name"),
             ("meta", "test_accuracy"), ("history", "start"), ("history", "steps"), ("history", "epochs"),
             ("history", "layer_stats"), ("history", "end")]
    for part, key in spots:
        for value in WRONG + [float("inf"), 10**30, [[1], "a"], {"step": [1], "loss": []}]:
            payload = _payload(run_checkpoint_bytes(trained_run)) if part == "model_config" else dict(base)
            payload[part] = {**payload[part], key: value}
            run, message = run_from_checkpoint("p.pt", _save(payload))
            if run is None:
                _refused(message, "p.pt")
            else:
                assert run.model is not None and run.name


def test_a_huge_claimed_network_is_refused_before_anything_is_built(monkeypatch):
    """64 layers of 8192 units (4.2 billion parameters, 17 GB) in a 2 KB file with no weights."""
    import nnplay.checkpoint as ck

    devices = []
    real_build = ck.build_model

    def spy(cfg):
        devices.append(torch.get_default_device().type)
        return real_build(cfg)

    monkeypatch.setattr(ck, "build_model", spy)
    claim = ModelConfig(hidden=(8192,) * 64)
    data = _save({"format": FORMAT, "model_config": to_dict(claim), "state_dict": {}})
    assert len(data) < 4000
    run, message = run_from_checkpoint("claim.pt", data)
    assert run is None and "4,234,887,178 parameters" in message and "holds 0" in message
    assert devices == []  # not even on the meta device: the count alone refuses it
    # the right count but the wrong shapes: compared with the meta-device model, never a real one
    small = ModelConfig(hidden=(8,))
    state = {k: v.detach().T.contiguous() if v.ndim == 2 else v.detach()
             for k, v in seeded_model(small, 0).state_dict().items()}
    run, message = run_from_checkpoint("t.pt", _save({"format": FORMAT, "model_config": to_dict(small),
                                                      "state_dict": state}))
    assert run is None and "lin_1.weight is (784, 8)" in message and "needs (8, 784)" in message
    assert devices == ["meta"]


def test_wrong_dtype_and_extra_names_are_refused():
    cfg = ModelConfig(hidden=(8,))
    state = seeded_model(cfg, 0).state_dict()
    doubled = {k: v.double() for k, v in state.items()}
    run, message = run_from_checkpoint("d.pt", _save({"format": FORMAT, "model_config": to_dict(cfg),
                                                      "state_dict": doubled}))
    assert run is None and "torch.float64" in message
    renamed = {k.replace("lin_1", "layer1"): v for k, v in state.items()}
    run, message = run_from_checkpoint("r.pt", _save({"format": FORMAT, "model_config": to_dict(cfg),
                                                      "state_dict": renamed}))
    assert run is None and "missing lin_1.bias, lin_1.weight" in message and "unexpected layer1" in message


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weights_are_refused(bad):
    cfg = ModelConfig(hidden=(8,))
    state = seeded_model(cfg, 0).state_dict()
    state["lin_2.bias"][3] = bad
    with pytest.raises(CheckpointError, match="not numbers .NaN or infinite, in lin_2.bias"):
        load_checkpoint(_save({"format": FORMAT, "model_config": to_dict(cfg), "state_dict": state}))


def test_a_newer_format_asks_for_an_update():
    with pytest.raises(CheckpointError, match="newer nnplay .format nnplay-checkpoint/9"):
        load_checkpoint(_save({"format": "nnplay-checkpoint/9"}))


def test_names_in_a_file_are_plain_text_and_cut(trained_run):
    payload = _payload(run_checkpoint_bytes(trained_run))
    payload["meta"]["name"] = "![t](http://example.invalid/x.png)\n**bold**\u202e" + "x" * 2_000_000
    run, message = run_from_checkpoint("\x1b[31m" + "n" * 500 + ".pt", _save(payload))
    assert run is not None
    assert len(run.name) <= 80 and run.name.endswith("…") and "\n" not in run.name and "\u202e" not in run.name
    assert run.name.startswith("![t](http://example.invalid/x.png) **bold**")  # text, shown as typed
    assert "\x1b" not in message and len(message) < 400


def test_history_round_trips_through_plain_values(trained_run):
    from nnplay.checkpoint import history_dict, history_from_dict

    plain = history_dict(trained_run.history)
    back = history_from_dict(plain)
    assert back.steps == trained_run.history.steps and back.epochs == trained_run.history.epochs
    assert isinstance(back, History)
    assert all(isinstance(v, list) for v in plain["steps"].values())


@pytest.mark.slow
def test_reading_a_checkpoint_stays_cheap_in_a_fresh_process(tmp_path):
    """The first checkpoint a process reads (the server's first watch pictures, its first model shown) builds
    the network on the meta device without its initialiser: He and normal initialisation there go through
    torch's Python reference ops, whose first use imported torch._dynamo (1.2–1.8 s) on every app start."""
    import subprocess
    import sys
    import textwrap

    from .conftest import ROOT

    for init in ("he", "normal", "xavier"):
        save_checkpoint(seeded_model(ModelConfig(hidden=(16,), init=init), 0), ModelConfig(hidden=(16,), init=init),
                        tmp_path / f"{init}.pt")
    script = textwrap.dedent(f"""
        import sys
        from nnplay.checkpoint import load_checkpoint
        for init in ("he", "normal", "xavier"):
            model, cfg, _ = load_checkpoint({str(tmp_path)!r} + "/" + init + ".pt")
            assert cfg.init == init and model.lin_1.weight.shape == (16, 784)
        print("torch._dynamo" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False"], "reading a checkpoint imported torch._dynamo"
