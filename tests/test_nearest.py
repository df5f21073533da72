"""The nearest training digits and the honest sentence (``nnplay.handwriting.nearest``), and the Draw page showing them.

What lives here: the hidden features checked against the model cut before its final Linear (MLP and CNN), the
nearest digits against a brute-force numpy search, the threshold's false-flag rate on the test set, the cache
(built once per weights, bounded in bytes), ``unlike_sentence``; on real MNIST (``NNPLAY_DATA_DIR``) the
issue's cases: scribbles and horizontal lines flagged, MNIST test digits drawn through the canvas path not;
the Draw page under AppTest with the five nearest digits and the sentence for a scribble.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from nnplay.checkpoint import load_checkpoint
from nnplay.config import ModelConfig
from nnplay.engine import seeded_model
from nnplay.handwriting import nearest as nr
from nnplay.lessons import draw
from tests.test_pages_draw_inspect import DRAW, canvas_value, one_on_canvas

DEFAULT_MODEL = draw.__file__.rsplit("lessons", 1)[0] + "assets/default_model.pt"
TINY_CNN = ModelConfig(family="cnn", channels=(4, 8), fc_width=16, init="xavier")


@pytest.fixture(scope="module")
def default_model():
    return load_checkpoint(DEFAULT_MODEL)[0]


def test_features_are_the_input_of_the_final_linear():
    images = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    x = torch.from_numpy(images)[:, None].float() / 255
    for cfg in (ModelConfig(hidden=(32, 16), dropout=0.3), TINY_CNN):
        model = seeded_model(cfg, 0)
        with torch.no_grad():
            expected = model.eval()[:-1](x)  # every layer but the final Linear
        model.train()
        got = nr.hidden_features(model, images)
        torch.testing.assert_close(got, expected)
        assert model.training  # the model's mode is left as it was
    with pytest.raises(ValueError, match="no Linear"):
        nr.hidden_features(torch.nn.Sequential(torch.nn.Flatten()), images)


def brute_force(train: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    a = train.reshape(len(train), -1).astype(np.float64)
    q = query.reshape(-1).astype(np.float64)
    cos = a @ q / (np.linalg.norm(a, axis=1) * np.linalg.norm(q))
    order = np.argsort(1 - cos, kind="stable")[:k]
    return order, (1 - cos)[order]


@pytest.mark.parametrize("space", nr.SPACES)
def test_nearest_matches_a_brute_force_search(sample_data, space):
    model = seeded_model(ModelConfig(hidden=(24,)), 0)
    train, labels = sample_data.train_images[:3000], sample_data.train_labels[:3000]
    index = nr.build_index(model, train, labels, sample_data.test_images[:300], space)
    query = sample_data.test_images[400].numpy()
    got = nr.nearest_in(index, model, query, k=5)
    points = nr.points(model, train, space).double().numpy()
    q = nr.points(model, query[None], space).double().numpy()
    order, dist = brute_force(points, q, 5)
    np.testing.assert_array_equal(got.indices, order)
    np.testing.assert_allclose(got.distances, dist, atol=1e-5)
    np.testing.assert_array_equal(got.labels, labels.numpy()[order])
    # a training image is its own nearest, at distance 0
    itself = nr.nearest_in(index, model, train[17].numpy(), k=1)
    assert itself.indices[0] == 17 and itself.distances[0] == pytest.approx(0, abs=1e-5)


def test_the_threshold_flags_at_most_the_quantiles_share_of_test_digits(sample_data):
    model = seeded_model(ModelConfig(hidden=(24,)), 0)
    tests = sample_data.test_images[:800]
    index = nr.build_index(model, sample_data.train_images[:4000], sample_data.train_labels[:4000], tests,
                           quantile=0.95)
    scores = nr.scores_in(index, model, tests.numpy())
    assert (scores > index.threshold).mean() <= 0.05 + 1e-9
    assert (scores > index.threshold).mean() >= 0.03  # and it is the quantile, not a bound far above them all
    assert index.test_digits == 800 and index.quantile == 0.95
    with pytest.raises(ValueError, match="quantile"):
        nr.build_index(model, tests, sample_data.test_labels[:800], tests, quantile=1.0)


def test_a_features_index_asks_the_pixels_too(sample_data):
    """The flag's score is the larger of the features' and the pixels' scores, each over its own threshold."""
    model = seeded_model(ModelConfig(hidden=(24,)), 0)
    train, labels, tests = sample_data.train_images[:2000], sample_data.train_labels[:2000], sample_data.test_images[:300]
    index = nr.build_index(model, train, labels, tests)
    pixels = nr.build_index(None, train, labels, tests, "pixels")
    check = index.pixels
    assert pixels.pixels is None and check is not None and check.directions.dtype == torch.float32
    assert (check.cosine_scale, check.euclid_scale, check.threshold) == pytest.approx(
        (pixels.cosine_scale, pixels.euclid_scale, pixels.threshold))
    assert nr.build_index(model, train, labels, tests).pixels is check  # built once for a training and test set
    # the pixels index holds the pixel check's points, not a second copy of the training images
    assert pixels.directions.data_ptr() == check.directions.data_ptr()
    assert pixels.lengths.data_ptr() == check.lengths.data_ptr()
    queries = sample_data.test_images[300:340].numpy()
    points = nr.points(model, queries, "features")
    cos, euc = nr._distances(index.directions, index.lengths, *nr._split(points))
    features = np.maximum(cos.min(1).values.numpy() / index.cosine_scale, euc.min(1).values.numpy() / index.euclid_scale)
    p_cos, p_euc = nr._distances(check.directions, check.lengths, *nr._split(nr.points(None, queries, "pixels")))
    pixel = np.maximum(p_cos.min(1).values.numpy() / check.cosine_scale, p_euc.min(1).values.numpy() / check.euclid_scale)
    expected = np.maximum(features / index.own_threshold, pixel / check.threshold)
    np.testing.assert_allclose(nr.scores_in(index, model, queries), expected, rtol=1e-6)
    assert nr.nearest_in(index, model, queries[0]).score == pytest.approx(expected[0], rel=1e-6)
    # and the pixel opinion is the pixels index's
    np.testing.assert_allclose(pixel, nr.scores_in(pixels, None, queries), rtol=1e-5)


