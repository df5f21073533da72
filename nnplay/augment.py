"""Data augmentation: random affine and elastic distortions of a training batch, on its own device.

What lives here: ``distort(images, cfg, generator)`` bends a batch of float images (B, 1, 28, 28) in
[0, 1] as ``TrainConfig.augment`` says, every image its own way, in one ``F.grid_sample``:
- affine: a random shift (±``shift`` px), rotation (±``rotate``°), change of size (±``scale``) and
  shear (±``shear``°) per image, a batch of 2×3 matrices applied to the pixel grid in one matmul;
- elastic (Simard et al. 2003): per image a field of random displacements in [−1, 1] per pixel,
  smoothed by a Gaussian of ``elastic_sigma`` px and scaled by ``elastic_alpha``, drawn directly with that
  covariance from a few numbers per image (the smoothing's leading eigenvectors, ``_field_basis``) rather
  than by smoothing 784 numbers per image; with both, the elastic field is added to the affine grid.
The grid is built axis by axis (x positions, then y) and written once; a training run draws an epoch's affine
maps at once (``affine_maps``) and hands each batch its share.
Every random number comes from ``generator`` (on the images' device), so a run seeded alike is
distorted alike. ``augment_generator`` makes that generator from a run's seed; ``examples``
distorts a few images the same way for Inspect. Pixels from outside the image are black (0).
What does not live here: when a batch is distorted (``engine.train``: training batches only, test
images never), the pictures (``figures.inspect.augmented_figure``). No streamlit.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .config import IMAGE_SIZE, TrainConfig
from .data import normalise

_CACHE: dict = {}  # the few constant matrices of a run's distortions, made once per run rather than per batch
SEED_OFFSET = 0x5EED  # the augmentation's generator differs from the batch order's, seeded from the same seed


def augment_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """The generator a run with ``seed`` distorts its batches with, on ``device``."""
    return torch.Generator(device=device).manual_seed(seed + SEED_OFFSET)


def affine_theta(n: int, cfg: TrainConfig, generator: torch.Generator, device) -> torch.Tensor:
    """(n, 2, 3) matrices, each mapping an output pixel to where it is read in the input (the inverse of the
    random shift · rotation · shear · scale the image undergoes), in [−1, 1] coordinates as ``F.affine_grid``'s.
    Draws 5n uniforms, in order: n angles, n shears, n sizes, then (x, y) shifts image by image."""
    u = torch.rand(5 * n, generator=generator, device=device).mul_(2).sub_(1)  # U(−1, 1)
    bounds = torch.tensor([math.radians(cfg.rotate), math.radians(cfg.shear), cfg.scale], device=device)
    angle, shear, size = (u[:3 * n].view(3, n) * bounds[:, None]).unbind()
    shift = u[3 * n:].view(n, 2) * (cfg.shift * 2 / IMAGE_SIZE)  # px → [−1, 1] units
    cos, sin, tan = torch.cos(angle), torch.sin(angle), torch.tan(shear)
    # the image undergoes A = size · rotation · shear (x += tan·y); its inverse, written out:
    # A⁻¹ = shear⁻¹ · rotationᵀ / size = [[cos + tan·sin, sin − tan·cos], [−sin, cos]] / size
    inverse = torch.stack([cos + tan * sin, sin - tan * cos, -sin, cos], 1).div_(size.add_(1)[:, None]).view(n, 2, 2)
    return torch.cat([inverse, -(inverse @ shift[:, :, None])], dim=2)


def _base_grid(device) -> torch.Tensor:
    """(784, 3) rows (x, y, 1) of every pixel centre in [−1, 1] units, as ``F.affine_grid`` (align_corners=False)."""
    key = ("base", str(device))
    if key not in _CACHE:
        c = (torch.arange(IMAGE_SIZE, dtype=torch.float32, device=device) * 2 + 1) / IMAGE_SIZE - 1
        y, x = torch.meshgrid(c, c, indexing="ij")
        _CACHE[key] = torch.stack([x.flatten(), y.flatten(), torch.ones_like(x.flatten())], 1)
    return _CACHE[key]


def _smoothing_matrix(sigma: float, device) -> torch.Tensor:
    """(28, 28) matrix S with S @ v = v convolved with a normalised Gaussian of ``sigma`` px, cut at 3 sigma
    (at least one pixel each way), zeros beyond the edge: a Toeplitz matrix, so smoothing is a matmul."""
    radius = max(1, math.ceil(3 * sigma))
    offset = torch.arange(IMAGE_SIZE, device=device)
    distance = (offset[:, None] - offset[None, :]).float()
    k = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, device=device).float() / max(sigma, 1e-6)) ** 2)
    band = torch.exp(-0.5 * (distance / max(sigma, 1e-6)) ** 2) * (distance.abs() <= radius)
    return band / k.sum()


KEPT_VARIANCE = 0.999  # the share of the smoothed field's variance its drawn basis keeps


def _field_basis(cfg, device) -> torch.Tensor:
    """(28, r) matrix A with A·Z·Aᵀ (Z: r×r of N(0, 1)) distributed as alpha·S·X·Sᵀ in [−1, 1] units,
    X: U(−1, 1) per pixel, S the Gaussian smoothing: both have covariance alpha²/3 · (S·Sᵀ) ⊗ (S·Sᵀ). With
    S·Sᵀ = V·D·Vᵀ, A = V·√D·alpha^½·(1/3)^¼, cut to the r largest eigenvalues that keep ``KEPT_VARIANCE`` of
    the field's variance; the smoothed field is a sum of hundreds of uniforms per pixel, so Gaussian draws match
    it."""
    key = ("basis", float(cfg.elastic_sigma), float(cfg.elastic_alpha), str(device))
    if key not in _CACHE:
        if len(_CACHE) > 64:  # a long session's many settings
            _CACHE.clear()
        s = _smoothing_matrix(cfg.elastic_sigma, "cpu").double()
        d, v = torch.linalg.eigh(s @ s.T)  # ascending
        d, v = d.flip(0).clamp(min=0), v.flip(1)
        kept = (d.cumsum(0) / d.sum()) ** 2  # the share of variance kept in 2-D: per axis, squared
        r = int((kept < KEPT_VARIANCE).sum()) + 1
        scale = math.sqrt(cfg.elastic_alpha * 2 / IMAGE_SIZE) / 3 ** 0.25  # px → [−1, 1] units, U(−1, 1)'s 1/3
        _CACHE[key] = (v[:, :r] * d[:r].sqrt() * scale).float().to(device)
    return _CACHE[key]


def _read_rows(cfg, device) -> torch.Tensor:
    """(r + 2, 28) matrix R: an image row's r field coefficients and its affine pair (x coefficient, constant),
    times R, give where that row's 28 pixels read along one axis: the rows of Aᵀ (``_field_basis``), then the
    pixel centres' x, then ones."""
    key = ("rows", float(cfg.elastic_sigma), float(cfg.elastic_alpha), str(device))
    if key not in _CACHE:
        x = _base_grid("cpu")[:IMAGE_SIZE, 0]
        _CACHE[key] = torch.cat([_field_basis(cfg, "cpu").T, x[None], torch.ones(1, IMAGE_SIZE)]).to(device)
    return _CACHE[key]


