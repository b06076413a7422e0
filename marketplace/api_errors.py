"""One place that turns the services' typed errors into HTTP answers for the REST API."""

from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

# Service errors that are the client's fault, by class name of their base, and the status they get.
CLIENT_ERRORS: list[tuple[type, int]] = []


def register(exc_class: type, http_status: int) -> None:
    """Apps register their typed service errors here (in AppConfig.ready or at import of their API)."""
    CLIENT_ERRORS.append((exc_class, http_status))


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response
    if isinstance(exc, ValidationError):
        return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PermissionDenied):
        return Response({"detail": str(exc) or "Not allowed."}, status=status.HTTP_403_FORBIDDEN)
    for exc_class, http_status in CLIENT_ERRORS:
        if isinstance(exc, exc_class):
            return Response({"detail": str(exc), "code": exc_class.__name__}, status=http_status)
    return None
