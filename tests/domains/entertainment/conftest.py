from tests.shared_models.conftest import local_lm

__all__ = ["local_lm"]
