"""Expiring signed download links (django.core.signing with max_age) and download counting."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db.models import F

from ..models import Artifact
from .errors import InvalidLink, PaymentRequired
from .purchases import can_download

SALT = "modelhub.download"


def download_token(*, user, artifact: Artifact) -> str:
    """A link token for someone allowed to download; it works for anyone holding it until it expires."""
    if not can_download(user=user, variant=artifact.variant):
        raise PaymentRequired("Buy this variant to download its files.")
    user_id = user.pk if user is not None and user.is_authenticated else None
    return signing.dumps({"a": artifact.pk, "s": artifact.sha256[:16], "u": user_id}, salt=SALT, compress=True)


def token_artifact(token: str, *, max_age: int | None = None) -> Artifact:
    max_age = settings.MODELHUB_DOWNLOAD_LINK_MAX_AGE if max_age is None else max_age
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise InvalidLink("This download link has expired; ask for a new one.") from exc
    except signing.BadSignature as exc:
        raise InvalidLink("This download link is not valid.") from exc
    artifact = Artifact.objects.select_related("variant__model").filter(pk=data.get("a")).first()
    if artifact is None or not artifact.sha256.startswith(data.get("s", "-")):
        raise InvalidLink("This download link points to a file that is no longer here.")
    return artifact


def download_counted(*, artifact: Artifact) -> None:
    Artifact.objects.filter(pk=artifact.pk).update(download_count=F("download_count") + 1)
