"""Industry capabilities in plain Python, one package per industry, built on `shared_models`."""
