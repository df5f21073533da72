"""Data augmentation: random affine and elastic distortions of a training batch, on its own device.

What lives here: ``distort(images, cfg, generator)`` bends a batch of float images (B, 1, 28, 28) in
[0, 1] as ``TrainConfig.augment`` says, every image its own way, in one ``F.grid_sample``:
- affine: a random shift (±``shift`` px), rotation (±``rotate``°), change of size (±``scale``) and
  shear (±``shear``°) per image, a batch of 2×3 matrices applied to the pixel grid in one matmul;
- elastic (Simard et al. 2003): per image a field of random displacements in [−1, 1] per pixel,
  smoothed by a Gaussian of ``elastic_sigma`` px and scaled by ``elastic_alpha``, drawn directly with that
  covariance from a few numbers per image (the smoothing's leading eigenvectors, ``_field_basis``) rather
  than by smoothing 784 numbers per image; with both, the elastic field is added to the affine grid.
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

SEED_OFFSET = 0x5EED  # the augmentation's generator differs from the batch order's, seeded from the same seed


def augment_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """The generator a run with ``seed`` distorts its batches with, on ``device``."""
    return torch.Generator(device=device).manual_seed(seed + SEED_OFFSET)


def _uniform(n: int, bound: float, generator: torch.Generator, device) -> torch.Tensor:
    """n draws from U(−bound, bound)."""
    return (torch.rand(n, generator=generator, device=device) * 2 - 1) * bound


def affine_theta(n: int, cfg: TrainConfig, generator: torch.Generator, device) -> torch.Tensor:
    """(n, 2, 3) matrices, each mapping an output pixel to where it is read in the input (the inverse of the
    random shift · rotation · shear · scale the image undergoes), in [−1, 1] coordinates as ``F.affine_grid``'s."""
    angle = _uniform(n, math.radians(cfg.rotate), generator, device)
    shear = _uniform(n, math.radians(cfg.shear), generator, device)
    size = 1 + _uniform(n, cfg.scale, generator, device)
    shift = _uniform(2 * n, cfg.shift, generator, device).view(n, 2, 1) * (2 / IMAGE_SIZE)  # px → [−1, 1] units
    cos, sin, tan = torch.cos(angle), torch.sin(angle), torch.tan(shear)
    # the image undergoes A = size · rotation · shear (x += tan·y); its inverse, written out:
    # A⁻¹ = shear⁻¹ · rotationᵀ / size = [[cos + tan·sin, sin − tan·cos], [−sin, cos]] / size
    inverse = torch.stack([torch.stack([cos + tan * sin, sin - tan * cos], -1),
                           torch.stack([-sin, cos], -1)], -2) / size[:, None, None]
    return torch.cat([inverse, -(inverse @ shift)], dim=2)


def _base_grid(device) -> torch.Tensor:
    """(784, 3) rows (x, y, 1) of every pixel centre in [−1, 1] units, as ``F.affine_grid`` (align_corners=False)."""
    c = (torch.arange(IMAGE_SIZE, dtype=torch.float32, device=device) * 2 + 1) / IMAGE_SIZE - 1
    y, x = torch.meshgrid(c, c, indexing="ij")
    return torch.stack([x.flatten(), y.flatten(), torch.ones_like(x.flatten())], 1)


def _smoothing_matrix(sigma: float, device) -> torch.Tensor:
    """(28, 28) matrix S with S @ v = v convolved with a normalised Gaussian of ``sigma`` px, cut at 3 sigma
    (at least one pixel each way), zeros beyond the edge: a Toeplitz matrix, so smoothing is a matmul."""
    radius = max(1, math.ceil(3 * sigma))
    offset = torch.arange(IMAGE_SIZE, device=device)
    distance = (offset[:, None] - offset[None, :]).float()
    k = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, device=device).float() / max(sigma, 1e-6)) ** 2)
    band = torch.exp(-0.5 * (distance / max(sigma, 1e-6)) ** 2) * (distance.abs() <= radius)
    return band / k.sum()


_CACHE: dict = {}  # the few constant matrices of a run's distortions, made once per run rather than per batch
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


