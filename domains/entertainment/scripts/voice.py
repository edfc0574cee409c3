"""Train your own: the core's small character-level GPT learns a corpus of scripts, then continues a
scene in that voice.

The corpus is checked like any uploaded text (UTF-8, not binary, size cap, enough characters), and
read as Fountain to tell the writer what it holds (scene headings, cues, dialogue lines). Training is
`shared_models.gpt_train.train_gpt`: same budget, progress and Stop.

Example:
    >>> corpus = check_script_corpus(Path("my_scripts.fountain").read_bytes())
    >>> trained = train_voice(corpus.text, GPTTrainSpec(seconds=120))
    >>> continue_scene(trained, "INT. KITCHEN - NIGHT\\n\\nANNA\\n", VoiceOptions(chars=400)).continuation
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from domains.entertainment.scripts.fountain import parse
from shared_models.exceptions import InputError
from shared_models.gpt import SampleOptions, check_corpus, sample
from shared_models.gpt_train import GPTTrainSpec, TrainedGPT, train_gpt
from shared_models.progress import Progress, ProgressCallback

__all__ = [
    "MAX_SCRIPT_CORPUS_BYTES",
    "CorpusReport",
    "SceneContinuation",
    "VoiceOptions",
    "check_script_corpus",
    "continue_scene",
    "train_voice",
]

MAX_SCRIPT_CORPUS_BYTES = 3_000_000  # about 20 feature scripts: more than a CPU budget will see
MAX_SCENE_PROMPT_CHARS = 20_000


@dataclass(frozen=True)
class CorpusReport:
    """A checked corpus and what it holds, read as Fountain."""

    text: str
    characters: int
    scene_headings: int
    character_cues: int
    dialogue_lines: int

    @property
    def looks_like_scripts(self) -> bool:
        return self.scene_headings > 0 and self.character_cues > 0


def check_script_corpus(data: bytes, max_bytes: int = MAX_SCRIPT_CORPUS_BYTES) -> CorpusReport:
    """Validate an uploaded corpus of scripts and count what it holds.

    Raises:
        ResourceLimitError: Larger than ``max_bytes`` or too many distinct characters.
        InputError: Binary, not UTF-8, or too short to learn from.
    """
    if not isinstance(data, bytes | bytearray):
        raise InputError("the corpus must be the bytes of a text file")
    text = check_corpus(bytes(data), max_bytes=max_bytes)
    elements = parse(text).elements
    count = {
        kind: sum(e.type == kind for e in elements) for kind in ("scene_heading", "character", "dialogue")
    }
    return CorpusReport(
        text=text,
        characters=len(text),
        scene_headings=count["scene_heading"],
        character_cues=count["character"],
        dialogue_lines=count["dialogue"],
    )


def train_voice(
    text: str,
    spec: GPTTrainSpec | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> TrainedGPT:
    """Train the small GPT on a checked corpus (see `check_script_corpus`); the trainer's budget,
    progress and Stop apply, and a stopped training still returns a usable model."""
    if on_progress is not None:  # tokenising and building the model come before the first step's report
        on_progress(Progress(0, None, "preparing the corpus and the model"))
    return train_gpt(text, spec or GPTTrainSpec(), on_progress=on_progress, stop=stop)


@dataclass(frozen=True)
class VoiceOptions:
    """How to continue a scene: characters to add, temperature, top-k and seed."""

    chars: int = 400
    temperature: float = 0.8
    top_k: int = 40
    seed: int = 0

    def sample_options(self) -> SampleOptions:
        return SampleOptions(
            max_new_tokens=self.chars, temperature=self.temperature, top_k=self.top_k, seed=self.seed
        )


@dataclass(frozen=True)
class SceneContinuation:
    prompt: str
    continuation: str
    dropped_characters: str  # characters of the prompt the model never saw in training

    @property
    def text(self) -> str:
        return self.prompt + self.continuation


def continue_scene(trained: TrainedGPT, scene: str, options: VoiceOptions | None = None) -> SceneContinuation:
    """Continue the end of a scene (Fountain text) in the voice the model learned.

    Args:
        trained: A model from `train_voice` (or `load_gpt`).
        scene: The scene so far; only its last context window conditions the model.
        options: Length, temperature, top-k, seed (same seed, same continuation).

    Raises:
        InputError: The scene is empty or too long.
    """
    options = options or VoiceOptions()
    if not isinstance(scene, str) or not scene.strip():
        raise InputError("the scene to continue is empty; paste or write its beginning")
    if len(scene) > MAX_SCENE_PROMPT_CHARS:
        raise InputError(f"the scene is {len(scene):,} characters; give at most {MAX_SCENE_PROMPT_CHARS:,}")
    prompt = scene.replace("\r\n", "\n")
    known = set(trained.tokenizer.chars)
    dropped = "".join(sorted({c for c in prompt if c not in known}))
    output = sample(trained.model, trained.tokenizer, prompt, options.sample_options())
    return SceneContinuation(prompt, output.text[len(prompt) :], dropped)
