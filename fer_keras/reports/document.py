"""The report document: an ordered list of headings, text, tables and images, rendered to Markdown or HTML."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class Document:
    """An ordered list of report blocks rendered to Markdown and HTML alike."""

    blocks: list[tuple[str, object]] = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append(("heading", (level, text)))

    def text(self, text: str) -> None:
        self.blocks.append(("text", text))

    def table(self, frame: pd.DataFrame) -> None:
        self.blocks.append(("table", frame))

    def image(self, path: Path, caption: str) -> None:
        self.blocks.append(("image", (path, caption)))

    def markdown(self) -> str:
        lines = []
        for kind, value in self.blocks:
            if kind == "heading":
                lines.append(f"{'#' * value[0]} {value[1]}\n")
            elif kind == "text":
                lines.append(f"{value}\n")
            elif kind == "table":
                lines.append(value.to_markdown(index=False) + "\n")
            else:
                lines.append(f"![{value[1]}]({value[0].name})\n")
        return "\n".join(lines)

    def html(self, title: str) -> str:
        body = []
        for kind, value in self.blocks:
            if kind == "heading":
                body.append(f"<h{value[0]}>{html.escape(value[1])}</h{value[0]}>")
            elif kind == "text":
                body.append(f"<p>{html.escape(value)}</p>")
            elif kind == "table":
                body.append(value.to_html(index=False, border=0, classes="table"))
            else:
                data = base64.b64encode(value[0].read_bytes()).decode()
                body.append(f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(value[1])}">'
                            f"<figcaption>{html.escape(value[1])}</figcaption></figure>")
        style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
                 "td,th{padding:3px 9px;border-bottom:1px solid #ddd;text-align:right}img{max-width:100%}")
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                f"<style>{style}</style></head><body>{''.join(body)}</body></html>")