def test_the_cache_builds_once_per_weights_and_keeps_within_its_bound(sample_data):
    data = sample_data.limited(2000, 200)
    cache = nr.IndexCache()
    model = seeded_model(ModelConfig(hidden=(16,)), 0)
    first = nr.index_for(model, data, cache=cache)
    assert nr.index_for(model, data, cache=cache) is first
    same_weights = seeded_model(ModelConfig(hidden=(16,)), 0)
    assert nr.ready_index(same_weights, data, cache=cache) is first
    with torch.no_grad():
        model.lin_1.weight[0, 0] += 1  # trained further: another index
    assert nr.ready_index(model, data, cache=cache) is None
    second = nr.index_for(model, data, cache=cache)
    assert second is not first
    cache.max_bytes = first.nbytes + second.nbytes - 1  # room for one: the least recently used goes
    nr.index_for(model, data, "pixels", cache=cache)
    assert cache.nbytes <= max(cache.max_bytes, nr.ready_index(model, data, "pixels", cache=cache).nbytes)
    assert nr.ready_index(same_weights, data, cache=cache) is None


def test_start_index_builds_in_the_background(sample_data):
    data = sample_data.limited(1000, 100)
    cache = nr.IndexCache()
    model = seeded_model(ModelConfig(hidden=(8,)), 1)
    thread = nr.start_index(model, data, cache=cache)
    assert thread is not None
    thread.join(60)
    assert nr.ready_index(model, data, cache=cache) is not None
    assert nr.start_index(model, data, cache=cache) is None  # built: nothing more to do
    bad = torch.nn.Sequential(torch.nn.Flatten())
    nr.start_index(bad, data, cache=cache).join(60)
    assert "no Linear" in nr.index_problem(bad, data, cache=cache)


