"""Prediction rows written as they are made, so a stop keeps every row so far.

:class:`RowSink` appends each batch of rows to a hidden temporary file beside
``predictions.<csv|json>`` (flushed, so a crash or Ctrl-C loses at most the rows being written)
and renames it into place when the command ends or is stopped (Ctrl-C); without ``--out`` the rows go
to standard output as they are made. A write that fails (a full disk) keeps every whole row that
fitted and stops with one line. Memory stays bounded: no row is held after it is written, so a
camera may run for hours.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path

from fer_keras.errors import PartialOutputError
from fer_keras.inference.rows import NO_FACE


class RowSink:
    """Write rows as CSV or JSON records to ``out/predictions.<fmt>`` (or standard output), counting them."""

    def __init__(self, out: Path | None, fmt: str):
        self.out, self.fmt = out, fmt
        self.path = out / f"predictions.{fmt}" if out is not None else None
        self.temporary = self.path.with_name(f".tmp_{self.path.name}") if self.path is not None else None
        self.handle = None
        self.columns: list[str] | None = None
        self.rows = self.faces = self.no_face = self.unreadable = 0
        self.whole = 0  # bytes of whole rows in the temporary file

    def __enter__(self) -> RowSink:
        if self.temporary is not None:
            self.out.mkdir(parents=True, exist_ok=True)
            self.handle = open(self.temporary, "w", newline="", encoding="utf-8")
        else:
            self.handle = sys.stdout
        return self

    def add(self, rows: list[dict]) -> None:
        """Write ``rows`` now (and count faces, images with no face, unreadable images)."""
        for row in rows:
            text = self._text(row)
            try:
                self.handle.write(text)
                self.handle.flush()
            except OSError as error:
                self._keep_whole_rows()
                kept = f"; the {self.rows} row(s) written before are kept in {self.path}" if self.path else ""
                raise PartialOutputError(f"cannot write the predictions ({error.strerror or error}){kept}") from None
            self.whole += len(text.encode())
            self.rows += 1
            status = str(row.get("status") or "")
            self.faces += int(row.get("face", -1) is not None and row.get("face", -1) >= 0)
            self.no_face += status == NO_FACE
            self.unreadable += status.startswith("unreadable")

    def _text(self, row: dict) -> str:
        if self.fmt == "json":
            values = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            return ("[\n" if self.rows == 0 else ",\n") + json.dumps(values)
        if self.columns is None:
            self.columns = list(row)
            header = ",".join(self.columns) + "\n"
        else:
            header = ""
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow(["" if row.get(c) is None else row.get(c) for c in self.columns])
        return header + line.getvalue()

    def _keep_whole_rows(self) -> None:
        if self.temporary is None:
            return
        try:
            self.handle.close()
        except OSError:
            pass
        with open(self.temporary, "r+b") as handle:  # drop a row cut in half by the failed write
            handle.truncate(self.whole)
        self._close_json()
        self.handle = None
        self.temporary.replace(self.path)

    def _close_json(self) -> None:
        if self.fmt != "json":
            return
        try:
            with open(self.temporary, "a", encoding="utf-8") as handle:
                handle.write("\n]\n" if self.rows else "[]\n")
        except OSError:
            pass

    def __exit__(self, kind, error, traceback) -> None:
        if self.handle is None:  # already closed after a failed write
            return
        if self.temporary is None:
            if self.fmt == "json":
                self.handle.write("\n]\n" if self.rows else "[]\n")
            self.handle.flush()
            return
        self.handle.close()
        self._close_json()
        if error is None or isinstance(error, KeyboardInterrupt):  # done, or stopped: the rows so far count
            self.temporary.replace(self.path)
        else:  # a failure: an earlier predictions file is not replaced by a part of this one
            self.temporary.unlink(missing_ok=True)

