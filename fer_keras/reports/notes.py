"""A run's notes: records written while it runs (``notes.jsonl``), and the sentences its report shows for them.

Training says *what happened* as a record (:func:`add_note`: a ``kind`` and its fields, JSON); the
words are chosen here (:func:`note_text`), so they live with the rest of the report's prose and a
tool can read the records without parsing sentences. ``notes.txt`` beside them holds the sentences,
rewritten with every new record; a run folder from before the records has only that file, and its
lines are shown as they are.
"""

from __future__ import annotations

import json

from fer_keras.rundir import RunDir

#: How the model a run starts from is trained (``model.init_fine_tune``).
TRAINED = {"head": "only the head is trained", "full": "all layers fine-tuned"}


def _started_from(record: dict) -> str:
    trained = TRAINED.get(record["trained"], record["trained"])
    classes = ", ".join(record["classes"])
    if record["kind"] == "head_rebuilt":
        was = f" (it was trained on {', '.join(record['own'])})" if record.get("own") else ""
        return (f"Started from {record['start']}: its classifier head was rebuilt for {len(record['classes'])} "
                f"classes ({classes}){was}; the other layers start from their trained weights; {trained}.")
    if record["kind"] == "classes_unknown":
        return (f"Started from {record['start']}, whose class names are unknown (no metrics.json beside it): its "
                f"head was kept because it has {len(record['classes'])} outputs, assumed to be {classes} in that "
                f"order; {trained}.")
    return f"Started from {record['start']} (same classes, same order); {trained}."


#: One sentence per kind of record.
SENTENCES = {
    "stream_resumed": lambda r: (
        f"Fold {r['fold']}{' (' + r['variant'] + ')' if r.get('variant') else ''} resumed after {r['done']} "
        f"finished epoch(s): its next epochs' batch order, augmentations and dropout were drawn from seed "
        f"{r['seed']}, so they do not replay its first epochs (an uninterrupted run draws them on from the "
        "run's seed: the two differ as two seeds do)."),
    "epochs_changed": lambda r: (
        f"training.epochs changed from {r['before']} to {r['after']} when this run resumed after {r['done']} "
        "finished epoch(s); those epochs keep the schedule they ran with, and a cosine learning-rate schedule "
        "continues from there as one over the new total."),
    "augment_then_split": lambda r: (
        f"Protocol augment_then_split: {r['images']} images became {r['copies']} augmented copies before "
        "splitting, so copies of one photo sit in both train and test (leaky, as in the MobileNetV2 paper); "
        "accuracy overstates performance on new photos."),
    "head_rebuilt": _started_from,
    "classes_unknown": _started_from,
    "same_classes": _started_from,
    "starting_model": lambda r: f"The starting model, as it was when this run began: {r['origin']}.",
    "ensemble_member": lambda r: f"Member {r['path']}: {r['origin'] or 'no fer_keras config beside it'}.",
    "text": lambda r: r["text"],  # a line of notes.txt written before the records (a resumed older run)
}


def note_text(record: dict) -> str:
    """The sentence the report shows for ``record``."""
    return SENTENCES[record["kind"]](record)


def note_records(run: RunDir) -> list[dict]:
    """The run's note records, oldest first (none for a run folder from before them)."""
    path = run.note_records_path
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def add_note(run: RunDir, kind: str, **fields) -> None:
    """Record ``kind`` with ``fields`` in the run's notes, once; ``notes.txt`` is rewritten with its sentence."""
    record = {"kind": kind, **fields}
    note_text(record)  # an unknown kind or a missing field fails here, before anything is written
    records = note_records(run) or [{"kind": "text", "text": line} for line in note_lines(run)]
    if record in records:
        return
    records.append(record)
    run.write_text(run.note_records_path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    run.write_text(run.notes_path, "".join(note_text(r) + "\n" for r in records))


def note_lines(run: RunDir) -> list[str]:
    """The sentences of the run's notes: its records', else (an older run) the lines of ``notes.txt``."""
    records = note_records(run)
    if records:
        return [note_text(record) for record in records]
    return run.notes_path.read_text(encoding="utf-8").splitlines() if run.notes_path.exists() else []
