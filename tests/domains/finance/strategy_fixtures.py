"""Synthetic market data shared by the strategy tests: small, seeded, with known structure."""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_returns(days: int = 900, assets: int = 4, seed: int = 0) -> pd.DataFrame:
    """Daily log returns of correlated assets with different drifts and volatilities."""
    rng = np.random.default_rng(seed)
    vols = np.linspace(0.01, 0.025, assets)
    drifts = np.linspace(0.0006, -0.0002, assets)
    common = rng.standard_normal((days, 1))
    noise = rng.standard_normal((days, assets))
    values = drifts + vols * (0.5 * common + 0.85 * noise)
    index = pd.bdate_range("2010-01-04", periods=days)
    return pd.DataFrame(values, index=index, columns=[f"a{i}" for i in range(assets)])


def prices_from(returns: pd.DataFrame) -> pd.DataFrame:
    """Prices (start 100) whose log returns are ``returns``, one day earlier."""
    values = 100 * np.exp(np.vstack([np.zeros((1, returns.shape[1])), np.cumsum(returns.to_numpy(), axis=0)]))
    index = returns.index.insert(0, returns.index[0] - pd.tseries.offsets.BDay(1))
    return pd.DataFrame(values, index=index, columns=returns.columns)
