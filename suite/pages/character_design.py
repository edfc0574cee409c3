"""Character Design: attribute-controlled pixel-art characters, variations, blends and pitchable cards."""

from __future__ import annotations

import time

import streamlit as st

from domains.entertainment.characters.operations import blend, variations
from suite.components.character_views import (
    label,
    render_card,
    render_downloads,
    render_grid,
    render_job,
    render_settings,
    render_strip,
)
from suite.components.feedback import user_errors
from suite.jobs import BackgroundJob
from suite.resources import get_text_generator, get_workspace
from suite.runners.characters import (
    card_and_record,
    generate_and_record,
    list_character_runs,
    open_characters,
)

PAGE_ID = "character-design"
POLL_SECONDS = 0.7
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Character Design")
st.caption(
    "Original pixel-art characters with control over their look, for game and animation teams: pick "
    "attributes (the rest vary), keep favourites, explore variations and blends, and get a character "
    "card to pitch. The first Generate trains the generator once; later it loads in a moment."
)

with user_errors():
    workspace = get_workspace()

settings, outcome_area = st.columns([1, 2.4], gap="large")
with settings:
    brief = st.text_area(
        "Brief", placeholder="a grumpy blacksmith for a fantasy RPG", key=f"{PAGE_ID}.brief", height=80
    )
    chosen, n, seed, spec = render_settings(PAGE_ID)
    job: BackgroundJob | None = state.get("job")
    busy = job is not None and job.running
    if st.button("Generate", type="primary", key=f"{PAGE_ID}.generate", disabled=busy, width="stretch"):
        state["job"] = BackgroundJob(
            lambda on_progress, stop: generate_and_record(
                workspace, spec, chosen, n, seed, on_progress, stop
            ),
            name=f"{PAGE_ID}-generate",
        ).start()
        for key in ("outcome", "card", "strip"):
            state.pop(key, None)
        st.rerun()

    st.divider()
    earlier = list_character_runs(workspace)
    if earlier:
        pick = st.selectbox(
            "Characters generated earlier",
            earlier,
            format_func=lambda r: (
                f"run {r.id} · {r.params.get('n')} × "
                + (", ".join(f"{v}" for v in r.params.get("chosen", {}).values()) or "any")
            ),
            key=f"{PAGE_ID}.earlier",
        )
        if st.button("Open", key=f"{PAGE_ID}.open", disabled=busy):
            with user_errors():
                state["outcome"] = open_characters(workspace, pick.id)
            for key in ("job", "card", "strip"):
                state.pop(key, None)
            st.rerun()

with outcome_area:
    job = state.get("job")
    if job is not None and job.running:
        render_job(PAGE_ID, job)
        time.sleep(POLL_SECONDS)
        st.rerun()
    if job is not None:
        snapshot = job.snapshot()
        if snapshot.status == "failed":
            if job.stop_event.is_set():
                st.warning(snapshot.error or "Stopped.", icon=":material/pause:")
            else:
                st.error(f"Generation failed: {snapshot.error}", icon=":material/error:")
        elif job.result is not None:
            state["outcome"] = job.result
        state.pop("job", None)
    outcome = state.get("outcome")
    if outcome is None:
        st.info("Pick attributes (or leave them on *any*) and press **Generate**.")
        st.stop()

    characters = outcome.characters
    st.subheader(f"Run {outcome.run_id}: {len(characters)} characters ({outcome.spec.model.upper()})")
    favourites = render_grid(PAGE_ID, characters)
    render_downloads(PAGE_ID, characters, favourites)

    options = favourites or list(range(len(characters)))
    index = st.selectbox(
        "Chosen character", options, format_func=lambda i: f"#{i + 1}", key=f"{PAGE_ID}.chosen"
    )
    st.caption(", ".join(f"{label(k)}: {v}" for k, v in characters.attributes[index].items()))
    card_tab, vary_tab, blend_tab = st.tabs(["Card", "Variations", "Blend"])
    with card_tab:
        if st.button("Write card", key=f"{PAGE_ID}.card", icon=":material/edit_note:"):
            with user_errors(), st.spinner("Writing the card…"):
                run_id, card, pitch = card_and_record(
                    workspace,
                    get_text_generator(),
                    characters.attributes[index],
                    characters.images[index],
                    brief,
                    seed=seed,
                )
                state["card"] = (index, card, pitch)
        if state.get("card") and state["card"][0] == index:
            _, card, pitch = state["card"]
            render_card(PAGE_ID, card, characters.images[index], pitch)
        else:
            st.caption("Write a card for the chosen character from your brief.")
    with vary_tab:
        spread = st.slider("How far to wander", 0.1, 1.5, 0.6, 0.1, key=f"{PAGE_ID}.spread")
        if st.button("Make variations", key=f"{PAGE_ID}.vary"):
            with user_errors():
                strip = variations(outcome.model, characters, index, n=8, spread=spread, seed=seed)
                state["strip"] = (strip, f"Variations of #{index + 1}", "variations")
    with blend_tab:
        other = st.selectbox(
            "Blend with",
            list(range(len(characters))),
            index=min(1, len(characters) - 1),
            format_func=lambda i: f"#{i + 1}",
            key=f"{PAGE_ID}.other",
        )
        steps = st.slider("Frames", 3, 12, 8, key=f"{PAGE_ID}.frames")
        if st.button("Blend", key=f"{PAGE_ID}.blend"):
            with user_errors():
                strip = blend(outcome.model, characters, index, characters, other, steps=steps)
                state["strip"] = (strip, f"From #{index + 1} to #{other + 1}", "blend")
    if state.get("strip"):
        render_strip(PAGE_ID, *state["strip"])
