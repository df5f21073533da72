"""The training digits nearest to a drawing, and whether the drawing is like any of them at all.

What lives here: ``build_index`` (every training image as a point: its activations in the model's last hidden
layer, the input of its final ``Linear``, for an MLP and a CNN alike, or its pixels; with the threshold of
"unlike the training digits" measured on the test set), ``index_for`` (the same, computed once per model and
kept in a process-wide cache bounded in bytes; ``start_index`` builds it in a background thread,
``ready_index`` answers without computing), ``nearest`` (the k nearest training digits of one image, one
matrix product against the kept points; ``scores_in`` for many images) and ``unlike_sentence`` (what to say next to the answer when even the
nearest is far). What does not: the Draw page's view of them (``nnplay.ui.nearest_view``).

Distances. A point is kept as its direction (the row scaled to length 1) and its length. The nearest digits
are ranked by cosine distance, 1 − cos, between directions: 0 is the same shape, 1 nothing in common. The
flag also weighs the plain (Euclidean) distance: a horizontal stroke points nowhere a digit points (far in
direction), a dense scribble points like an 8 but lights up far more of the layer than any digit does (far
in length). Each test digit's nearest cosine and Euclidean distances are measured, each scaled by its own
``quantile`` over the test set; a drawing's ``score`` is the larger of its two scaled distances, and the
threshold is the ``quantile`` of the test digits' scores, so that a fraction 1 − ``quantile`` of the test
digits is flagged, no more. A features index asks the pixels too (``PixelCheck``, built once per training
and test set and shared by every model's index): a zig-zag across the canvas can land among
the 4s in the last hidden layer while no training image looks like it pixel by pixel. Its score is then the
larger of the two spaces' scores, each divided by its own threshold, and the threshold the ``quantile`` of
the test digits' scores so combined: still a fraction
1 − ``quantile`` of the test digits is flagged. MNIST's own test digits' distances in pixels and in the default
model's last hidden layer are shipped (``known``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from ..data import normalise
from ..models import evaluating
from .known import PIXELS, features_key, known_distances

Space = Literal["features", "pixels"]
SPACES: tuple[Space, ...] = ("features", "pixels")
QUANTILE = 0.99
"""A drawing is unlike the training digits when it is farther from them than this share of the test digits."""
MAX_CACHE_BYTES = 512 * 2**20
"""The cache of indexes keeps at most this many bytes (60,000 × 256 features are 61 MB; pixels 188 MB)."""
BATCH = 2048  # images per forward pass while indexing
QUERY_CHUNK = 500  # test digits per matrix product while measuring the threshold: (500, 60,000) floats


@dataclass(frozen=True)
class PixelCheck:
    """The training images as pixel points, for a features index's flag; one per training and test set (``pixel_check``),
    shared by every model's index, and the very points of the pixels index."""

    directions: torch.Tensor
    """float32 (N, 784): each training image's pixels scaled to length 1."""
    lengths: torch.Tensor
    cosine_scale: float
    euclid_scale: float
    test_scores: np.ndarray
    """float64 (T,): each test digit's pixel score."""
    threshold: float
    """The ``quantile`` of ``test_scores``."""

    @property
    def nbytes(self) -> int:
        return self.directions.nbytes + self.lengths.nbytes


@dataclass(frozen=True)
class NearestIndex:
    """The training images as points in one space, with the threshold measured on the test set."""

    space: Space
    directions: torch.Tensor
    """float32 (N, D): each training image's point scaled to length 1."""
    lengths: torch.Tensor
    """float32 (N,): each point's length before scaling."""
    labels: np.ndarray
    """int64 (N,): each training image's label."""
    cosine_scale: float
    """The ``quantile`` of the test digits' nearest cosine distances."""
    euclid_scale: float
    """The ``quantile`` of the test digits' nearest Euclidean distances."""
    threshold: float
    """The ``quantile`` of the test digits' scores: a drawing scoring more is unlike the training digits."""
    quantile: float
    test_digits: int
    """How many test digits the threshold was measured on."""
    seconds: float
    """How long building it took."""
    pixels: PixelCheck | None = None
    """A features index's second opinion for the flag (see the module's docstring); None for a pixels index."""
    own_threshold: float = 1.0
    """The ``quantile`` of the test digits' scores in this index's own space, before the pixels are asked."""

    @property
    def size(self) -> int:
        return len(self.labels)

    @property
    def nbytes(self) -> int:
        return self.directions.nbytes + self.lengths.nbytes + self.labels.nbytes  # ``pixels`` is shared


