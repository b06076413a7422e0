"""The demo content the demo loader asks for: the digits CNN as an fp32 reference variant, optionally compressed."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from marketplace.accounts.models import Organisation

from .models import HubModel, Variant
from .services.artifacts import artifact_add_path

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_CARD = """---
license: apache-2.0
tags: [onnx, image-classification, digits, compression]
datasets: [sklearn-digits]
metrics: [accuracy]
library_name: onnxruntime
pipeline_tag: image-classification
---
# Digits CNN

A small convolutional network (about 57k parameters) classifying 8×8 handwritten digits (scikit-learn's
*digits*). The fp32 reference is free; compressed variants are made by the hub's compression jobs.
"""


def demo_models_load(publisher: Organisation, *, compress: bool = False, user=None):
    """Create (once) the demo model from modelhub/demo/; with `compress`, queue a compression job on it."""
    user = user or publisher.memberships.order_by("pk").first().user
    with transaction.atomic():
        model, created = HubModel.objects.get_or_create(
            slug="digits-cnn",
            defaults={
                "publisher": publisher,
                "name": "Digits CNN",
                "task": "image-classification",
                "licence": "apache-2.0",
                "card": DEMO_CARD,
                "price": 0,
            },
        )
        if created:
            from .services.cards import card_parse

            model.card_metadata = card_parse(DEMO_CARD).metadata
            model.save(update_fields=["card_metadata"])
        reference = model.variants.filter(name="fp32").first()
        if reference is None:
            reference = Variant.objects.create(
                model=model,
                name="fp32",
                method="none",
                weight_bits=32,
                activation_bits=32,
                evaluation_set="digits_eval",
                price=0,
            )
            artifact_add_path(user=user, variant=reference, path=DEMO_DIR / "digits_cnn.onnx")
    if compress:
        from .services.compression import job_create

        job_create(user=user, source=reference, eval_file=DEMO_DIR / "digits_eval.npz", eval_name="digits_eval")
    return model


def load_demo(*, buyer, operator, stdout, make_publisher) -> list[str]:
    """The model hub's part of `manage.py load_demo`: a model publisher with the digits CNN, compressed by a job."""
    publisher = make_publisher("Model Lab", "modellab")
    model = demo_models_load(publisher, compress=not model_exists(), user=publisher.memberships.first().user)
    return [f"  models:                    /models/{model.slug}/ (publisher modellab; a compression job runs in the worker)"]


def model_exists() -> bool:
    return HubModel.objects.filter(slug="digits-cnn").exists()
