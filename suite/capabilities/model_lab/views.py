"""Widgets and views of the Model Lab page: settings form, live training panel, model explorer."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from domains.lab.image_lab import (
    ImageLabSpec,
    ImageModel,
    class_grid,
    interpolation_strip,
    reconstruction_grid,
    sample_grid,
)
from shared_models.datasets import DATASETS, ImageDataset
from shared_models.images import to_png
from shared_models.store import ModelCard
from shared_models.vae import VAE
from suite.components.charts import style_training_curves
from suite.components.feedback import user_errors
from suite.jobs import JobView
from suite.resources import get_image_dataset, get_uploaded_dataset
from suite.workspace import RunRecord, Workspace

__all__ = ["render_job_details", "render_model", "render_settings"]

DATASET_LABELS = {
    "mnist": "MNIST-5000 (real handwritten digits)",
    "digits": "scikit-learn digits (8x8, upsampled)",
    "shapes": "Procedural shapes (colour)",
    "upload": "My images (zip, one folder per class)",
}
METRIC_LABELS = {
    "conditional_accuracy": ("Conditional accuracy", "share of images of class k the classifier calls k"),
    "fd_classifier": (
        "FD-classifier",
        "Fréchet distance in the classifier's features; lower is better; not FID",
    ),
    "precision": ("Precision", "share of samples that look like real images (Kynkäänniemi et al.)"),
    "recall": ("Recall", "share of real images the samples cover"),
    "nn_ratio": ("Nearest-neighbour ratio", "well below 1 would mean copying the training set"),
    "test_elbo_nats": ("Test ELBO (nats)", "held-out evidence lower bound per image; higher is better"),
    "classifier_accuracy": ("Metrics classifier accuracy", "held-out accuracy of the judge itself"),
    "steps": ("Training steps", ""),
    "train_seconds": ("Training seconds", ""),
    "images_per_s": ("Training images/s", ""),
    "temperature": ("Sampling temperature", "noise scale used for the metrics"),
}


def render_settings(
    page_id: str, datasets: list[str], kinds: dict[str, str]
) -> tuple[ImageLabSpec | None, str | Callable[[], ImageDataset]]:
    """The training form; returns the spec and where the data comes from (a name or an upload)."""
    choices = [d for d in DATASET_LABELS if d in datasets or d == "upload"]
    dataset = st.selectbox("Dataset", choices, format_func=DATASET_LABELS.get, key=f"{page_id}.dataset")
    source: str | Callable[[], ImageDataset] = dataset
    if dataset == "upload":
        upload = st.file_uploader("Zip of images", type=["zip"], key=f"{page_id}.upload")
        colour = st.radio("Colour", ["grey", "colour"], horizontal=True, key=f"{page_id}.colour")
        if upload is None:
            st.caption("Up to 50 MB and 10,000 images; they are resized to 32x32.")
            return None, source
        with user_errors():
            uploaded, report = get_uploaded_dataset(upload.getvalue(), "L" if colour == "grey" else "RGB")
        st.caption(f"{len(uploaded)} images in {uploaded.num_classes} class(es): {report.kept}")
        if report.skipped:
            with st.expander(f"{len(report.skipped)} file(s) skipped"):
                st.dataframe(pd.DataFrame(report.skipped, columns=["file", "reason"]), hide_index=True)
        source = lambda: uploaded  # noqa: E731 - the page calls it when Train is pressed
    kind = st.selectbox(
        "Model", list(kinds), format_func=lambda k: f"{k.upper()}: {kinds[k]}", key=f"{page_id}.model"
    )
    seconds = st.slider("Training time (seconds)", 5, 600, 60, step=5, key=f"{page_id}.seconds")
    with st.expander("Advanced"):
        batch = st.select_slider("Batch size", [16, 32, 64, 128], value=64, key=f"{page_id}.batch")
        seed = st.number_input("Seed", 0, 2**31 - 1, 0, key=f"{page_id}.seed")
        latent = st.number_input("Latent size (0 = default)", 0, 256, 0, key=f"{page_id}.latent")
        beta = st.number_input("VAE beta (KL weight)", 0.05, 10.0, 1.0, step=0.05, key=f"{page_id}.beta")
        loss = st.selectbox("GAN loss", ["hinge", "nonsaturating"], key=f"{page_id}.loss")
        spectral = st.checkbox("Spectral norm (GAN)", True, key=f"{page_id}.sn")
        aux = st.number_input(
            "cGAN auxiliary-classifier weight", 0.0, 5.0, 1.0, step=0.1, key=f"{page_id}.aux"
        )
    spec = ImageLabSpec(
        model=kind,  # type: ignore[arg-type]
        dataset=dataset,
        seconds=float(seconds),
        batch_size=int(batch),
        latent_dim=int(latent) or None,
        beta=float(beta),
        gan_loss=loss,  # type: ignore[arg-type]
        spectral_norm=spectral,
        aux_weight=float(aux),
        seed=int(seed),
    )
    return spec, source


def loss_figure(history: list[dict[str, float]]) -> go.Figure:
    frame = pd.DataFrame(history)
    figure = go.Figure()
    for column in [c for c in frame.columns if c not in ("step", "seconds")]:
        figure.add_trace(go.Scatter(x=frame["step"], y=frame[column], mode="lines", name=column))
    return style_training_curves(figure, "Training curves", height=260)


def render_job_details(page_id: str, view: JobView) -> None:
    """Under the live progress bar: the latest losses, the curves so far and the latest samples."""
    progress = view.progress
    if progress and progress.metrics:
        st.caption(" · ".join(f"{k} {v:.3f}" for k, v in progress.metrics.items()))
    if view.history:
        st.plotly_chart(loss_figure(view.history), key=f"{page_id}.live_curves")
    if view.preview is not None:
        st.image(view.preview, caption="Samples at the latest snapshot", width=360)


def _metrics_table(record: RunRecord) -> pd.DataFrame:
    rows = []
    for key, (label, meaning) in METRIC_LABELS.items():
        value = record.metrics.get(key)
        if value is not None:
            rows.append(
                {
                    "metric": label,
                    "value": f"{value:.4g}" if isinstance(value, float) else str(value),
                    "meaning": meaning,
                }
            )
    return pd.DataFrame(rows)


def _model_zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, arcname=path.name)
    return buffer.getvalue()


def _grid_view(page_id: str, name: str, grid, caption: str) -> None:
    # Enlarged with crisp pixels here, so the browser's smooth scaling does not blur small digits.
    width = "stretch" if grid.shape[1] * 3 > 480 else grid.shape[1] * 3
    png = to_png(grid, scale=3)  # encoded once: shown and offered for download
    st.image(png, caption=caption, width=width)
    st.download_button(
        "Download PNG",
        png,
        file_name=f"{name}.png",
        mime="image/png",
        key=f"{page_id}.download_{name}",
    )


def render_model(
    page_id: str, workspace: Workspace, record: RunRecord, model: ImageModel, card: ModelCard
) -> None:
    """Explore a trained model: metrics, samples, per-class grid, interpolation, reconstructions."""
    params = record.params
    st.subheader(f"Run {record.id}: {str(params.get('model', card.kind)).upper()} on {card.dataset}")
    st.caption(
        f"{record.status} · {record.metrics.get('steps')} steps in {record.metrics.get('train_seconds')}s"
    )
    st.dataframe(_metrics_table(record), hide_index=True, key=f"{page_id}.metrics", width="stretch")
    if "fd_classifier" not in record.metrics:
        st.caption(
            "Not measured: training or measuring was stopped, so this model has no quality metrics.",
            help="A stop saves the model at once instead of spending seconds to minutes measuring it.",
        )
    c1, c2 = st.columns(2)
    seed = int(c1.number_input("Sampling seed", 0, 2**31 - 1, 0, key=f"{page_id}.sample_seed"))
    temperature = c2.slider("Temperature", 0.1, 1.5, 1.0, 0.05, key=f"{page_id}.temperature")
    names = ["Samples", "Per class", "Interpolation", "Reconstructions", "Training curves"]
    samples, per_class, interpolation, recon, curves = st.tabs(names)
    with samples:
        _grid_view(page_id, "samples", sample_grid(model, 64, seed, temperature), "64 random samples")
    with per_class:
        if model.num_classes:
            grid = class_grid(model, per_class=10, seed=seed, temperature=temperature)
            classes = ", ".join(card.extra.get("class_names", []))
            _grid_view(page_id, "per_class", grid, f"One row per class: {classes}")
        else:
            st.info("Unconditional model: train a cGAN or cVAE to choose the class.")
    with interpolation:
        label = 0
        if model.num_classes:
            label = st.selectbox(
                "Class",
                range(model.num_classes),
                key=f"{page_id}.interp_class",
                format_func=lambda k: card.extra.get("class_names", [])[k],
            )
        _grid_view(
            page_id,
            "interpolation",
            interpolation_strip(model, 10, seed, label),
            "A straight line in latent space",
        )
    with recon:
        data = get_image_dataset(card.dataset) if card.dataset in DATASETS else None
        if not isinstance(model, VAE):
            st.info("Reconstructions are for VAEs: a GAN has no encoder.")
        elif data is None:
            st.info("Reconstructions need the training images; they are shown for built-in datasets.")
        else:
            _grid_view(
                page_id,
                "reconstructions",
                reconstruction_grid(model, data),
                "Top: held-out images; bottom: reconstructions",
            )
    with curves:
        history_path = workspace.run_dir(record.id) / "history.json"
        if history_path.is_file():
            history = json.loads(history_path.read_text())
            st.plotly_chart(loss_figure(history), key=f"{page_id}.curves")
    model_dir = workspace.run_dir(record.id) / "model"
    st.download_button(
        "Download model (safetensors + card)",
        lambda: _model_zip(model_dir),  # zipped on click, not on every rerun of the page
        file_name=f"run-{record.id}-model.zip",
        mime="application/zip",
        key=f"{page_id}.download_model",
        icon=":material/download:",
    )
