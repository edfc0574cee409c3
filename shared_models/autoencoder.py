"""Dense image models of the core: a convolutional autoencoder, a small U-Net, and SSIM.

The autoencoder has no skip connections on purpose: everything must pass the bottleneck, so what it
never saw in training (a defect) comes back blurred or repaired, and the residual shows it. The U-Net
does have skips, because its job is to draw precise masks. SSIM (Wang et al., 2004) compares local
means, contrasts and structure; its per-pixel map is the usual anomaly residual for reconstructions.
Both networks are fully convolutional and work on any size divisible by ``2 ** depth``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from shared_models.exceptions import InputError

__all__ = ["ConvAutoencoder", "ConvAutoencoderConfig", "UNet", "UNetConfig", "ssim", "ssim_map"]


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


@dataclass
class ConvAutoencoderConfig:
    """Widths of the autoencoder: ``channels[i]`` at resolution ``1 / 2**i``; the last is the bottleneck."""

    in_channels: int = 3
    channels: tuple[int, ...] = (32, 64, 96, 128)

    def __post_init__(self) -> None:
        self.channels = tuple(self.channels)
        if len(self.channels) < 2:
            raise InputError("the autoencoder needs at least two widths")

    @property
    def multiple(self) -> int:
        """Image sides must be multiples of this."""
        return 2 ** (len(self.channels) - 1)


class ConvAutoencoder(nn.Module):
    """Encoder-decoder without skips; maps ``(N, C, H, W)`` in [0, 1] to a reconstruction in [0, 1]."""

    def __init__(self, config: ConvAutoencoderConfig | None = None) -> None:
        super().__init__()
        self.config = config or ConvAutoencoderConfig()
        widths = self.config.channels
        self.stem = _block(self.config.in_channels, widths[0])
        self.down = nn.ModuleList(
            nn.Sequential(nn.MaxPool2d(2), _block(a, b)) for a, b in itertools.pairwise(widths)
        )
        self.up = nn.ModuleList(
            nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), _block(b, a))
            for a, b in reversed(list(itertools.pairwise(widths)))
        )
        self.head = nn.Conv2d(widths[0], self.config.in_channels, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        multiple = self.config.multiple
        if images.shape[-1] % multiple or images.shape[-2] % multiple:
            raise InputError(f"image sides must be multiples of {multiple}, got {tuple(images.shape[-2:])}")
        x = self.stem(images)
        for layer in self.down:
            x = layer(x)
        for layer in self.up:
            x = layer(x)
        return torch.sigmoid(self.head(x))


@dataclass
class UNetConfig:
    """Widths of the U-Net per level, input channels and output channels (logits)."""

    in_channels: int = 6
    out_channels: int = 1
    channels: tuple[int, ...] = (16, 32, 64, 96)

    def __post_init__(self) -> None:
        self.channels = tuple(self.channels)
        if len(self.channels) < 2:
            raise InputError("the U-Net needs at least two widths")


class UNet(nn.Module):
    """A small U-Net (Ronneberger et al., 2015): per-pixel logits at the input resolution."""

    def __init__(self, config: UNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or UNetConfig()
        widths = self.config.channels
        self.stem = _block(self.config.in_channels, widths[0])
        self.down = nn.ModuleList(
            nn.Sequential(nn.MaxPool2d(2), _block(a, b)) for a, b in itertools.pairwise(widths)
        )
        self.up = nn.ModuleList(_block(a + b, a) for a, b in reversed(list(itertools.pairwise(widths))))
        self.head = nn.Conv2d(widths[0], self.config.out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.stem(x)]
        for layer in self.down:
            skips.append(layer(skips[-1]))
        x = skips.pop()
        for layer in self.up:
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = layer(torch.cat([x, skip], dim=1))
        return self.head(x)


def _window(size: int, sigma: float, channels: int, dtype: torch.dtype) -> torch.Tensor:
    x = torch.arange(size, dtype=dtype) - size // 2
    g = torch.exp(-0.5 * (x / sigma) ** 2)
    g = (g / g.sum())[:, None] @ (g / g.sum())[None, :]
    return g.expand(channels, 1, size, size).contiguous()


def ssim_map(a: torch.Tensor, b: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Per-pixel SSIM of ``(N, C, H, W)`` images in [0, 1], averaged over channels: ``(N, H, W)``."""
    channels = a.shape[1]
    kernel = _window(window, sigma, channels, a.dtype)
    pad = window // 2

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (pad,) * 4, mode="reflect"), kernel, groups=channels)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    value = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return value.mean(1)


def ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of each image pair: ``(N,)``."""
    return ssim_map(a, b).flatten(1).mean(1)
