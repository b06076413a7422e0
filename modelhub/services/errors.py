"""Typed errors of the model hub services and the HTTP status each one gets in the API."""


class ModelhubError(Exception):
    """Base class of the hub's client errors."""


class UploadTooLarge(ModelhubError):
    pass


class UploadRejected(ModelhubError):
    pass


class NotAllowed(ModelhubError):
    pass


class PaymentRequired(ModelhubError):
    pass


class PurchaseFailed(ModelhubError):
    pass


class InvalidLink(ModelhubError):
    pass


class InvalidMetadata(ModelhubError):
    pass


class JobError(ModelhubError):
    pass


def register_api_errors(register) -> None:
    register(UploadTooLarge, 413)
    register(UploadRejected, 400)
    register(NotAllowed, 403)
    register(PaymentRequired, 402)
    register(PurchaseFailed, 402)
    register(InvalidLink, 403)
    register(InvalidMetadata, 400)
    register(JobError, 400)
