"""fer_keras/reports/notes.py: a run's notes as records, their sentences, older runs' notes.txt."""

from __future__ import annotations

import json

import pytest

from fer_keras.reports.notes import SENTENCES, add_note, note_lines, note_records, note_text
from fer_keras.rundir import RunDir

#: A record of every kind, and the sentence the report shows for it.
EXAMPLES = [
    ({"kind": "stream_resumed", "fold": 0, "variant": "scratch", "done": 30, "seed": 7},
     "Fold 0 (scratch) resumed after 30 finished epoch(s): its next epochs' batch order, augmentations and dropout "
     "were drawn from seed 7, so they do not replay its first epochs (an uninterrupted run draws them on from the "
     "run's seed: the two differ as two seeds do)."),
    ({"kind": "epochs_changed", "before": 10, "after": 20, "done": 10},
     "training.epochs changed from 10 to 20 when this run resumed after 10 finished epoch(s); those epochs keep the "
     "schedule they ran with, and a cosine learning-rate schedule continues from there as one over the new total."),
    ({"kind": "augment_then_split", "images": 213, "copies": 2130},
     "Protocol augment_then_split: 213 images became 2130 augmented copies before splitting, so copies of one photo "
     "sit in both train and test (leaky, as in the MobileNetV2 paper); accuracy overstates performance on new photos."),
    ({"kind": "head_rebuilt", "start": "src", "classes": ["a", "b"], "own": ["x", "y", "z"], "trained": "head"},
     "Started from src: its classifier head was rebuilt for 2 classes (a, b) (it was trained on x, y, z); the other "
     "layers start from their trained weights; only the head is trained."),
    ({"kind": "classes_unknown", "start": "m.keras", "classes": ["a", "b"], "own": None, "trained": "full"},
     "Started from m.keras, whose class names are unknown (no metrics.json beside it): its head was kept because it "
     "has 2 outputs, assumed to be a, b in that order; all layers fine-tuned."),
    ({"kind": "same_classes", "start": "src", "classes": ["a", "b"], "own": ["a", "b"], "trained": "full"},
     "Started from src (same classes, same order); all layers fine-tuned."),
    ({"kind": "starting_model", "origin": "custom_cnn2 on fer2013"},
     "The starting model, as it was when this run began: custom_cnn2 on fer2013."),
    ({"kind": "ensemble_member", "path": "runs/m1", "origin": None}, "Member runs/m1: no fer_keras config beside it."),
    ({"kind": "text", "text": "an older run's line"}, "an older run's line"),
]


def test_every_kind_has_its_sentence():
    assert {record["kind"] for record, _ in EXAMPLES} == set(SENTENCES)
    for record, sentence in EXAMPLES:
        assert note_text(record) == sentence


def test_records_are_kept_once_with_their_sentences_beside_them(tmp_path):
    run = RunDir(tmp_path)
    assert note_lines(run) == [] and note_records(run) == []
    add_note(run, "augment_then_split", images=3, copies=30)
    add_note(run, "starting_model", origin="o")
    add_note(run, "augment_then_split", images=3, copies=30)
    assert [r["kind"] for r in note_records(run)] == ["augment_then_split", "starting_model"]
    assert json.loads(run.note_records_path.read_text().splitlines()[1]) == {"kind": "starting_model", "origin": "o"}
    assert run.notes_path.read_text().splitlines() == note_lines(run)
    assert note_lines(run)[1] == "The starting model, as it was when this run began: o."


def test_an_older_runs_notes_are_shown_and_kept_when_it_resumes(tmp_path):
    run = RunDir(tmp_path)
    run.write_text(run.notes_path, "written before the records\n")
    assert note_lines(run) == ["written before the records"]
    add_note(run, "epochs_changed", before=5, after=6, done=5)
    assert note_lines(run)[0] == "written before the records" and note_lines(run)[1].startswith("training.epochs")


def test_a_bad_record_fails_before_anything_is_written(tmp_path):
    run = RunDir(tmp_path)
    with pytest.raises(KeyError):
        add_note(run, "no_such_kind")
    with pytest.raises(KeyError):
        add_note(run, "starting_model")  # its origin is missing
    assert not run.notes_path.exists() and not run.note_records_path.exists()
