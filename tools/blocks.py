"""Generated blocks inside hand-written Markdown: ``<!-- generated: NAME -->`` … ``<!-- end generated: NAME -->``.

The prose around a block is edited by hand; the block's body is rewritten from result files and
never edited by hand (a test compares every block with what its renderer gives).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated: (?P=name) -->)",
                   re.DOTALL)


def block_names(text: str) -> list[str]:
    """The names of the generated blocks in ``text``, in order."""
    return [match["name"] for match in BLOCK.finditer(text)]


def fill_blocks(text: str, renderers: Mapping[str, Callable[[], str]]) -> str:
    """``text`` with every block's body replaced by its renderer's output; an unknown block name is an error."""
    unknown = [name for name in block_names(text) if name not in renderers]
    if unknown:
        raise KeyError(f"no renderer for generated block(s) {', '.join(unknown)}")
    return BLOCK.sub(lambda match: match[1] + renderers[match["name"]]().strip("\n") + "\n" + match[4], text)


def markdown_table(header: list[str], rows: list[list[object]], align: str = "") -> str:
    """A Markdown table; ``align`` gives one letter per column (l or r), left by default."""
    align = align or "l" * len(header)
    rule = ["---:" if side == "r" else "---" for side in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
