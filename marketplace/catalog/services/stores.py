"""Where hosted datasets' embedded Oxigraph stores live on disk, and how to open them."""

import shutil
from pathlib import Path

import pyoxigraph as ox
from django.conf import settings


def dataset_root(dataset_id: int) -> Path:
    return Path(settings.RDF_STORE_ROOT) / str(dataset_id)


def version_path(dataset_id: int, version: str) -> Path:
    return dataset_root(dataset_id) / version


def open_read_only(path: Path) -> ox.Store:
    """Readers open stores read-only so that many processes can share one store."""
    return ox.Store.read_only(str(path))


def remove_other_versions(dataset_id: int, keep: str) -> None:
    root = dataset_root(dataset_id)
    if not root.exists():
        return
    for child in root.iterdir():
        if child.name != keep:
            shutil.rmtree(child, ignore_errors=True)
