"""Data augmentation: random affine and elastic distortions of a training batch, on its own device.

What lives here: ``distort(images, cfg, generator)`` bends a batch of float images (B, 1, 28, 28) in
[0, 1] as ``TrainConfig.augment`` says, every image its own way, in one ``F.grid_sample``:
- affine: a random shift (±``shift`` px), rotation (±``rotate``°), change of size (±``scale``) and
  shear (±``shear``°) per image, built as a batch of 2×3 matrices for ``F.affine_grid``;
- elastic (Simard et al. 2003): per image a field of random displacements in [−1, 1] per pixel,
  smoothed by a Gaussian of ``elastic_sigma`` px (two 1-D ``conv2d`` passes over the whole batch)
  and scaled by ``elastic_alpha``; with both, the elastic field is added to the affine grid.
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

SEED_OFFSET = 0x5EED  # the augmentation's generator differs from the batch order's, seeded from the same seed


def augment_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """The generator a run with ``seed`` distorts its batches with, on ``device``."""
    return torch.Generator(device=device).manual_seed(seed + SEED_OFFSET)


def _uniform(n: int, bound: float, generator: torch.Generator, device) -> torch.Tensor:
    """n draws from U(−bound, bound)."""
    return (torch.rand(n, generator=generator, device=device) * 2 - 1) * bound


def affine_theta(n: int, cfg: TrainConfig, generator: torch.Generator, device) -> torch.Tensor:
    """(n, 2, 3) matrices for ``F.affine_grid``: each maps an output pixel to where it is read in the input
    (the inverse of the random shift · rotation · shear · scale the image undergoes), in [−1, 1] coordinates."""
    angle = _uniform(n, math.radians(cfg.rotate), generator, device)
    shear = _uniform(n, math.radians(cfg.shear), generator, device)
    size = 1 + _uniform(n, cfg.scale, generator, device)
    shift = _uniform(2 * n, cfg.shift, generator, device).view(n, 2) * (2 / IMAGE_SIZE)  # px → [−1, 1] units
    cos, sin, tan = torch.cos(angle), torch.sin(angle), torch.tan(shear)
    # forward map A = rotation · shear (x += tan·y) · scale
    a = torch.stack([torch.stack([cos, cos * tan - sin], -1), torch.stack([sin, sin * tan + cos], -1)], -2)
    a = a * size[:, None, None]
    inverse = torch.linalg.inv(a)
    return torch.cat([inverse, -(inverse @ shift[:, :, None])], dim=2)


def _gaussian_kernel(sigma: float, device) -> torch.Tensor:
    """A normalised 1-D Gaussian of ``sigma`` px, cut at 3 sigma (at least one pixel each way)."""
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32, device=device)
    k = torch.exp(-0.5 * (x / max(sigma, 1e-6)) ** 2)
    return k / k.sum()


def elastic_field(n: int, cfg: TrainConfig, generator: torch.Generator, device) -> torch.Tensor:
    """(n, 28, 28, 2) displacements in [−1, 1] units: uniform noise smoothed by a Gaussian of
    ``elastic_sigma`` and scaled by ``elastic_alpha`` px (Simard et al. 2003)."""
    noise = torch.rand(2 * n, 1, IMAGE_SIZE, IMAGE_SIZE, generator=generator, device=device) * 2 - 1
    k = _gaussian_kernel(cfg.elastic_sigma, device)
    r = len(k) // 2
    smooth = F.conv2d(noise, k.view(1, 1, 1, -1), padding=(0, r))  # along x, zeros beyond the edge
    smooth = F.conv2d(smooth, k.view(1, 1, -1, 1), padding=(r, 0))  # along y
    return (smooth.view(n, 2, IMAGE_SIZE, IMAGE_SIZE).permute(0, 2, 3, 1)
            * (cfg.elastic_alpha * 2 / IMAGE_SIZE))


def distort(images: torch.Tensor, cfg: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """``images`` (B, 1, 28, 28) floats in [0, 1], each distorted as ``cfg.augment`` says (unchanged for "none")."""
    if cfg.augment == "none":
        return images
    n, device = len(images), images.device
    if "affine" in cfg.augment:
        theta = affine_theta(n, cfg, generator, device)
    else:
        theta = torch.eye(2, 3, device=device).expand(n, 2, 3)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)  # (B, 28, 28, 2): where each pixel reads
    if "elastic" in cfg.augment:
        grid = grid + elastic_field(n, cfg, generator, device)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def examples(images_u8: torch.Tensor, cfg: TrainConfig, copies: int = 3) -> torch.Tensor:
    """A few training images as the network saw them: (N, 1 + copies, 28, 28) uint8, each image first as it is
    and then ``copies`` distortions of it, drawn from the run's seed (on the CPU)."""
    from .data import normalise

    x = normalise(images_u8.cpu())  # (N, 1, 28, 28)
    generator = augment_generator(cfg.seed)
    seen = [distort(x, cfg, generator) for _ in range(copies)]
    stack = torch.cat([x, *seen], dim=1)  # (N, 1 + copies, 28, 28)
    return stack.mul(255).round().clamp(0, 255).to(torch.uint8)