class Gate(torch.nn.Module):
    """Holds the first forward pass until the test lets it go."""

    def __init__(self):
        super().__init__()
        self.entered, self.go = threading.Event(), threading.Event()

    def forward(self, x):
        self.entered.set()
        assert self.go.wait(60)
        return x


def test_a_cancelled_build_ends_at_its_next_batch_keeps_nothing_and_a_later_request_builds_it(sample_data):
    data = sample_data.limited(2000, 200)
    cache = nr.IndexCache()
    gate = Gate()
    model = torch.nn.Sequential(torch.nn.Flatten(), gate, torch.nn.Linear(784, 10))
    thread = nr.start_index(model, data, cache=cache)
    assert gate.entered.wait(60)  # inside the build
    assert not cache.cancel(timeout=0)  # asked to stop; still inside the forward pass
    gate.go.set()
    assert cache.wait_idle(30)
    thread.join(30)
    assert not thread.is_alive()
    assert nr.ready_index(model, data, cache=cache) is None and not cache.building(nr.index_key(model, data,
                                                                                                  "features"))
    assert nr.index_problem(model, data, cache=cache) == ""  # not a failure: nothing for the page to say
    assert nr.index_for(model, data, cache=cache).size == 2000  # asked again, it is built
    assert cache.cancel(timeout=5)  # nothing in flight: at once


def test_unlike_sentence_only_when_beyond_the_threshold():
    base = dict(indices=np.arange(5), labels=np.arange(5), distances=np.full(5, 0.1, np.float32), threshold=1.0,
                space="features", quantile=0.99, training_digits=60000)
    assert nr.unlike_sentence(nr.Neighbours(score=0.9, **base), "3", 0.989) is None
    said = nr.unlike_sentence(nr.Neighbours(score=1.4, **base), "3", 0.989)
    assert "unlike the digits the network learned from" in said
    assert "60,000 training digits" in said and "99% of the test digits" in said
    assert "98.9% for 3" in said and "not the chance that 3 is right" in said


# --- the cases, on real MNIST with the shipped default model --------------------------------


@pytest.mark.slow
def test_shipped_distances_answer_only_for_the_data_they_were_measured_on(sample_data, monkeypatch, tmp_path):
    """``known`` answers for the very training set and test digits (or a prefix of them) it was written for, and
    for nothing else: another training set, a changed or reordered test digit."""
    from nnplay.handwriting import known

    train, tests = sample_data.train_images, sample_data.test_images
    monkeypatch.setattr(known, "KNOWN_FILE", tmp_path / "known.npz")
    known._known.cache_clear()
    assert known.known_distances(train, tests, known.PIXELS) is None  # no file: measured
    directions, lengths = nr._split(nr.points(None, train, "pixels"))
    cosine, euclid = nr._nearest(directions, lengths, nr.points(None, tests, "pixels"))
    known.write_known(tmp_path / "known.npz", train, tests, {known.PIXELS: (cosine, euclid),
                                                             known.features_key("abc"): (euclid, cosine)})
    got = known.known_distances(train, tests[:300], known.PIXELS)
    assert got is not None and np.array_equal(got[0], cosine[:300]) and np.array_equal(got[1], euclid[:300])
    assert np.array_equal(known.known_distances(train, tests, known.features_key("abc"))[0], euclid)
    assert known.known_distances(train, tests, known.features_key("another model")) is None
    changed = tests.clone()
    changed[7, 14, 14] ^= 1
    assert known.known_distances(train, changed, known.PIXELS) is None
    assert known.known_distances(train, tests.flip(0), known.PIXELS) is None
    other = train.clone()
    other[0, 0, 0] ^= 1
    assert known.known_distances(other, tests, known.PIXELS) is None
    assert known.known_distances(train[:-1], tests, known.PIXELS) is None
    # the pixel check built from them is the one measured
    nr._pixel_checks.clear()
    shipped = nr.pixel_check(train, tests, nr.QUANTILE)
    monkeypatch.setattr(nr, "known_distances", lambda *a: None)
    nr._pixel_checks.clear()
    measured = nr.pixel_check(train, tests, nr.QUANTILE)
    nr._pixel_checks.clear()
    known._known.cache_clear()
    assert (shipped.threshold, shipped.cosine_scale, shipped.euclid_scale) == \
        (measured.threshold, measured.cosine_scale, measured.euclid_scale)


