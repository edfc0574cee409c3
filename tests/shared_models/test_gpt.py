"""The small GPT: shapes, tokenizer round trips, corpus checks, seeded sampling."""

from __future__ import annotations

import pytest
import torch

from shared_models.exceptions import InputError, ResourceLimitError
from shared_models.gpt import GPT, CharTokenizer, GPTConfig, SampleOptions, check_corpus, sample

TINY = {"block_size": 16, "n_layer": 2, "n_head": 2, "n_embd": 32}


def test_tokenizer_round_trips_and_saves() -> None:
    tok = CharTokenizer.from_text("hello world\n")
    assert tok.vocab_size == len(set("hello world\n"))
    assert tok.decode(tok.encode("low hello")) == "low hello"
    assert CharTokenizer.from_json(tok.to_json()).chars == tok.chars
    with pytest.raises(InputError, match="not in the training text"):
        tok.encode("xyz")
    assert tok.encode("hex", strict=False) == tok.encode("he")


def test_forward_shapes_and_initial_loss_near_uniform() -> None:
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=20, **TINY))
    idx, targets = torch.randint(0, 20, (3, 16)), torch.randint(0, 20, (3, 16))
    logits, loss = model(idx, targets)
    assert logits.shape == (3, 16, 20)
    assert loss is not None and abs(loss.item() - torch.log(torch.tensor(20.0)).item()) < 0.3
    with pytest.raises(InputError, match="longer than the context"):
        model(torch.zeros((1, 17), dtype=torch.long))


def test_attention_is_causal() -> None:
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=10, **TINY)).eval()
    a = torch.tensor([[1, 2, 3, 4, 5]])
    b = torch.tensor([[1, 2, 3, 9, 9]])
    assert torch.allclose(model(a)[0][:, :3], model(b)[0][:, :3], atol=1e-6)


def test_sampling_is_seeded_and_respects_top_k() -> None:
    torch.manual_seed(0)
    tok = CharTokenizer.from_text("abcdefgh\n")
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, **TINY))
    one = sample(model, tok, "ab", SampleOptions(max_new_tokens=30, seed=5))
    two = sample(model, tok, "ab", SampleOptions(max_new_tokens=30, seed=5))
    other = sample(model, tok, "ab", SampleOptions(max_new_tokens=30, seed=6))
    assert one.text == two.text and one.text.startswith("ab") and len(one.text) == 32
    assert other.text != one.text
    greedy = sample(model, tok, "ab", SampleOptions(max_new_tokens=10, temperature=0, seed=None))
    assert (
        greedy.text == sample(model, tok, "ab", SampleOptions(max_new_tokens=10, temperature=0, seed=1)).text
    )
    top1 = sample(model, tok, "ab", SampleOptions(max_new_tokens=10, temperature=1.0, top_k=1, seed=3))
    assert top1.text == greedy.text  # top-1 sampling is greedy


def test_corpus_checks() -> None:
    text = "To be, or not to be, that is the question.\r\n" * 10
    assert "\r" not in check_corpus(text.encode())
    assert check_corpus("\ufeff".encode() + text.encode()).startswith("To be")
    with pytest.raises(ResourceLimitError, match="limit is"):
        check_corpus(b"a" * 1001, max_bytes=1000)
    with pytest.raises(InputError, match="not UTF-8"):
        check_corpus(b"caf\xe9 " * 100)
    with pytest.raises(InputError, match="binary"):
        check_corpus(b"\x00\x01" * 200)
    with pytest.raises(InputError, match="at least"):
        check_corpus(b"short")
    with pytest.raises(ResourceLimitError, match="distinct characters"):
        check_corpus("".join(chr(0x4E00 + i) for i in range(600)).encode())


def test_config_is_checked() -> None:
    with pytest.raises(InputError, match="multiple of n_head"):
        GPTConfig(vocab_size=10, n_embd=30, n_head=4)
    assert GPTConfig(**GPTConfig(vocab_size=7).to_dict()) == GPTConfig(vocab_size=7)
