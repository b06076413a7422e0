import pytest


@pytest.fixture
def hosted_dataset(publisher):
    from marketplace.catalog.models import Dataset
    from marketplace.catalog.services.datasets import dataset_create

    dataset = dataset_create(publisher=publisher, title="Products", kind=Dataset.Kind.HOSTED, tags=["shop"])
    dataset.status = Dataset.Status.APPROVED
    dataset.save()
    return dataset


@pytest.fixture
def publisher_client(client, publisher):
    client.force_login(publisher.owner)
    return client


@pytest.fixture
def isolated_storage(settings, tmp_path):
    """Stores and uploads in a fresh folder per test; worker tests keep the worker's folders instead."""
    settings.RDF_STORE_ROOT = tmp_path / "stores"
    settings.UPLOAD_TMP_ROOT = tmp_path / "uploads"
    return tmp_path


@pytest.fixture
def worker_storage(settings):
    from pathlib import Path

    return Path(settings.VAR_DIR)
