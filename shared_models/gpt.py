"""A compact nanoGPT-style decoder-only transformer and its character tokenizer.

"Train your own text generator": small enough to learn a corpus's style in minutes on a CPU
(nanoGPT's CPU config: 4 layers, 4 heads, 128 dims, context 64). Training lives in
`shared_models.gpt_train`; this file holds the architecture, the tokenizer and sampling.

Example:
    >>> tok = CharTokenizer.from_text("hello world")
    >>> model = GPT(GPTConfig(vocab_size=tok.vocab_size, n_layer=1, n_head=1, n_embd=16, block_size=8))
    >>> sample(model, tok, "he", SampleOptions(max_new_tokens=5, seed=0)).text[:2]
    'he'
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from shared_models.exceptions import InputError, ResourceLimitError

__all__ = [
    "GPT",
    "MAX_CORPUS_BYTES",
    "MIN_CORPUS_CHARS",
    "CharTokenizer",
    "GPTConfig",
    "SampleOptions",
    "SampleOutput",
    "check_corpus",
    "sample",
]

MAX_CORPUS_BYTES = 5_000_000  # a few novels; more would not be seen in a CPU-minutes budget anyway
MIN_CORPUS_CHARS = 200
MAX_VOCAB = 512


def check_corpus(data: bytes, max_bytes: int = MAX_CORPUS_BYTES) -> str:
    """Validate an uploaded text corpus and decode it.

    Args:
        data: The file's bytes.
        max_bytes: Size cap.

    Returns:
        The text, with Windows line endings normalised.

    Raises:
        ResourceLimitError: Too large, or too many distinct characters for a char model.
        InputError: Not UTF-8 text, binary, or too short to learn from.
    """
    if len(data) > max_bytes:
        raise ResourceLimitError(
            f"the corpus is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB. "
            "Upload a shorter excerpt."
        )
    if b"\x00" in data:
        raise InputError("the corpus looks binary (it holds NUL bytes); upload a plain .txt file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"the corpus is not UTF-8 text (bad byte at position {exc.start}); save it as UTF-8 and retry"
        ) from exc
    text = text.replace("\r\n", "\n")
    if len(text) < MIN_CORPUS_CHARS:
        raise InputError(
            f"the corpus has {len(text)} characters; give at least {MIN_CORPUS_CHARS} to learn from"
        )
    distinct = len(set(text))
    if distinct > MAX_VOCAB:
        raise ResourceLimitError(
            f"the corpus uses {distinct} distinct characters; a character model takes at most {MAX_VOCAB}"
        )
    return text


class CharTokenizer:
    """One token per distinct character of the training text."""

    def __init__(self, chars: str) -> None:
        if len(set(chars)) != len(chars) or not chars:
            raise InputError("a tokenizer vocabulary is a non-empty string of distinct characters")
        self.chars = chars
        self._index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        return cls("".join(sorted(set(text))))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str, *, strict: bool = True) -> list[int]:
        """Token ids of ``text``; unknown characters raise (strict) or are dropped."""
        unknown = sorted({c for c in text if c not in self._index})
        if unknown and strict:
            raise InputError(f"characters not in the training text: {''.join(unknown)[:20]!r}")
        return [self._index[c] for c in text if c in self._index]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.chars[i] for i in ids)

    def to_json(self) -> str:
        return json.dumps({"kind": "char", "chars": self.chars})

    @classmethod
    def from_json(cls, text: str) -> CharTokenizer:
        data = json.loads(text)
        if data.get("kind") != "char" or not isinstance(data.get("chars"), str):
            raise InputError("not a character tokenizer file")
        return cls(data["chars"])


@dataclass(frozen=True)
class GPTConfig:
    """Shape of the network; saved beside the weights and rebuilt with ``GPTConfig(**saved)``."""

    vocab_size: int
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise InputError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")
        if min(self.vocab_size, self.block_size, self.n_layer, self.n_head) < 1:
            raise InputError("vocab_size, block_size, n_layer and n_head must be positive")
        if not 0 <= self.dropout < 1:
            raise InputError(f"dropout must be in [0, 1), not {self.dropout}")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape  # (B, T, C)
        q, k, v = self.qkv(x).split(c, dim=2)
        # (B, nh, T, hs)
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
        )
        y = y.transpose(1, 2).contiguous().view(b, t, c)  # (B, T, C)
        return self.resid_dropout(self.proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.proj(F.gelu(self.fc(x))))


class Block(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """Token + position embeddings, pre-norm transformer blocks, output head tied to the embedding."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):  # GPT-2's scaled init of residual projections
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits ``(B, T, vocab)`` and, given targets ``(B, T)``, the mean cross-entropy."""
        _, t = idx.shape  # (B, T)
        if t > self.config.block_size:
            raise InputError(f"sequence of {t} tokens is longer than the context ({self.config.block_size})")
        pos = torch.arange(t, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))  # (B, T, C)
        for block in self.blocks:
            x = block(x)
        # The output head is the token embedding itself (GPT-2's weight tying), used directly so that
        # the state dict holds one tensor, as safetensors requires.
        logits = F.linear(self.ln_f(x), self.wte.weight)  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss


@dataclass(frozen=True)
class SampleOptions:
    """How to sample: ``temperature`` 0 is greedy; ``top_k`` keeps the k likeliest tokens (0: all)."""

    max_new_tokens: int = 300
    temperature: float = 0.8
    top_k: int = 40
    seed: int | None = 0

    def __post_init__(self) -> None:
        if not 1 <= self.max_new_tokens <= 20_000:
            raise InputError(f"max_new_tokens must be between 1 and 20000, not {self.max_new_tokens}")
        if not 0 <= self.temperature <= 5:
            raise InputError(f"temperature must be between 0 and 5, not {self.temperature}")
        if self.top_k < 0:
            raise InputError(f"top_k must be 0 (all) or positive, not {self.top_k}")


@dataclass(frozen=True)
class SampleOutput:
    text: str  # the prompt followed by the continuation
    prompt: str
    new_tokens: int


@torch.no_grad()
def sample(
    model: GPT, tokenizer: CharTokenizer, prompt: str, options: SampleOptions | None = None
) -> SampleOutput:
    """Continue ``prompt`` with the model.

    Args:
        model: A trained `GPT`.
        tokenizer: Its tokenizer; characters of the prompt it does not know are dropped.
        prompt: Start of the text (may be empty: sampling starts from a newline or the first token).
        options: Length, temperature, top-k and seed.

    Returns:
        `SampleOutput` with the prompt and its continuation.
    """
    options = options or SampleOptions()
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator(device="cpu")
    if options.seed is not None:
        generator.manual_seed(options.seed)
    else:
        generator.seed()
    start = tokenizer.encode(prompt, strict=False) or tokenizer.encode("\n", strict=False) or [0]
    idx = torch.tensor([start], dtype=torch.long, device=device)  # (1, T)
    for _ in range(options.max_new_tokens):
        logits, _ = model(idx[:, -model.config.block_size :])
        logits = logits[:, -1, :].float().cpu()  # (1, V)
        if options.temperature == 0:
            nxt = logits.argmax(dim=-1, keepdim=True)
        else:
            logits = logits / options.temperature
            if options.top_k:
                kth = torch.topk(logits, min(options.top_k, logits.size(-1))).values[:, [-1]]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            nxt = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=generator)
        idx = torch.cat([idx, nxt.to(device)], dim=1)
    model.train(was_training)
    ids = idx[0].tolist()
    return SampleOutput(
        text=prompt + tokenizer.decode(ids[len(start) :]),
        prompt=prompt,
        new_tokens=options.max_new_tokens,
    )
