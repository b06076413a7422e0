"""Model cards: Markdown with YAML front matter (Hugging Face card keys), rendered to sanitised HTML."""

from __future__ import annotations

from dataclasses import dataclass, field

import bleach
import markdown
import yaml

from .errors import InvalidMetadata

# The Hugging Face card keys we read and show; others are kept but not interpreted.
HF_KEYS = ("license", "tags", "datasets", "metrics", "base_model", "language", "library_name", "pipeline_tag")
ALLOWED_TAGS = sorted(
    bleach.sanitizer.ALLOWED_TAGS
    | {"p", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "hr", "br", "img"}
)
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "img": ["src", "alt", "title"], "th": ["align"], "td": ["align"]}


@dataclass
class Card:
    metadata: dict = field(default_factory=dict)
    body: str = ""


def card_parse(text: str) -> Card:
    """Split `---` YAML front matter from the Markdown body; a malformed header is the publisher's error."""
    text = (text or "").replace("\r\n", "\n")
    if not text.startswith("---\n"):
        return Card({}, text)
    end = text.find("\n---", 4)
    if end < 0:
        raise InvalidMetadata("The card's front matter starts with --- but has no closing ---.")
    try:
        metadata = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError as exc:
        raise InvalidMetadata(f"The card's YAML front matter is not valid: {exc}") from exc
    if not isinstance(metadata, dict):
        raise InvalidMetadata("The card's front matter must be a mapping of keys to values.")
    body = text[end + 4 :].lstrip("-").lstrip("\n")
    return Card(_jsonable(metadata), body)


def card_html(body: str) -> str:
    """Markdown to HTML, then bleach: raw HTML and script URLs in a card never reach the page."""
    html = markdown.markdown(body or "", extensions=["tables", "fenced_code"])
    return bleach.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=["http", "https", "mailto"], strip=True
    )


def _jsonable(value):
    # YAML dates and other scalars must survive a JSONField
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