@pytest.mark.slow
def test_the_shipped_mnist_distances_are_a_fresh_measure(full_data, default_model):
    """``assets/mnist_nearest.npz`` (``scripts/make_nearest_distances.py``) against 300 test digits measured now,
    drawn at random, in pixels and in the default model's last hidden layer: MNIST's own data and the shipped model
    get their answers from the file."""
    from nnplay.handwriting import known

    picked = np.random.default_rng().choice(len(full_data.test_images), 300, replace=False)
    for key, space, model in ((known.PIXELS, "pixels", None),
                              (known.features_key(nr.model_key(default_model)), "features", default_model)):
        shipped = known.known_distances(full_data.train_images, full_data.test_images, key)
        assert shipped is not None, f"the shipped file does not match this MNIST or the default model ({space})"
        directions, lengths = nr._split(nr.points(model, full_data.train_images, space))
        cosine, euclid = nr._nearest(directions, lengths, nr.points(model, full_data.test_images[picked], space))
        np.testing.assert_allclose(shipped[0][picked], cosine, rtol=0, atol=1e-5)
        np.testing.assert_allclose(shipped[1][picked], euclid, rtol=1e-5, atol=1e-4)


@pytest.fixture(scope="module")
def mnist_index(full_data, default_model):
    return nr.index_for(default_model, full_data)


def horizontal(drawings: list[np.ndarray]) -> list[np.ndarray]:
    """The lines along the top or bottom edge (the vertical ones are "1"s, rightly near MNIST's)."""
    return [d for d in drawings if np.ptp(np.nonzero(draw.ink(d) > draw.INK_LEVEL)[1]) > 100]


@pytest.mark.slow
def test_scribbles_and_horizontal_lines_are_flagged(mnist_index, default_model):
    kinds = draw.example_non_digits(20, seed=5)
    # every horizontal line; a scribble light enough to look like a heavy 8 or 0 can pass (the Draw page's
    # "scribble" hint catches most of those by their ink)
    for kind, drawings, share in (("scribble", kinds["scribble"], 0.8), ("horizontal line", horizontal(kinds["edge"]), 1)):
        images = np.stack([draw.to_mnist(d).image for d in drawings])
        flagged = nr.scores_in(mnist_index, default_model, images) > mnist_index.threshold
        assert len(images) >= 5 and flagged.mean() >= share, f"{kind}: {flagged.sum()} of {len(images)} flagged"


def zigzag(segments: int, vertical: bool = False, width: float = 18, low: float = 60, high: float = 220) -> np.ndarray:
    """A zig-zag across the canvas (RGBA, white on transparent): ``segments`` strokes between two heights."""
    img = np.zeros((280, 280, 4), np.uint8)
    along = np.linspace(40, 240, segments + 1)
    across = np.array([(low, high)[i % 2] for i in range(segments + 1)], float)
    draw._stroke(img, np.stack([along, across], 1) if vertical else np.stack([across, along], 1), width)
    return img


@pytest.mark.slow
def test_zigzags_are_flagged(mnist_index, default_model):
    """Drawn as a learner would; the 5-segment one read "4 (89%)" with neither flag nor hint before the pixels
    were asked too."""
    drawings = [zigzag(n) for n in range(3, 10)] + [zigzag(5, width=25), zigzag(5, low=100, high=180),
                                                    zigzag(5, vertical=True)]
    images = np.stack([draw.to_mnist(d).image for d in drawings])
    scores = nr.scores_in(mnist_index, default_model, images)
    assert (scores > mnist_index.threshold).all(), np.round(scores / mnist_index.threshold, 3)