def _planar_grid(theta: torch.Tensor, cfg, generator: torch.Generator | None) -> torch.Tensor:
    """(n, 2, 28, 28) where each output pixel reads, x then y (``F.grid_sample``'s grid, axis first): the affine
    maps ``theta`` (n, 2, 3), plus, with a ``generator``, an elastic field drawn from it.

    The field of one image and axis is A·Zᵀ·Aᵀ, Z (r, r) of N(0, 1) (``_field_basis``): the first product per row
    k of Z, then per image row one matmul whose 2 extra columns carry the affine map, so the grid is written
    once (what an augmented step costs beyond its one resampling: ``scripts/bench_knobs.py``)."""
    n, device = len(theta), theta.device
    t = theta.reshape(2 * n, 3)  # per image and axis: (x coefficient, y coefficient, constant)
    if generator is None:
        return (t @ _base_grid(device).T).view(n, 2, IMAGE_SIZE, IMAGE_SIZE)
    a = _field_basis(cfg, device)
    r = a.shape[1]
    w = (torch.randn(2 * n * r, r, generator=generator, device=device) @ a.T).view(2 * n, r, IMAGE_SIZE)
    y = _base_grid(device)[::IMAGE_SIZE, 1]  # the pixel centres' y
    rows = torch.empty(2 * n, IMAGE_SIZE, r + 2, device=device)  # per image, axis, row: (Z·Aᵀ)ᵀ, x coef, const
    rows[..., :r] = w.transpose(1, 2)
    rows[..., r] = t[:, :1]
    rows[..., r + 1] = t[:, 1:2] * y + t[:, 2:]
    return (rows.view(-1, r + 2) @ _read_rows(cfg, device)).view(n, 2, IMAGE_SIZE, IMAGE_SIZE)


