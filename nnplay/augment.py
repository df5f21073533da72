"""Data augmentation: random affine and elastic distortions of a training batch, on its own device.

What lives here: ``distort(images, cfg, generator)`` bends a batch of float images (B, 1, 28, 28) in
[0, 1] as ``TrainConfig.augment`` says, every image its own way, in one ``F.grid_sample``:
- affine: a random shift (±``shift`` px), rotation (±``rotate``°), change of size (±``scale``) and
  shear (±``shear``°) per image, a batch of 2×3 matrices applied to the pixel grid in one matmul;
- elastic (Simard et al. 2003): per image a field of random displacements in [−1, 1] per pixel,
  smoothed by a Gaussian of ``elastic_sigma`` px (a separable convolution written as two matmuls with a
  Toeplitz matrix, over the whole batch) and scaled by ``elastic_alpha``; with both, the elastic
  field is added to the affine grid.
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


def elastic_field(n: int, cfg: TrainConfig, generator: torch.Generator, device) -> torch.Tensor:
    """(n, 28, 28, 2) displacements in [−1, 1] units: uniform noise in [−1, 1] per pixel smoothed by a Gaussian
    of ``elastic_sigma`` px and scaled by ``elastic_alpha`` px (Simard et al. 2003)."""
    unit = torch.rand(2 * n * IMAGE_SIZE, IMAGE_SIZE, generator=generator, device=device)  # U(0, 1)
    return _smoothed(unit, n, cfg, device) - _smoothed_ones(cfg, device)  # smoothing is linear: 2U − 1 ↦ 2·S(U) − S(1)


def _smoothed(unit: torch.Tensor, n: int, cfg: TrainConfig, device) -> torch.Tensor:
    """2·alpha·S(U) in [−1, 1] units, (n, 28, 28, 2) laid out in memory as (n, 2, y, x), as the affine grid is:
    the separable Gaussian S as two plain matrix products (the noise's rows read as x, smoothed along y; then
    the transposed maps, along x), the scale folded into the matrix."""
    s_t = _smoothing_matrix(cfg.elastic_sigma, device).T
    scaled = s_t * (2 * cfg.elastic_alpha * 2 / IMAGE_SIZE)
    smooth = (unit @ s_t).view(2 * n, IMAGE_SIZE, IMAGE_SIZE).transpose(1, 2).reshape(-1, IMAGE_SIZE) @ scaled
    return smooth.view(n, 2, IMAGE_SIZE, IMAGE_SIZE).permute(0, 2, 3, 1)


def _smoothed_ones(cfg: TrainConfig, device) -> torch.Tensor:
    """alpha·S(1) in [−1, 1] units, (1, 28, 28, 2): what the constant −1 of the noise 2U − 1 becomes."""
    r = _smoothing_matrix(cfg.elastic_sigma, device).sum(1)  # S·1: below 1 near the edges, where zeros come in
    return (torch.outer(r, r) * (cfg.elastic_alpha * 2 / IMAGE_SIZE))[None, :, :, None].expand(1, -1, -1, 2)


def distort(images: torch.Tensor, cfg: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """``images`` (B, 1, 28, 28) floats in [0, 1], each distorted as ``cfg.augment`` says (unchanged for "none")."""
    if cfg.augment == "none":
        return images
    n, device = len(images), images.device
    base = _base_grid(device)
    if "affine" in cfg.augment:  # where each output pixel reads: the (2n, 3) rows of theta times the pixel grid
        theta = affine_theta(n, cfg, generator, device)
        grid = (theta.reshape(-1, 3) @ base.T).view(n, 2, IMAGE_SIZE, IMAGE_SIZE).permute(0, 2, 3, 1)
    else:
        grid = base[:, :2].reshape(1, IMAGE_SIZE, IMAGE_SIZE, 2)
    if "elastic" in cfg.augment:  # the field's constant part joins the (small) grid before the batch-sized add
        unit = torch.rand(2 * n * IMAGE_SIZE, IMAGE_SIZE, generator=generator, device=device)
        grid = (grid - _smoothed_ones(cfg, device)) + _smoothed(unit, n, cfg, device)
    return F.grid_sample(images, grid.expand(n, -1, -1, -1), mode="bilinear", padding_mode="zeros",
                         align_corners=False)


def examples(images_u8: torch.Tensor, cfg: TrainConfig, copies: int = 3) -> torch.Tensor:
    """A few training images as the network saw them: (N, 1 + copies, 28, 28) uint8, each image first as it is
    and then ``copies`` distortions of it, drawn from the run's seed (on the CPU)."""
    x = normalise(images_u8.cpu())  # (N, 1, 28, 28)
    generator = augment_generator(cfg.seed)
    seen = [distort(x, cfg, generator) for _ in range(copies)]
    stack = torch.cat([x, *seen], dim=1)  # (N, 1 + copies, 28, 28)
    return stack.mul(255).round().clamp(0, 255).to(torch.uint8)
