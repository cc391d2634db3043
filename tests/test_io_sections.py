"""write_markdown_section: each benchmark owns one section of docs/benchmarks.md."""

from __future__ import annotations

import re

from costcorrect.io import write_markdown_section


def test_replaces_only_its_section_and_appends_new_ones(tmp_path):
    p = tmp_path / "b.md"
    p.write_text("# Benchmarks\n\nintro\n\n## A\n\nold a\n\n## B\n\nold b\n")
    write_markdown_section(p, "## A", "## A\n\nnew a\n")
    assert p.read_text() == "# Benchmarks\n\nintro\n\n## A\n\nnew a\n\n## B\n\nold b\n"
    write_markdown_section(p, "## B", "## B\n\nnew b")
    assert p.read_text().endswith("## A\n\nnew a\n\n## B\n\nnew b\n")
    write_markdown_section(p, "## C", "## C\n\nc\n")
    assert p.read_text().endswith("## B\n\nnew b\n\n## C\n\nc\n")
    write_markdown_section(p, "## D", "## D\n\nd\n", first=True)
    assert p.read_text().index("## D") < p.read_text().index("## A")


def test_missing_file_starts_with_the_preamble(tmp_path):
    p = tmp_path / "new.md"
    write_markdown_section(p, "## A", "## A\n\na\n", preamble="# Benchmarks\n\nabout\n")
    assert p.read_text() == "# Benchmarks\n\nabout\n\n## A\n\na\n"


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^(## .*)$", text, flags=re.M)
    return {h: body.strip() for h, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_rewriting_every_shipped_section_with_itself_keeps_every_section(tmp_path):
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md").read_text()
    p = tmp_path / "benchmarks.md"
    p.write_text(doc)
    want = _sections(doc)
    assert want
    for heading in want:
        start = doc.index(heading + "\n")
        nxt = doc.find("\n## ", start + len(heading))
        write_markdown_section(p, heading, doc[start: nxt + 1 if nxt >= 0 else len(doc)])
    once = p.read_text()
    assert _sections(once) == want and once.startswith(doc[: doc.index("## ")])
    for heading in want:  # idempotent: a second pass changes nothing at all
        start = once.index(heading + "\n")
        nxt = once.find("\n## ", start + len(heading))
        write_markdown_section(p, heading, once[start: nxt + 1 if nxt >= 0 else len(once)])
    assert p.read_text() == once