def elastic_field(n: int, cfg: TrainConfig, generator: torch.Generator, device) -> torch.Tensor:
    """(n, 28, 28, 2) displacements in [−1, 1] units: uniform noise in [−1, 1] per pixel smoothed by a Gaussian
    of ``elastic_sigma`` px and scaled by ``elastic_alpha`` px (Simard et al. 2003), drawn in the smoothing's
    own basis: r×r numbers per image and direction rather than 28×28 (``_field_basis``)."""
    return _planar_grid(torch.zeros(n, 2, 3, device=device), cfg, generator).permute(0, 2, 3, 1)


def affine_maps(n: int, cfg: TrainConfig, generator: torch.Generator, device) -> torch.Tensor | None:
    """The affine maps of the next ``n`` images to distort (``affine_theta``), or None without affine distortion:
    drawn for a whole epoch at once (``engine.train``), since the few small tensor calls of a draw cost as much
    for 256 images as for 60,000 (``scripts/bench_knobs.py``)."""
    return affine_theta(n, cfg, generator, device) if "affine" in cfg.augment else None


def distort(images: torch.Tensor, cfg: TrainConfig, generator: torch.Generator,
            theta: torch.Tensor | None = None) -> torch.Tensor:
    """``images`` (B, 1, 28, 28) floats in [0, 1], each distorted as ``cfg.augment`` says (unchanged for "none").
    ``theta``: the batch's affine maps when drawn beforehand (``affine_maps``); otherwise drawn here, first."""
    if cfg.augment == "none":
        return images
    n, device = len(images), images.device
    if theta is None:
        theta = affine_maps(n, cfg, generator, device)
    if theta is None:
        theta = torch.eye(2, 3, device=device).expand(n, 2, 3)
    grid = _planar_grid(theta, cfg, generator if "elastic" in cfg.augment else None)
    return F.grid_sample(images, grid.permute(0, 2, 3, 1), mode="bilinear", padding_mode="zeros",
                         align_corners=False)


def examples(images_u8: torch.Tensor, cfg: TrainConfig, copies: int = 3) -> torch.Tensor:
    """A few training images as the network saw them: (N, 1 + copies, 28, 28) uint8, each image first as it is
    and then ``copies`` distortions of it, drawn from the run's seed (on the CPU)."""
    x = normalise(images_u8.cpu())  # (N, 1, 28, 28)
    generator = augment_generator(cfg.seed)
    seen = [distort(x, cfg, generator) for _ in range(copies)]
    stack = torch.cat([x, *seen], dim=1)  # (N, 1 + copies, 28, 28)
    return stack.mul(255).round().clamp(0, 255).to(torch.uint8)