def _columns(cfg, device) -> torch.Tensor:
    """(4 + 2r, 56) matrix M turning an image row's coefficients into where that row's 28 pixels read, (x, y)
    interleaved as ``F.grid_sample``'s grid: rows 0–1 put x·(its coefficient) into x and y, rows 2–3 a constant
    into x and y, and with elastic 2r rows kron(Aᵀ, I₂), each basis vector of ``_field_basis`` into x or y."""
    elastic = "elastic" in cfg.augment
    key = ("columns", float(cfg.elastic_sigma), float(cfg.elastic_alpha), elastic, str(device))
    if key not in _CACHE:
        x = _base_grid("cpu")[:IMAGE_SIZE, 0]  # the pixel centres' x
        eye = torch.eye(2)
        parts = [torch.kron(x[None], eye), torch.kron(torch.ones(1, IMAGE_SIZE), eye)]
        if elastic:
            parts.append(torch.kron(_field_basis(cfg, "cpu").T, eye))
        _CACHE[key] = torch.cat(parts).to(device)
    return _CACHE[key]


def _affine_rows(theta: torch.Tensor) -> torch.Tensor:
    """(n, 28, 4) coefficients of each image row y under theta (n, 2, 3): output (x, y) reads at
    theta·(x, y, 1) = x·theta[:, :, 0] + (y·theta[:, :, 1] + theta[:, :, 2])."""
    y = _base_grid(theta.device)[::IMAGE_SIZE, 1]  # the pixel centres' y
    per_x = theta[:, None, :, 0].expand(-1, IMAGE_SIZE, -1)
    per_row = (theta[:, :, 1:2] * y + theta[:, :, 2:3]).transpose(1, 2)
    return torch.cat([per_x, per_row], 2)


def _elastic_rows(n: int, cfg, generator: torch.Generator, device) -> torch.Tensor:
    """(n, 28, 2r) coefficients of each image row y: A·Zᵀ of ``_field_basis``, Z (r, r) per image and direction,
    of N(0, 1), laid out (basis vector, direction) as ``_columns`` reads them."""
    a = _field_basis(cfg, device)
    r = a.shape[1]
    z = torch.randn(n * r * 2, r, generator=generator, device=device)  # Z[image, k, direction, l]
    return (z @ a.T).view(n, 2 * r, IMAGE_SIZE).transpose(1, 2)


def elastic_field(n: int, cfg: TrainConfig, generator: torch.Generator, device) -> torch.Tensor:
    """(n, 28, 28, 2) displacements in [−1, 1] units: uniform noise in [−1, 1] per pixel smoothed by a Gaussian
    of ``elastic_sigma`` px and scaled by ``elastic_alpha`` px (Simard et al. 2003), drawn in the smoothing's
    own basis: r×r numbers per image and direction rather than 28×28 (``_field_basis``)."""
    rows = _elastic_rows(n, cfg, generator, device)
    return (rows.reshape(-1, rows.shape[2]) @ _columns(cfg, device)[4:]).view(n, IMAGE_SIZE, IMAGE_SIZE, 2)


def distort(images: torch.Tensor, cfg: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """``images`` (B, 1, 28, 28) floats in [0, 1], each distorted as ``cfg.augment`` says (unchanged for "none")."""
    if cfg.augment == "none":
        return images
    n, device = len(images), images.device
    if "affine" in cfg.augment:
        theta = affine_theta(n, cfg, generator, device)
    else:
        theta = torch.eye(2, 3, device=device).expand(n, -1, -1)
    rows = _affine_rows(theta)
    if "elastic" in cfg.augment:  # the field joins the affine map in the same matmul: one grid, one resampling
        rows = torch.cat([rows, _elastic_rows(n, cfg, generator, device)], 2)
    grid = (rows.reshape(n * IMAGE_SIZE, -1) @ _columns(cfg, device)).view(n, IMAGE_SIZE, IMAGE_SIZE, 2)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def examples(images_u8: torch.Tensor, cfg: TrainConfig, copies: int = 3) -> torch.Tensor:
    """A few training images as the network saw them: (N, 1 + copies, 28, 28) uint8, each image first as it is
    and then ``copies`` distortions of it, drawn from the run's seed (on the CPU)."""
    x = normalise(images_u8.cpu())  # (N, 1, 28, 28)
    generator = augment_generator(cfg.seed)
    seen = [distort(x, cfg, generator) for _ in range(copies)]
    stack = torch.cat([x, *seen], dim=1)  # (N, 1 + copies, 28, 28)
    return stack.mul(255).round().clamp(0, 255).to(torch.uint8)
