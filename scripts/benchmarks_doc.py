"""Rebuild docs/benchmarks.md from the per-benchmark pages in docs/benchmarks/ (each written by its bench script's
author with the command next to the figures): a summary against the issues' goals, then every page."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["ingest", "federation", "allocation", "market", "ledger", "modelhub", "compression"]
SUMMARY = (ROOT / "docs" / "benchmarks-summary.md").read_text()


def demote(text: str) -> str:
    """Each page's headings go one level down under its section."""
    return "\n".join("#" + line if line.startswith("#") else line for line in text.splitlines())


def main() -> None:
    parts = [SUMMARY.rstrip()]
    for name in PAGES:
        parts.append(demote((ROOT / "docs" / "benchmarks" / f"{name}.md").read_text()).rstrip())
    (ROOT / "docs" / "benchmarks.md").write_text("\n\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
