"""Model Lab images (issue figures): cVAE 60 s, cGAN 300 s, VAE 60 s on MNIST-5000, CPU, 2 threads.

Also training throughput of each model beside a plain re-implementation of the pytorch/examples
DCGAN at the same image size (32x32: that DCGAN's 64x64 stack less one level), as a ratio.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from domains.lab.image_lab import ImageLabSpec, evaluate, get_classifier, heldout_elbo, train_image_model
from shared_models.datasets import load_mnist5000
from shared_models.gan import GAN, GANConfig, GANTask
from shared_models.trainer import TrainConfig, TrainingTask, train
from shared_models.vae import VAE, VAEConfig, VAETask
from tests.benchmarks import Figure

SCALE = float(os.environ.get("AIGC_BENCH_SCALE", "1"))  # < 1 only for a quick look; figures use 1
THROUGHPUT_STEPS = 40


class ExamplesDCGAN(TrainingTask):
    """pytorch/examples/dcgan: BCE loss, Adam(2e-4, 0.5), BN in both nets, nz=100, ngf=ndf=64, at 32x32."""

    def __init__(self, channels: int = 1, nz: int = 100, ngf: int = 64, ndf: int = 64) -> None:
        self.nz = nz
        self.netG = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, channels, 4, 2, 1, bias=False),
            nn.Tanh(),
        )
        self.netD = nn.Sequential(
            nn.Conv2d(channels, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )
        self.criterion = nn.BCELoss()
        self.optD = torch.optim.Adam(self.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optG = torch.optim.Adam(self.netG.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def train_step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
        real = batch[0] * 2 - 1
        b = real.shape[0]
        ones, zeros = torch.ones(b), torch.zeros(b)
        self.netD.zero_grad()
        err_real = self.criterion(self.netD(real).view(-1), ones)
        fake = self.netG(torch.randn(b, self.nz, 1, 1))
        err_fake = self.criterion(self.netD(fake.detach()).view(-1), zeros)
        (err_real + err_fake).backward()
        self.optD.step()
        self.netG.zero_grad()
        err_g = self.criterion(self.netD(fake).view(-1), ones)
        err_g.backward()
        self.optG.step()
        return {"loss_d": (err_real + err_fake).item(), "loss_g": err_g.item()}


def _throughput(task: TrainingTask, data: tuple[torch.Tensor, ...]) -> float:
    train(task, data, TrainConfig(steps=3, batch_size=64))  # warm-up
    return train(
        task, data, TrainConfig(steps=THROUGHPUT_STEPS, batch_size=64, log_every=1000)
    ).examples_per_s


def _throughput_figures() -> list[Figure]:
    data = load_mnist5000(image_size=32)
    batch = (data.images, data.labels)
    torch.manual_seed(0)
    reference = _throughput(ExamplesDCGAN(), batch)
    models = {
        "GAN (width 32, as trained here)": GANTask(GAN(GANConfig(image_size=32, width=32))),
        "GAN (width 64, DCGAN-sized)": GANTask(GAN(GANConfig(image_size=32, width=64))),
        "cGAN (projection + AC, EMA)": GANTask(
            GAN(GANConfig(image_size=32, num_classes=10, width=32, aux_weight=1))
        ),
        "VAE": VAETask(VAE(VAEConfig(image_size=32))),
        "cVAE": VAETask(VAE(VAEConfig(image_size=32, num_classes=10, latent_dim=8))),
    }
    figures = [
        Figure("image core", "pytorch/examples DCGAN training throughput", reference, "img/s", "32x32")
    ]
    for name, task in models.items():
        rate = _throughput(task, batch)
        figures.append(
            Figure(
                "image core",
                f"{name} throughput / examples DCGAN",
                rate / reference,
                "ratio",
                f"{rate:.0f} img/s, 32x32, batch 64",
            )
        )
    return figures


def _quality(spec: ImageLabSpec, data, classifier, accuracy, temperatures: tuple[float, ...]) -> list[Figure]:
    start = time.perf_counter()
    trained = train_image_model(spec, data)
    name = spec.model.upper()
    result = trained.result
    note = f"{result.steps} steps in {result.seconds:.0f}s, {result.examples_per_s:.0f} img/s"
    figures = []
    for temperature in temperatures:
        m = evaluate(trained.model, data, classifier, accuracy, samples=1000, temperature=temperature)
        label = f"T={temperature}"
        if m.conditional_accuracy is not None:
            figures.append(
                Figure(
                    "model lab",
                    f"{name} conditional accuracy ({label})",
                    m.conditional_accuracy,
                    "share",
                    note,
                )
            )
        figures.append(
            Figure("model lab", f"{name} FD-classifier ({label})", m.fd_classifier, "", "lower is better")
        )
        figures.append(
            Figure(
                "model lab",
                f"{name} precision / recall ({label})",
                m.precision,
                "precision",
                f"recall {m.recall:.3f}; NN ratio {m.nn_ratio:.2f}",
            )
        )
    if isinstance(trained.model, VAE) and spec.binarize:
        figures.append(
            Figure(
                "model lab",
                f"{name} test ELBO, binarised MNIST-5000",
                heldout_elbo(trained.model, data),
                "nats",
                note,
            )
        )
    print(f"<!-- {name}: {time.perf_counter() - start:.0f}s -->")
    return figures


def run() -> list[Figure]:
    torch.set_num_threads(2)
    data = load_mnist5000()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        classifier, accuracy = get_classifier(data, Path(tmp))
        figures = [
            Figure(
                "model lab",
                "metrics classifier held-out accuracy",
                accuracy,
                "share",
                f"MNIST-5000 4000/1000 split, trained in {time.perf_counter() - start:.0f}s",
            )
        ]
    figures += _quality(
        ImageLabSpec(model="cvae", seconds=60 * SCALE, latent_dim=8), data, classifier, accuracy, (1.0, 0.5)
    )
    figures += _quality(ImageLabSpec(model="cgan", seconds=300 * SCALE), data, classifier, accuracy, (1.0,))
    figures += _quality(
        ImageLabSpec(model="vae", seconds=60 * SCALE, binarize=True), data, classifier, accuracy, (1.0,)
    )
    return figures + _throughput_figures()
