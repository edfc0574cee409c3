"""Finance: market risk, credit scoring and strategy generation."""
