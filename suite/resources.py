"""Process-wide resources for the app, cached at the UI edge.

Plain factories live in the lower layers; this module only decides what is shared across sessions
(`st.cache_resource`: models, the workspace) and what is memoised per input (`st.cache_data`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import streamlit as st

from domains.lab.image_lab import ImageModel
from domains.manufacturing.inspection.dataset import InspectionSet
from domains.manufacturing.inspection.pipeline import Inspector
from domains.manufacturing.inspection.uploads import load_image_zip_for_inspection, load_mvtec_category
from domains.services.recommend import (
    Interactions,
    RecommenderBundle,
    build_interactions,
    load_demo,
    read_interactions_csv,
    read_items_csv,
)
from shared_models.datasets import ImageDataset, UploadReport, load_dataset, load_image_zip
from shared_models.lm import LMConfig, TextGenerator, build_text_generator
from shared_models.store import ModelCard
from suite.capabilities.defect_inspection.runner import open_inspector
from suite.capabilities.model_lab.runner import open_model
from suite.capabilities.recommender.runner import open_bundle
from suite.jobs import JobService, get_job_service
from suite.workspace import Workspace, default_root

__all__ = [
    "get_image_dataset",
    "get_inspection_upload",
    "get_jobs",
    "get_mvtec_category",
    "get_recs_demo",
    "get_recs_upload",
    "get_text_generator",
    "get_uploaded_dataset",
    "get_workspace",
    "lm_cache_dir",
    "open_inspection_model",
    "open_recs_bundle",
    "open_run_model",
]


@st.cache_resource(show_spinner=False)
def _workspace_at(root: str) -> Workspace:
    # Opening runs the schema check and migration once per process and root, not on every rerun.
    return Workspace(root)


def get_workspace() -> Workspace:
    """The workspace at ``$AIGC_HOME`` (default ``./workspace``), opened once per process.

    Raises:
        WorkspaceError: The database is corrupt, foreign or newer (not cached, so a fix is seen).
    """
    return _workspace_at(str(default_root()))


def get_jobs() -> JobService:
    """The job service of this app process for the workspace: one for all sessions."""
    return get_job_service(get_workspace())


def lm_cache_dir() -> str:
    """Where the transformers fallback keeps its dequantised copy of a GGUF (inside the workspace)."""
    return str(default_root() / "cache" / "lm")


@st.cache_resource(show_spinner="Loading the language model…", max_entries=4)
def _text_generator(config: LMConfig) -> TextGenerator:
    return build_text_generator(config)


def get_text_generator(config: LMConfig | None = None) -> TextGenerator:
    """One generator per configuration and process, shared by every session (each backend is
    thread-safe). Defaults come from the ``AIGC_LLM_*`` variables.

    Raises:
        SuiteError: The model file or endpoint settings are wrong (not cached, so a fix is seen).
    """
    config = config or LMConfig.from_env(cache_dir=lm_cache_dir())
    return _text_generator(config)


@st.cache_resource(show_spinner="Loading images…")
def get_image_dataset(name: str) -> ImageDataset:
    """A built-in image set (read-only, shared by all sessions)."""
    return load_dataset(name, image_size=32 if name == "shapes" else 28)


@st.cache_resource(show_spinner="Checking the upload…", max_entries=4)
def get_uploaded_dataset(data: bytes, mode: Literal["L", "RGB"]) -> tuple[ImageDataset, UploadReport]:
    """An uploaded zip of images, validated once per content."""
    return load_image_zip(data, image_size=32, mode=mode, name="upload")


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def open_run_model(root: str, run_id: int) -> tuple[ImageModel, ModelCard]:
    """A model saved by a Model Lab run, loaded once per process (no retraining)."""
    return open_model(Workspace(root), run_id)


@st.cache_resource(show_spinner="Loading the MovieLens demo…")
def get_recs_demo() -> Interactions:
    """The Recommender's demo data (read-only, shared by all sessions)."""
    return load_demo()


@st.cache_resource(show_spinner="Checking the upload…", max_entries=4)
def get_recs_upload(
    interactions: bytes, items: bytes | None, min_rating: float | None, name: str
) -> Interactions:
    """Uploaded interactions (and optional item metadata), validated once per content."""
    frame = read_interactions_csv(interactions)
    meta = read_items_csv(items) if items is not None else None
    return build_interactions(frame, meta, min_rating=min_rating, name=name)


@st.cache_resource(show_spinner="Loading the models…", max_entries=8)
def open_recs_bundle(root: str, run_id: int) -> RecommenderBundle:
    """The models a Recommender run saved, loaded once per process (no retraining)."""
    return open_bundle(Workspace(root), run_id)


@st.cache_resource(show_spinner="Loading the inspector…", max_entries=8)
def open_inspection_model(root: str, run_id: int) -> Inspector:
    """The inspector a Defect Inspection training run saved, loaded once per process."""
    return open_inspector(Workspace(root), run_id)


@st.cache_resource(show_spinner="Checking the upload…", max_entries=4)
def get_inspection_upload(data: bytes, side: int) -> tuple[np.ndarray, list[str], UploadReport]:
    """A zip of good images for Defect Inspection, validated and decoded once per content."""
    return load_image_zip_for_inspection(data, resize_to=side)


@st.cache_resource(show_spinner="Reading the folder…", max_entries=4, ttl=600)
def get_mvtec_category(folder: str, side: int) -> InspectionSet:
    """A category folder in the MVTec AD layout, read once per folder (re-read after 10 minutes)."""
    return load_mvtec_category(folder, size=side)
