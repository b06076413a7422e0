"""The steering repository's shared/ folder (W3C tests, FedBench queries), beside this checkout."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        # Collection fails loudly: a missing suite must not turn into zero tests.
        raise FileNotFoundError(f"{path} is missing: the tests need ../shared beside the checkout (or SHARED_DIR).")
    return path
