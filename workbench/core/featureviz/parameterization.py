"""How the optimized image is represented: plain pixels, or a Fourier spectrum with
decorrelated colour (the Distill paper's two parameterizations; Lucid's
``param/spatial.py`` and ``param/color.py``).  Both end in a sigmoid, so the
image is always in [0, 1].
"""

from __future__ import annotations

import math

import torch

# Square root of ImageNet's colour correlation (Lucid's color_correlation_svd_sqrt).
COLOR_CORRELATION = torch.tensor([[0.26, 0.09, 0.02],
                                  [0.27, 0.00, -0.05],
                                  [0.27, -0.09, 0.03]])
COLOR_NORM = float(COLOR_CORRELATION.norm(dim=0).max())
EPS = 1e-4


def _logit(image: torch.Tensor) -> torch.Tensor:
    image = image.clamp(EPS, 1 - EPS)
    return torch.log(image / (1 - image))


class PixelImage:
    """Raw values per pixel; the image is ``sigmoid(raw)``."""

    kind = "pixel"

    def __init__(self, batch: int, size: int, device, generator=None, init=None):
        if init is not None:
            raw = _logit(init.to(device))
        else:
            raw = (torch.randn(batch, 3, size, size, generator=generator, device=device) * 0.01)
        self.raw = raw.detach().clone().requires_grad_(True)

    def parameters(self) -> list[torch.Tensor]:
        return [self.raw]

    def image(self) -> torch.Tensor:
        return torch.sigmoid(self.raw)

    @torch.no_grad()
    def blur(self, sigma: float) -> None:
        from torchvision.transforms.v2 import functional as TF

        kernel = 2 * int(2 * sigma) + 1
        self.raw.copy_(_logit(TF.gaussian_blur(self.image(), [kernel, kernel], [sigma, sigma])))


class FourierImage:
    """A spectrum scaled by 1/frequency, decorrelated colour, then a sigmoid."""

    kind = "fft"

    def __init__(self, batch: int, size: int, device, generator=None, init=None, decay=1.0):
        self.size = size
        fy = torch.fft.fftfreq(size, device=device)[:, None]
        fx = torch.fft.rfftfreq(size, device=device)[None, :]
        frequency = torch.sqrt(fx * fx + fy * fy).clamp_min(1.0 / size)
        self.scale = (1.0 / frequency**decay) * size  # Lucid: × sqrt(w·h), unnormalized FFT
        self.color = COLOR_CORRELATION.to(device) / COLOR_NORM
        # The colour mixing and the ÷4 are linear, so they are applied to the (half-size)
        # spectrum before the inverse FFT rather than to the image after it.
        self._mixing = (self.color / 4.0).to(torch.complex64)
        if init is not None:
            spectrum = self._spectrum_of(init.to(device))
        else:
            shape = (batch, 3, size, size // 2 + 1, 2)
            spectrum = torch.randn(shape, generator=generator, device=device) * 0.01
        self.spectrum = spectrum.detach().clone().requires_grad_(True)

    def parameters(self) -> list[torch.Tensor]:
        return [self.spectrum]

    def image(self) -> torch.Tensor:
        spectrum = torch.view_as_complex(self.spectrum) * self.scale
        mixed = torch.einsum("bchw,dc->bdhw", spectrum, self._mixing)
        return torch.sigmoid(torch.fft.irfft2(mixed, s=(self.size, self.size)))

    def _spectrum_of(self, image: torch.Tensor) -> torch.Tensor:
        """Invert :meth:`image` for a start picture (DeepDream on a photo)."""
        rgb = _logit(image)
        decorrelated = torch.einsum("bdhw,dc->bchw", rgb, torch.linalg.inv(self.color).T) * 4.0
        spectrum = torch.fft.rfft2(decorrelated) / self.scale
        return torch.view_as_real(spectrum)

    @torch.no_grad()
    def blur(self, sigma: float) -> None:
        """Damp high frequencies (a Gaussian blur, done in the spectrum)."""
        fy = torch.fft.fftfreq(self.size, device=self.spectrum.device)[:, None]
        fx = torch.fft.rfftfreq(self.size, device=self.spectrum.device)[None, :]
        gain = torch.exp(-2 * (math.pi * sigma) ** 2 * (fx * fx + fy * fy))
        self.spectrum.mul_(gain[..., None])


def make_image(kind: str, batch: int, size: int, device, seed: int = 0, init=None):
    """A parameterized image of ``kind`` ("fft" or "pixel"); ``init`` (B, 3, S, S) to start from."""
    generator = torch.Generator(device=device).manual_seed(seed)
    cls = FourierImage if kind == "fft" else PixelImage
    return cls(batch, size, device, generator=generator, init=init)
