from __future__ import annotations

from domains.services.recommend import RecommendedItem, check_facts, write_pitch
from domains.services.recommend.explain import Reason
from tests.domains.services.recs_data import ScriptedLM

ITEM = RecommendedItem(
    rank=1,
    item=3,
    item_id="3",
    title="Toy Story (1995)",
    categories="Animation|Children|Comedy",
    score=1.0,
    reasons=[Reason(1, "1", "Aladdin (1992)", 0.4)],
    explained_by="EASE",
)


def test_check_facts_removes_invented_numbers_and_names() -> None:
    facts = ["Toy Story (1995)", "Animation, Children, Comedy", "Aladdin (1992)"]
    text = (
        "Toy Story is a bright Animation for the whole family. It won 3 Oscars. "
        "Directed by John Lasseter, it shines! Since you loved Aladdin, this one from 1995 is for you."
    )
    kept, removed = check_facts(text, facts)
    assert kept == [
        "Toy Story is a bright Animation for the whole family.",
        "Since you loved Aladdin, this one from 1995 is for you.",
    ]
    assert removed == ["It won 3 Oscars.", "Directed by John Lasseter, it shines!"]


def test_pitch_uses_only_metadata_and_reports_what_it_removed() -> None:
    lm = ScriptedLM("A joyful Comedy you will love. Starring Tom Hanks in 1996.")
    pitch = write_pitch(lm, ITEM)  # type: ignore[arg-type]
    assert pitch.text == "A joyful Comedy you will love." and not pitch.fallback
    assert pitch.removed == ["Starring Tom Hanks in 1996."]
    prompt, system = lm.prompts[0]
    assert "Toy Story (1995)" in prompt and "Aladdin (1992)" in prompt and "Animation, Children" in prompt
    assert system is not None and "Never invent" in system


def test_pitch_falls_back_to_metadata_when_nothing_checks_out() -> None:
    pitch = write_pitch(ScriptedLM("Winner of 12 awards at Cannes."), ITEM)  # type: ignore[arg-type]
    assert pitch.fallback
    assert pitch.text == (
        "Toy Story (1995): Animation, Children, Comedy. Picked for you because you liked Aladdin (1992)."
    )
