"""Fixtures of the model hub tests: media in a temporary folder, ONNX files, a model with variants and files."""

from __future__ import annotations

from pathlib import Path

import pytest

from .onnx_factory import fp32_mlp, int8_qdq_mlp


@pytest.fixture
def media(settings, tmp_path):
    """Stored artifacts go to a temporary folder (tests without a worker: the worker has its own settings)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MODELHUB_JOB_ROOT = tmp_path / "jobs"
    return settings.MEDIA_ROOT


@pytest.fixture
def fp32_file(tmp_path) -> Path:
    return fp32_mlp(tmp_path / "mlp_fp32.onnx")


@pytest.fixture
def int8_file(tmp_path) -> Path:
    return int8_qdq_mlp(tmp_path / "mlp_int8.onnx")


@pytest.fixture
def hub_model(db, publisher):
    from modelhub.services.catalog import model_create

    return model_create(
        user=publisher.owner,
        publisher=publisher,
        name="Tiny MLP",
        task="image-classification",
        card="---\nlicense: mit\ntags: [mlp]\n---\n# Tiny MLP\n\nA test model.",
        price=0,
    )


@pytest.fixture
def make_variant(hub_model):
    from modelhub.services.catalog import variant_create

    def make(name: str, *, price: int = 0, path: Path | None = None, **metadata):
        variant = variant_create(
            user=hub_model.publisher.owner, model=hub_model, name=name, price=price, metadata=metadata
        )
        if path is not None:
            from modelhub.services.artifacts import artifact_add_path

            artifact_add_path(user=hub_model.publisher.owner, variant=variant, path=path)
        return variant

    return make


@pytest.fixture
def big_file(tmp_path) -> Path:
    """A 3 MiB file of varied bytes (so that wrong offsets give wrong bytes)."""
    path = tmp_path / "weights.safetensors"
    block = bytes(range(256)) * 4096
    with open(path, "wb") as out:
        for i in range(3):
            out.write(bytes([(b + i) % 256 for b in block[:1024]]) * 1024)
    return path


@pytest.fixture
def cleanup_files(worker):
    """The worker reads the configured MEDIA_ROOT, so worker tests store there and delete what they stored."""
    yield
    from modelhub.models import Artifact

    for artifact in Artifact.objects.all():
        folder = Path(artifact.file.path).parent
        artifact.file.delete(save=False)
        for empty in (folder, folder.parent):
            if empty.is_dir() and not any(empty.iterdir()):
                empty.rmdir()
