from __future__ import annotations

import numpy as np
import pytest

from domains.services.recommend import (
    build_interactions,
    read_interactions_csv,
    read_items_csv,
)
from domains.services.recommend import (
    data as data_module,
)
from shared_models.exceptions import InputError, ResourceLimitError

GOOD = b"user,item,rating,timestamp\n1,10,5,100\n1,11,3,101\n2,10,4,2020-01-02\n"


def test_reads_a_good_csv_with_aliases_and_dates() -> None:
    frame = read_interactions_csv(b"userId;movieId;Rating\n1;10;5\n2;10;4.5\n")
    assert list(frame["user"]) == ["1", "2"] and list(frame["item"]) == ["10", "10"]
    assert list(frame["rating"]) == [5.0, 4.5] and frame["timestamp"].isna().all()
    dated = read_interactions_csv(GOOD.replace(b"100", b"1970-01-01T00:01:40Z"))
    assert dated["timestamp"].iloc[0] == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (b"user,item\n", "no rows"),
        (b"\x00\x01binary", "looks binary"),
        (b"customer,score\n1,2\n", "needs a item column"),
        (b"item,rating\n1,2\n", "needs a user column"),
        (b"user,item,rating\n1,10,five\n", "rating column"),
        (b"user,item,rating\n1,10,inf\n", "rating column"),
        (b"user,item,timestamp\n1,10,yesterday-ish\n", "timestamp column"),
        (b"user,item\n1,10\n1,10\n", "duplicate (user, item) pairs"),
        (b"user,item\n1,\n", "empty user or item"),
        (b'user,item\n"1,10\n', "not a readable CSV"),
    ],
)
def test_every_bad_interactions_csv_gets_a_clear_error(content: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_interactions_csv(content)


def test_size_and_row_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_module, "MAX_CSV_BYTES", 20)
    with pytest.raises(ResourceLimitError, match="limit is"):
        read_interactions_csv(GOOD)
    monkeypatch.setattr(data_module, "MAX_CSV_BYTES", 10_000)
    monkeypatch.setattr(data_module, "MAX_ROWS", 2)
    with pytest.raises(ResourceLimitError, match="more than 2 rows"):
        read_interactions_csv(GOOD)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"item,price\n1,3\n", "at least one of the columns"),
        (b"item,title\n1,A\n1,B\n", "twice"),
        (b"item,title\n,A\n", "without an item id"),
    ],
)
def test_bad_item_metadata(content: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_items_csv(content)


def test_binarises_filters_and_keeps_metadata() -> None:
    rows = [f"u{u},i{i},{5 if i < 4 else 2}" for u in range(6) for i in range(6)]
    frame = read_interactions_csv(("user,item,rating\n" + "\n".join(rows)).encode())
    items = read_items_csv(b"item,title,categories\ni0,Alpha,Drama|Comedy\ni1,Beta,Horror\n")
    data = build_interactions(frame, items, min_rating=4, min_user_items=2, min_item_users=2)
    assert data.matrix.shape == (6, 4) and data.matrix.nnz == 24  # ratings of 2 are not positives
    assert set(np.unique(data.matrix.data)) == {1.0}
    assert data.title(data.item_index("i0")) == "Alpha" and data.title(data.item_index("i3")) == "i3"
    assert data.item_texts()[data.item_index("i0")] == "Alpha. Drama, Comedy"
    assert data.has_text and not build_interactions(frame, min_user_items=2, min_item_users=2).has_text
    with pytest.raises(InputError, match="no usable interactions"):
        build_interactions(frame, min_rating=6)
    with pytest.raises(InputError, match="unknown user 'nobody'"):
        data.user_index("nobody")
