"""Example queries for the ask form: the FedShop templates instantiated for the demo world's data."""

from functools import lru_cache

from marketplace.demo.fedshop import DEMO_SCALE, TEMPLATE_DIR, instantiate_queries


@lru_cache(maxsize=1)
def demo_examples() -> list[tuple[str, str]]:
    """(name, query text) for each FedShop template, with constants that exist in `load_demo`'s data."""
    return instantiate_queries(TEMPLATE_DIR, **DEMO_SCALE, seed=0)
