"""Character Design: attribute-controlled pixel-art characters, variations, blends and pitchable cards."""

from __future__ import annotations

import streamlit as st

from domains.entertainment.characters.operations import blend, variations
from suite.capabilities.character_design.runner import (
    card_and_record,
    generate_job,
    list_character_runs,
    open_characters,
    run_of_job,
)
from suite.capabilities.character_design.views import (
    label,
    render_card,
    render_downloads,
    render_grid,
    render_job_details,
    render_settings,
    render_strip,
)
from suite.components.feedback import user_errors
from suite.components.live_job import (
    current_job,
    forget_job,
    job_outcome_message,
    job_panel,
    remember_job,
)
from suite.resources import get_jobs, get_text_generator, get_workspace

PAGE_ID = "character-design"
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
    jobs = get_jobs()
    job = current_job(PAGE_ID, jobs)
    view = job.snapshot() if job is not None else None
    busy = view is not None and view.active
    if st.button("Generate", type="primary", key=f"{PAGE_ID}.generate", disabled=busy, width="stretch"):
        title = f"{n} characters ({spec.model.upper()})"
        job = jobs.submit(PAGE_ID, "generate", generate_job, workspace, spec, chosen, n, seed, title=title)
        remember_job(PAGE_ID, job)
        for key in ("outcome", "card", "strip", "collected"):
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
            forget_job(PAGE_ID)
            for key in ("card", "strip"):
                state.pop(key, None)
            st.rerun()

with outcome_area:
    if job is not None and view is not None:
        if view.active:
            job_panel(PAGE_ID, job, render_job_details)
            st.stop()
        job_outcome_message(view, "Generation")
        if state.get("collected") != job.id:  # once per ended job: its characters become the page's
            state["collected"] = job.id
            record = run_of_job(workspace, job.id) if job.result is None else None
            with user_errors():
                if job.result is not None:
                    state["outcome"] = job.result
                elif record is not None and record.status == "done":
                    state["outcome"] = open_characters(workspace, record.id)  # the app restarted
            state["stopped_note"] = (
                record.error if record is not None and view.status == "cancelled" else None
            )
        if state.get("stopped_note"):
            st.caption(state["stopped_note"])
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
