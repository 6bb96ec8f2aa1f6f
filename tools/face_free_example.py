"""``python -m tools.face_free_example RUN DEST``: a committable example of a run on a research-only dataset.

The datasets' licences forbid redistributing their images or a model trained on them, so an example
under ``reports/examples/`` keeps the numbers, tables and face-free figures of a run and nothing else:
no model, no stored sample faces, no emotion-analysis or Grad-CAM figure, no per-image predictions or
split lists (they name the dataset's files). The report is rebuilt with ``report.sample_faces: false``
so it links no face figure, and this machine's paths become ``path/to/<name>``.

RUN is a run folder, or the folder of a ``--seeds`` run (``seed<N>/`` and ``seeds_summary.*``): then
the first seed is the example, the other seeds add ``metrics_seed<N>.json``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

#: Files an example never holds: models, dataset faces, per-image rows, the self-contained HTML report.
LEFT_OUT = re.compile(r"(model_.*|.*\.keras|.*\.h5|.*\.tflite|splits\.json|predictions.*\.csv|samples\.npz|"
                      r"report\.html|emotion_analysis.*|gradcam.*|checkpoints|\.tflite_cache|\.backup.*|\.tmp.*|\.lock)$")
SAMPLE_FACES_ON = re.compile(r"^(\s+sample_faces:) true$", re.MULTILINE)


def seed_folders(run: Path) -> list[Path]:
    """The seed runs of a ``--seeds`` folder, lowest seed first ([] for a single run)."""
    seeds = [p for p in run.glob("seed*") if p.is_dir() and p.name[4:].isdigit()]
    return sorted(seeds, key=lambda p: int(p.name[4:]))


def local_paths(config: dict, replace: dict[str, str]) -> dict[str, str]:
    """This machine's paths the run's files name (data roots, source model) → ``path/to/<name>``."""
    transfer = config.get("transfer") or {}
    found = [(config.get("data") or {}).get("root"), (transfer.get("source") or {}).get("root"),
             transfer.get("source_model")]
    paths = {str(p): f"path/to/{Path(str(p)).name}" for p in found if p and Path(str(p)).is_absolute()}
    paths.update(replace)
    return dict(sorted(paths.items(), key=lambda item: -len(item[0])))  # longest first: no partial rewrite


def rebuilt_without_faces(run: Path, scratch: Path) -> Path:
    """A copy of ``run`` whose config turns sample faces off, its report rebuilt from its files."""
    from fer_keras.reports.run_report import build_report

    copy = scratch / run.name
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("*.keras", "emotion_analysis*", "gradcam*",
                                                             "samples.npz", "checkpoints", ".backup*"))
    config = copy / "config.yaml"
    config.write_text(SAMPLE_FACES_ON.sub(r"\1 false", config.read_text(encoding="utf-8")), encoding="utf-8")
    if yaml.safe_load(config.read_text(encoding="utf-8"))["report"]["sample_faces"] is not False:
        raise SystemExit(f"error: {run}/config.yaml: report.sample_faces could not be turned off")
    build_report(copy)
    return copy


def make_example(run: Path, dest: Path, replace: dict[str, str] | None = None) -> Path:
    """Write the face-free example of ``run`` to ``dest`` (replacing it); return ``dest``."""
    run = run.resolve()
    seeds = seed_folders(run)
    main = seeds[0] if seeds else run
    if not (main / "metrics.json").exists():
        raise SystemExit(f"error: {main} is not a finished run (no metrics.json)")
    paths = local_paths(yaml.safe_load((main / "config.yaml").read_text(encoding="utf-8")), replace or {})
    top = "/" + run.parts[1] + "/"  # no file may still name a path on this machine
    with tempfile.TemporaryDirectory() as scratch:
        copy = rebuilt_without_faces(main, Path(scratch))
        staged = Path(scratch) / "example"
        staged.mkdir()
        for path in copy.iterdir():
            if not LEFT_OUT.match(path.name) and path.is_file():
                shutil.copy2(path, staged / path.name)
        for seed in seeds[1:]:
            shutil.copy2(seed / "metrics.json", staged / f"metrics_{seed.name}.json")
        for name in ("seeds_summary.csv", "seeds_summary.md"):
            if (run / name).exists():
                shutil.copy2(run / name, staged / name)
        for path in staged.iterdir():
            if path.suffix in (".png", ".npz"):
                continue
            text = path.read_bytes().decode()  # bytes: CSV line endings stay as written
            for old, new in paths.items():
                text = text.replace(old, new)
            if top in text:
                line = next(line for line in text.splitlines() if top in line)
                raise SystemExit(f"error: {path.name} still names a local path ({line.strip()[:120]}): "
                                 f"add --replace {top}...=path/to/NAME")
            path.write_bytes(text.encode())
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staged, dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.face_free_example", description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished run folder, or a --seeds run's folder")
    parser.add_argument("dest", type=Path, help="the example folder to write, e.g. reports/examples/NAME")
    parser.add_argument("--replace", action="append", default=[], metavar="OLD=NEW",
                        help="also write NEW for the local path OLD (repeatable)")
    args = parser.parse_args(argv)
    bad = [item for item in args.replace if "=" not in item]
    if bad:
        parser.error(f"--replace takes OLD=NEW, got {bad[0]!r}")
    dest = make_example(args.run, args.dest, dict(item.split("=", 1) for item in args.replace))
    print(f"example: {dest} ({len(list(dest.iterdir()))} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
