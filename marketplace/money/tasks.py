"""Celery tasks of the money app: thin wrappers around services."""

from celery import shared_task

from .services.topups import topups_reconcile


@shared_task(name="marketplace.money.tasks.reconcile_topups")
def reconcile_topups() -> dict[str, int]:
    """Credit top-ups whose payment succeeded but whose webhook never came (runs every 5 minutes)."""
    return topups_reconcile()