@pytest.mark.slow
def test_mnist_digits_drawn_through_the_canvas_are_not_flagged(mnist_index, default_model, full_data):
    drawn = draw.mnist_roundtrip(full_data.test_images[::5].numpy())  # 2,000 test digits, every fifth
    flagged = nr.scores_in(mnist_index, default_model, drawn) > mnist_index.threshold
    assert flagged.mean() <= 1 - mnist_index.quantile, f"{flagged.sum()} of {len(drawn)} drawn digits flagged"


@pytest.mark.slow
def test_the_nearest_training_digits_of_a_drawn_one_are_ones(mnist_index, default_model):
    image = draw.to_mnist(one_on_canvas()).image  # its speed is scripts/bench_handwriting.py's, not a test's
    with draw.one_thread():
        neighbours = nr.nearest_in(mnist_index, default_model, image)
    assert list(neighbours.labels).count(1) >= 4


# --- the Draw page ---------------------------------------------------------------------------------


def scribble_on_canvas() -> np.ndarray:
    """A zig-zag scribble on the opaque black canvas, as the Draw page's canvas returns it."""
    drawing = draw.example_non_digits(1, seed=2)["scribble"][0]
    out = np.zeros_like(drawing)
    out[..., :3] = drawing[..., 3:4]
    out[..., 3] = 255
    return out


@pytest.fixture
def sample_only(monkeypatch, tmp_path):
    """The built-in sample as the app's data (10,000 training digits: indexed in a few seconds)."""
    import nnplay.data

    def no_download(*_args, **_kwargs):
        raise OSError("tests do not download")

    monkeypatch.setenv("NNPLAY_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(nnplay.data, "_download", no_download)


def drawn_page(drawing: np.ndarray) -> AppTest:
    """The Draw page with ``drawing`` on its canvas, run until the nearest digits show (indexing first)."""
    at = AppTest.from_file(DRAW, default_timeout=120)
    at.session_state["draw_canvas"] = canvas_value(drawing)
    at.run()
    deadline = time.monotonic() + 300
    while any("Indexing the" in c.value for c in at.caption) and time.monotonic() < deadline:
        time.sleep(1)
        at.run()
    assert not at.exception
    return at


def nearest_captions(at) -> list[str]:
    shown = [el for el in at.get("image") if len(el.proto.imgs) == 5]
    assert len(shown) == 1, "the five nearest training digits are not shown"
    return [img.caption for img in shown[0].proto.imgs]


@pytest.mark.slow
def test_draw_shows_the_nearest_digits_of_a_one(sample_only):
    at = drawn_page(one_on_canvas())
    assert at.metric[0].value == "1"
    captions = nearest_captions(at)
    labels = [c.split(" · ")[0] for c in captions]
    distances = [float(c.split(" · ")[1]) for c in captions]
    assert labels.count("1") >= 4 and distances == sorted(distances)
    assert any("Nearest training digits" in md.value for md in at.markdown)
    assert not any("unlike the digits" in w.value for w in at.warning)
    at.radio(key="draw_nearest_space").set_value("pixels").run()
    assert not at.exception


@pytest.mark.slow
def test_draw_says_a_scribble_is_unlike_the_training_digits(sample_only):
    at = drawn_page(scribble_on_canvas())
    assert any("unlike the digits the network learned from" in w.value for w in at.warning)
    assert len(nearest_captions(at)) == 5


def test_another_threads_forward_pass_on_the_shared_model_never_lands_in_the_features(default_model):
    """The model is shared (the default model, a session's): a page's forward pass while the index builds in the
    background must not add rows to it or change them."""
    import threading

    images = np.zeros((600, 28, 28), np.uint8)
    images[:, 10:18, 13:15] = 255
    alone = nr.hidden_features(default_model, images)
    stop = threading.Event()

    def page():
        noise = torch.rand(32, 1, 28, 28)
        while not stop.is_set():
            with torch.inference_mode():
                default_model(noise)

    other = threading.Thread(target=page)
    other.start()
    try:
        together = nr.hidden_features(default_model, images)
    finally:
        stop.set()
        other.join()
    assert together.shape == alone.shape and torch.allclose(together, alone)
