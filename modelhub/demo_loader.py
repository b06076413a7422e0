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
    """The model hub's part of `manage.py load_demo`: a model publisher with the digits CNN, compressed by a
    job that runs here (so the demo is complete when the command returns), its variants published."""
    publisher = make_publisher("Model Lab", "modellab")
    owner = publisher.memberships.order_by("pk").first().user
    first_time = not HubModel.objects.filter(slug="digits-cnn").exists()
    model = demo_models_load(publisher, compress=False, user=owner)
    if first_time:
        from .services.compression import job_create, job_run, variants_publish

        reference = model.variants.get(name="fp32")
        job = job_create(user=owner, source=reference, eval_file=DEMO_DIR / "digits_eval.npz", eval_name="digits_eval")
        job = job_run(job_id=job.pk)
        variants = list(Variant.objects.filter(model=model, published=False))
        # One priced variant shows the purchase path; the others download for free.
        prices = {v.pk: (199 if v.method == "kmeans" else 0) for v in variants}
        variants_publish(user=owner, variants=variants, prices=prices)
    return [
        f"  models:                    /models/{model.slug}/ (publisher modellab; variants made by a compression job)"
    ]
