"""Text Lab: chat with the shared language model (local GGUF or an OpenAI-compatible endpoint), and
train a small GPT on your own text."""

from __future__ import annotations

import streamlit as st

from shared_models.lm import GenerationOptions, LMConfig
from suite.capabilities.text_lab.views import render_training
from suite.components.feedback import user_errors
from suite.resources import get_text_generator, get_workspace, lm_cache_dir

PAGE_ID = "text-lab"
state = st.session_state.setdefault(PAGE_ID, {"messages": [], "last": None})


def model_settings() -> tuple[LMConfig, GenerationOptions, str]:
    """The backend, sampling options and system prompt chosen in the settings panel."""
    env = LMConfig.from_env(cache_dir=lm_cache_dir())
    with st.expander("Model and sampling", expanded=False, icon=":material/tune:"):
        left, right = st.columns(2)
        backend = left.radio(
            "Backend",
            ["local", "openai"],
            index=["local", "openai"].index(env.backend),
            horizontal=True,
            key=f"{PAGE_ID}.backend",
            help="local: a GGUF file run in this process. openai: any OpenAI-compatible server.",
        )
        if backend == "local":
            gguf = left.text_input(
                "GGUF file (empty: bundled SmolLM2-135M-Instruct)", env.gguf_path or "", key=f"{PAGE_ID}.gguf"
            )
            config = LMConfig(
                backend="local",
                gguf_path=gguf.strip() or None,
                cache_dir=env.cache_dir,
                n_ctx=env.n_ctx,
                n_threads=env.n_threads,
                engine=env.engine,
            )
        else:
            url = left.text_input(
                "Base URL", env.base_url or "http://127.0.0.1:11434/v1", key=f"{PAGE_ID}.url"
            )
            model = left.text_input(
                "Model (empty: the server's first)", env.model or "", key=f"{PAGE_ID}.model"
            )
            key = left.text_input("API key", env.api_key or "", type="password", key=f"{PAGE_ID}.key")
            with user_errors():
                config = LMConfig(
                    backend="openai",
                    base_url=url.strip(),
                    model=model.strip() or None,
                    api_key=key or None,
                    timeout_s=env.timeout_s,
                )
        system = left.text_area(
            "System prompt", "You are a concise, helpful assistant.", key=f"{PAGE_ID}.system"
        )
        options = GenerationOptions(
            max_tokens=right.slider("Max new tokens", 16, 1024, 256, 16, key=f"{PAGE_ID}.max_tokens"),
            temperature=right.slider("Temperature", 0.0, 1.5, 0.7, 0.05, key=f"{PAGE_ID}.temperature"),
            top_p=right.slider("Top-p", 0.05, 1.0, 0.95, 0.05, key=f"{PAGE_ID}.top_p"),
            repeat_penalty=right.slider("Repeat penalty", 1.0, 1.5, 1.15, 0.01, key=f"{PAGE_ID}.repeat"),
        )
        seed = int(right.number_input("Seed (-1: random)", -1, 2**31 - 1, -1, key=f"{PAGE_ID}.seed"))
        options = options.replace(seed=None if seed < 0 else seed)
    return config, options, system


def chat_tab() -> None:
    config, options, system = model_settings()
    with user_errors():
        lm = get_text_generator(config)
    if lm.notice:
        st.warning(lm.notice, icon=":material/speed:")
    chat, panel = st.columns([3, 1])
    with panel.container(border=True):
        last = state["last"]
        st.markdown(f"**Model:** `{lm.model_name}`  \n**Engine:** {lm.backend} · {lm.engine}")
        st.metric("Tokens/s", f"{last['tokens_per_s']:.1f}" if last else "–")
        st.metric("First token", f"{last['first_token_s']:.2f} s" if last and last["first_token_s"] else "–")
        if last:
            st.caption(
                f"Last answer: {last['completion_tokens']} tokens by `{last['model']}` ({last['finish']})"
            )
        if st.button("Clear chat", key=f"{PAGE_ID}.clear", icon=":material/delete:"):
            state.update(messages=[], last=None)
            st.rerun()
    with chat:
        for message in state["messages"]:
            st.chat_message(message["role"]).markdown(message["content"])
        prompt = st.chat_input("Ask the model…", key=f"{PAGE_ID}.prompt")
    if not prompt:
        if not state["messages"]:
            chat.info("Type a message below. The default model is tiny (135M): expect fluent, not factual.")
        return
    state["messages"].append({"role": "user", "content": prompt})
    chat.chat_message("user").markdown(prompt)
    messages = [{"role": "system", "content": system}, *state["messages"]] if system else state["messages"]
    params = {"backend": lm.backend, "model": lm.model_name, "engine": lm.engine, **options.__dict__}
    with user_errors(), get_workspace().start_run("text.chat", params) as run:
        stream = lm.stream(messages, options)
        with chat.chat_message("assistant"):
            st.write_stream(stream)
        result = stream.result
        run.log_metrics(
            {
                "tokens_per_s": result.tokens_per_s,
                "first_token_s": result.first_token_s,
                "completion_tokens": result.completion_tokens,
                "prompt_tokens": result.prompt_tokens,
            }
        )
        run.save_json("chat.json", {"messages": [*messages, {"role": "assistant", "content": result.text}]})
    state["messages"].append({"role": "assistant", "content": result.text})
    state["last"] = {
        "tokens_per_s": result.tokens_per_s,
        "first_token_s": result.first_token_s,
        "completion_tokens": result.completion_tokens,
        "model": result.model,
        "finish": result.finish_reason,
    }
    st.rerun()  # redraw the figures panel with this answer's numbers


st.title("Text Lab")
st.caption("The language core every capability speaks through, and a small GPT you train yourself.")
chat_tab_, train_tab_ = st.tabs(["Chat playground", "Train a small GPT"])
with chat_tab_:
    chat_tab()
with train_tab_:
    render_training(PAGE_ID)
