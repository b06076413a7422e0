"""Typed errors raised by the artifact inspector."""


class InspectionError(Exception):
    """Base class: the artifact could not be inspected."""


class UnsupportedFormat(InspectionError):
    """The file's content matches none of the formats the inspector reads."""


class CorruptArtifact(InspectionError):
    """The file claims a known format but its content is truncated or malformed."""


class UnsafeArtifact(InspectionError):
    """The file asks for something the inspector refuses to do (e.g. a pickle importing arbitrary code)."""