@dataclass(frozen=True)
class Neighbours:
    """The k training digits nearest to one image, nearest first, and how far the nearest is."""

    indices: np.ndarray
    """int64 (k,): positions in the training set."""
    labels: np.ndarray
    """int64 (k,): their labels."""
    distances: np.ndarray
    """float32 (k,): cosine distances, 1 − cos (0 the same shape, 1 nothing in common)."""
    score: float
    """The nearest distance on the test set's scale (see the module's docstring); above ``threshold``: unlike."""
    threshold: float
    space: Space
    quantile: float
    training_digits: int

    @property
    def unlike(self) -> bool:
        """True when even the nearest training digit is farther than nearly all test digits are from theirs."""
        return self.score > self.threshold


# ---------------------------------------------------------------------------------------------
# points


def last_linear(model: nn.Module) -> nn.Linear:
    """The model's final ``Linear``, whose input is the last hidden layer; ValueError when it has none."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("This model has no Linear layer, so it has no last hidden layer to compare digits in; "
                         "use the pixel space.")
    return linears[-1]


def _device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def hidden_features(model: nn.Module, images_u8) -> torch.Tensor:
    """float32 (N, D) on the CPU: what the model's final Linear receives for each uint8 (N, 28, 28) image."""
    images = torch.as_tensor(np.asarray(images_u8) if not isinstance(images_u8, torch.Tensor) else images_u8)
    images = images.reshape(-1, 28, 28).to(torch.uint8)
    caught: list[torch.Tensor] = []
    me = threading.get_ident()

    def catch(_module, args) -> None:
        if threading.get_ident() == me:  # the model is shared: another thread's forward pass (a page) is not ours
            caught.append(args[0].detach().float().cpu())

    hook = last_linear(model).register_forward_pre_hook(catch)
    device = _device(model)
    try:
        with evaluating(model), torch.inference_mode():
            for start in range(0, len(images), BATCH):
                _not_ending()
                model(normalise(images[start:start + BATCH].to(device)))
    finally:
        hook.remove()
    return torch.cat(caught).flatten(1) if caught else torch.zeros(0, last_linear(model).in_features)


def points(model: nn.Module | None, images_u8, space: Space) -> torch.Tensor:
    """float32 (N, D): the images as points of ``space``: hidden features, or pixels in [0, 1]."""
    if space == "features":
        if model is None:
            raise ValueError("The feature space needs a model.")
        return hidden_features(model, images_u8)
    if space == "pixels":
        images = torch.as_tensor(np.asarray(images_u8) if not isinstance(images_u8, torch.Tensor) else images_u8)
        return images.reshape(len(images), -1).float() / 255
    raise ValueError(f'space must be "features" or "pixels", got {space!r}.')


class BuildCancelled(RuntimeError):
    """An index build stopped by ``IndexCache.cancel``; nothing is kept, and the next request builds it anew."""


_build = threading.local()  # .cancelled: the Event of the build running in this thread, set by IndexCache.cancel


def _not_ending() -> None:
    """Stop a build once the process ends (its main thread has finished), rather than hold the exit up or be cut
    off inside torch, or once its cache cancels it."""
    if not threading.main_thread().is_alive():
        raise RuntimeError("The process is ending; the index was not finished.")
    cancelled = getattr(_build, "cancelled", None)
    if cancelled is not None and cancelled.is_set():
        raise BuildCancelled("The index build was cancelled.")


