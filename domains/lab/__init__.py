"""Model Lab: the shared generative core exercised directly (train, sample, measure)."""