def _split(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = x.norm(dim=1)
    return x / lengths.clamp(min=1e-12)[:, None], lengths


def _distances(directions: torch.Tensor, lengths: torch.Tensor, q_dir: torch.Tensor, q_len: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """(cosine, Euclidean) distances (Q, N) from one matrix product of directions."""
    cos = q_dir @ directions.T  # (Q, N)
    # |q − b|² = |q|² + |b|² − 2 |q||b| cos
    sq = q_len[:, None] ** 2 + lengths[None, :] ** 2 - 2 * (q_len[:, None] * lengths[None, :]) * cos
    return (1 - cos).clamp_(min=0), sq.clamp_(min=0).sqrt_()


def _nearest(directions: torch.Tensor, lengths: torch.Tensor, queries: torch.Tensor
             ) -> tuple[np.ndarray, np.ndarray]:
    """Each query point's nearest (cosine, Euclidean) distances to the indexed points, in chunks: one matrix
    product per chunk, d = q·b̂ (b̂ an indexed direction), whose row maximum gives the cosine (cos = d / |q|) and
    whose row minimum of |b|² − 2|b|·d, plus |q|², the squared Euclidean distance."""
    squares = lengths ** 2
    nearest_cos, nearest_euc = [], []
    for start in range(0, len(queries), QUERY_CHUNK):
        _not_ending()
        q = queries[start:start + QUERY_CHUNK]
        q_len = q.norm(dim=1)
        dots = q @ directions.T  # (Q, N)
        nearest_cos.append((1 - dots.amax(dim=1) / q_len.clamp(min=1e-12)).clamp_(min=0))
        torch.addcmul(squares, dots, lengths, value=-2, out=dots)  # in place: one pass over the (Q, N) products
        nearest_euc.append((dots.amin(dim=1) + q_len ** 2).clamp_(min=0).sqrt_())
    return torch.cat(nearest_cos).numpy(), torch.cat(nearest_euc).numpy()


def _test_nearest(directions: torch.Tensor, lengths: torch.Tensor, model: nn.Module | None, train_images, tests,
                  space: Space) -> tuple[np.ndarray, np.ndarray]:
    """Each test digit's nearest (cosine, Euclidean) distances in ``space``: shipped for MNIST's own digits in
    pixels and in the default model (``known``), else measured."""
    key = PIXELS if space == "pixels" else features_key(model_key(model))
    distances = known_distances(train_images, tests, key)
    return distances if distances is not None else _nearest(directions, lengths, points(model, tests, space))


def _scaled(cos_d: np.ndarray, euc_d: np.ndarray, cos_scale: float, euc_scale: float) -> np.ndarray:
    """float64: each point's score, the larger of its two nearest distances on their scales."""
    return np.maximum(cos_d / cos_scale, euc_d / euc_scale).astype(np.float64)


def _scales(cos_d: np.ndarray, euc_d: np.ndarray, quantile: float) -> tuple[float, float, np.ndarray]:
    """Each distance's ``quantile`` over the test digits, and their scores."""
    cos_scale = max(float(np.quantile(cos_d, quantile)), 1e-9)
    euc_scale = max(float(np.quantile(euc_d, quantile)), 1e-9)
    return cos_scale, euc_scale, _scaled(cos_d, euc_d, cos_scale, euc_scale)


def build_index(model: nn.Module | None, train_images, train_labels, test_images, space: Space = "features",
                quantile: float = QUANTILE, test_limit: int | None = None) -> NearestIndex:
    """Every training image as a point of ``space``, and the threshold measured on ``test_images`` (the first
    ``test_limit`` of them when given): see the module's docstring."""
    if not 0.5 <= quantile < 1:
        raise ValueError(f"quantile must be at least 0.5 and below 1, got {quantile}.")
    if len(train_images) == 0 or len(test_images) == 0:
        raise ValueError("Indexing needs training images and test images; one of the two sets is empty.")
    started = time.perf_counter()
    tests = test_images[:test_limit] if test_limit else test_images
    check = pixel_check(train_images, tests, quantile)
    if space == "pixels":  # the pixel check's points are this index's: one copy of MNIST's pixels, not two
        directions, lengths, scores = check.directions, check.lengths, check.test_scores
        cos_scale, euc_scale, own, check = check.cosine_scale, check.euclid_scale, check.threshold, None
    else:
        directions, lengths = _split(points(model, train_images, space))
        cos_scale, euc_scale, scores = _scales(*_test_nearest(directions, lengths, model, train_images, tests, space),
                                               quantile)
        own = float(np.quantile(scores, quantile))
        scores = np.maximum(scores / own, check.test_scores / check.threshold)
    labels = np.asarray(train_labels.numpy() if isinstance(train_labels, torch.Tensor) else train_labels,
                        dtype=np.int64)
    return NearestIndex(space, directions.contiguous(), lengths, labels, cos_scale, euc_scale,
                        float(np.quantile(scores, quantile)), quantile, len(tests), time.perf_counter() - started,
                        check, own)


_pixel_checks: OrderedDict = OrderedDict()  # data_key, quantile -> PixelCheck; the last few kept
_pixel_lock = threading.Lock()


def pixel_check(train_images, tests, quantile: float) -> PixelCheck:
    """The ``PixelCheck`` of a training and test set, built once (180 MB for MNIST) and shared."""
    key = (data_key(train_images, tests), quantile)
    with _pixel_lock:  # one build at a time: a second index waits for the first's
        if key not in _pixel_checks:
            directions, lengths = _split(points(None, train_images, "pixels"))
            cos_scale, euc_scale, scores = _scales(*_test_nearest(directions, lengths, None, train_images, tests,
                                                                  "pixels"), quantile)
            _pixel_checks[key] = PixelCheck(directions, lengths, cos_scale, euc_scale, scores,
                                            float(np.quantile(scores, quantile)))
            while len(_pixel_checks) > 3:
                _pixel_checks.popitem(last=False)
        _pixel_checks.move_to_end(key)
        return _pixel_checks[key]


def _score(index: NearestIndex, cos: torch.Tensor, euc: torch.Tensor, model, images: np.ndarray) -> np.ndarray:
    """float64 (Q,): the queries' scores from their distances in the index's space (and its pixel check)."""
    scores = _scaled(cos.min(dim=1).values.numpy(), euc.min(dim=1).values.numpy(), index.cosine_scale,
                     index.euclid_scale)
    check = index.pixels
    if check is None:
        return scores
    p_cos, p_euc = _distances(check.directions, check.lengths, *_split(points(None, images, "pixels")))
    pixel = _scaled(p_cos.min(dim=1).values.numpy(), p_euc.min(dim=1).values.numpy(), check.cosine_scale,
                    check.euclid_scale)
    return np.maximum(scores / index.own_threshold, pixel / check.threshold)


def nearest_in(index: NearestIndex, model: nn.Module | None, image_u8, k: int = 5) -> Neighbours:
    """The ``k`` training digits of ``index`` nearest to one uint8 (28, 28) image, nearest first."""
    k = max(1, min(int(k), index.size))
    image = np.asarray(image_u8, dtype=np.uint8).reshape(1, 28, 28)
    q_dir, q_len = _split(points(model, image, index.space))
    cos, euc = _distances(index.directions, index.lengths, q_dir, q_len)
    dist, where = torch.topk(cos[0], k, largest=False)  # sorted, nearest first
    score = float(_score(index, cos, euc, model, image)[0])
    where = where.numpy()
    return Neighbours(where, index.labels[where], dist.numpy().astype(np.float32), score, index.threshold,
                      index.space, index.quantile, index.size)


def scores_in(index: NearestIndex, model: nn.Module | None, images_u8) -> np.ndarray:
    """float64 (N,): each image's score (above ``index.threshold``: unlike the training digits), in chunks."""
    images = np.asarray(images_u8, dtype=np.uint8).reshape(-1, 28, 28)
    out = []
    for start in range(0, len(images), QUERY_CHUNK):
        chunk = images[start:start + QUERY_CHUNK]
        cos, euc = _distances(index.directions, index.lengths, *_split(points(model, chunk, index.space)))
        out.append(_score(index, cos, euc, model, chunk))
    return np.concatenate(out) if out else np.zeros(0)


# ---------------------------------------------------------------------------------------------
# the cache: one index per model (by its weights), training set and space


def model_key(model: nn.Module | None) -> str:
    """A digest of the model's architecture and weights: the same weights give the same key, a changed weight
    (further training) another."""
    if model is None:
        return "no model"
    digest = hashlib.blake2b(repr(model).encode(), digest_size=16)
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def data_key(train_images, test_images) -> tuple:
    """Which training and test set: their sizes and a few of their pixels."""
    def probe(images) -> bytes:
        t = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images)
        return t[:: max(1, len(t) // 64)].contiguous().numpy().tobytes() if len(t) else b""
    return len(train_images), len(test_images), hashlib.blake2b(probe(train_images) + probe(test_images),
                                                                digest_size=16).hexdigest()


class IndexCache:
    """Indexes by key, least recently used dropped first once they hold more than ``max_bytes``; one build
    per key at a time (a second caller waits for the first's result)."""

    def __init__(self, max_bytes: int = MAX_CACHE_BYTES):
        self.max_bytes = max_bytes
        self._indexes: OrderedDict[tuple, NearestIndex] = OrderedDict()
        self._building: dict[tuple, threading.Event] = {}
        self._cancelled: dict[tuple, threading.Event] = {}
        self._errors: dict[tuple, str] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> NearestIndex | None:
        with self._lock:
            index = self._indexes.get(key)
            if index is not None:
                self._indexes.move_to_end(key)
            return index

    def building(self, key: tuple) -> bool:
        with self._lock:
            return key in self._building

    def error(self, key: tuple) -> str:
        with self._lock:
            return self._errors.get(key, "")

    def get_or_build(self, key: tuple, build) -> NearestIndex:
        while True:
            with self._lock:
                if key in self._indexes:
                    self._indexes.move_to_end(key)
                    return self._indexes[key]
                waiting = self._building.get(key)
                if waiting is None:
                    self._building[key] = threading.Event()
                    self._cancelled[key] = cancelled = threading.Event()
                    self._errors.pop(key, None)
                    break
            waiting.wait()
            if self.error(key):
                raise ValueError(self.error(key))
        outer, _build.cancelled = getattr(_build, "cancelled", None), cancelled
        try:
            index = build()
        except BuildCancelled:
            raise
        except Exception as err:
            with self._lock:
                self._errors[key] = str(err)
            raise
        finally:
            _build.cancelled = outer
            with self._lock:
                self._building.pop(key).set()
                self._cancelled.pop(key)
        self.put(key, index)
        return index

    def put(self, key: tuple, index: NearestIndex) -> None:
        with self._lock:
            self._indexes[key] = index
            self._indexes.move_to_end(key)
            while len(self._indexes) > 1 and sum(i.nbytes for i in self._indexes.values()) > self.max_bytes:
                self._indexes.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._indexes.clear()
            self._errors.clear()

    def cancel(self, timeout: float | None = None) -> bool:
        """Stop every build in flight at its next batch (nothing of it is kept) and wait for them to end; True if
        they did within ``timeout``. A process's tests call it so that no build outlives the test that began it."""
        with self._lock:
            for cancelled in self._cancelled.values():
                cancelled.set()
        return self.wait_idle(timeout)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until the builds in flight now have ended (kept or failed); True if they did within ``timeout``."""
        with self._lock:
            events = list(self._building.values())
        deadline = None if timeout is None else time.monotonic() + timeout
        return all(e.wait(None if deadline is None else max(0.0, deadline - time.monotonic())) for e in events)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(i.nbytes for i in self._indexes.values())


CACHE = IndexCache()


def _cache(cache: IndexCache | None) -> IndexCache:
    """The cache given, else the process's ``CACHE`` as it is now (read when called, so it can be swapped)."""
    return cache if cache is not None else CACHE


def _default_data():
    from ..config import DataConfig
    from ..data import load_mnist

    return load_mnist(DataConfig(download=False))


def index_key(model: nn.Module | None, data, space: Space) -> tuple:
    return (space, model_key(model) if space == "features" else "", data_key(data.train_images, data.test_images))


def index_for(model: nn.Module | None, data=None, space: Space = "features", cache: IndexCache | None = None
              ) -> NearestIndex:
    """The index of ``data``'s training images (an ``MnistData``; default: MNIST as ``load_mnist`` finds it) for
    this model in ``space``, built on first use and kept in ``cache``."""
    data = data if data is not None else _default_data()
    key = index_key(model, data, space)
    return _cache(cache).get_or_build(key, lambda: build_index(model, data.train_images, data.train_labels,
                                                       data.test_images, space))


def ready_index(model: nn.Module | None, data, space: Space = "features", cache: IndexCache | None = None
                ) -> NearestIndex | None:
    """The index when it is already built, else None (nothing is computed)."""
    return _cache(cache).get(index_key(model, data, space))


def start_index(model: nn.Module | None, data, space: Space = "features", cache: IndexCache | None = None
                ) -> threading.Thread | None:
    """Build the index in a background thread unless it is built or being built; the thread, or None."""
    key, cache = index_key(model, data, space), _cache(cache)
    if cache.get(key) is not None or cache.building(key):
        return None

    def work() -> None:
        try:
            index_for(model, data, space, cache)
        except Exception:  # kept in the cache's errors; the page says it
            pass

    thread = threading.Thread(target=work, name="nnplay-nearest-index", daemon=False)  # joined at exit: _not_ending
    thread.start()
    return thread


def index_problem(model: nn.Module | None, data, space: Space = "features", cache: IndexCache | None = None) -> str:
    """Why building this index failed (a sentence), or ""."""
    return _cache(cache).error(index_key(model, data, space))


def nearest(model: nn.Module | None, image_u8, k: int = 5, *, data=None, space: Space = "features",
            cache: IndexCache | None = None) -> Neighbours:
    """The ``k`` training digits nearest to one uint8 (28, 28) image (``data``'s training set, default MNIST), in
    the model's last hidden layer or in pixels; the index is built on first use and kept."""
    return nearest_in(index_for(model, data, space, cache), model, image_u8, k)


# ---------------------------------------------------------------------------------------------
# what to say


def unlike_sentence(neighbours: Neighbours, answer: str | None = None, probability: float | None = None,
                    what: str = "digits") -> str | None:
    """When the drawing is unlike the training ``what``: a sentence saying so, and that the answer's confidence
    (``answer`` at ``probability``) is no probability of being right; else None."""
    if not neighbours.unlike:
        return None
    place = "in the network's last hidden layer" if neighbours.space == "features" else "pixel by pixel"
    said = (f"This drawing is unlike the {what} the network learned from: even the nearest of its "
            f"{neighbours.training_digits:,} training {what} is farther from it ({place}) than "
            f"{neighbours.quantile:.0%} of the test {what} are from theirs.")
    if answer is not None and probability is not None:
        said += (f" The {probability:.1%} for {answer} only says how the network splits its vote among the classes "
                 f"it knows; it is not the chance that {answer} is right.")
    else:
        said += " Its confidence is no chance of being right."
    return said
