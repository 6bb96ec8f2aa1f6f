"""Run directory → metrics, figures, ``report.md`` and a self-contained ``report.html``.

Everything is rebuilt from the files a run leaves (``config.yaml``, ``predictions_fold*.csv``,
``history_*.csv``, ``data_counts.csv``, ``split_protocol.json``, ``samples.npz``), so
``python -m fer_keras.report RUN_DIR`` works on a finished run, a resumed one, or on the
folds that have finished so far.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fer_keras.config import load_run_config
from fer_keras.errors import ReportError
from fer_keras.evaluation import metrics
from fer_keras.evaluation.predictions import NAME_FIELDS, with_name_fields
from fer_keras.labels import classes_of, probability_columns
from fer_keras.reports.notes import note_lines
from fer_keras.reports import plots
from fer_keras.reports.document import Document
from fer_keras.reports.names import SEPARATOR, display_name, displayed
from fer_keras.rundir import RunDir


#: Columns every ``predictions_fold*.csv`` has (with one ``prob_<class>`` per class); the other
#: name fields (``variant``, ``method``, ``model``) read as empty where a table lacks them.
PREDICTION_COLUMNS = ("test_set", "fold", "key", "true", "predicted", "correct")


def gather_predictions(run_dir: Path | RunDir) -> pd.DataFrame:
    """All finished folds' predictions, with every name field, written to ``predictions.csv``."""
    run = RunDir.of(run_dir)
    parts = run.fold_predictions()
    if not parts:
        raise ReportError(f"{run.path}: no finished fold (no predictions_fold*.csv) to report")
    tables = []
    for part in parts:
        try:
            table = pd.read_csv(part)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as error:
            raise ReportError(f"{part}: not a predictions table ({type(error).__name__})") from None
        missing = [c for c in PREDICTION_COLUMNS if c not in table.columns]
        if missing or not probability_columns(table):
            raise ReportError(f"{part}: not a predictions table (no {', '.join(missing) or 'prob_<class>'} column); "
                              "was it written by fer_keras.train?")
        tables.append(with_name_fields(table))
    frame = pd.concat(tables, ignore_index=True)
    run.write_csv(run.all_predictions_path, frame)
    return frame


def results(frame: pd.DataFrame):
    """(display name, name fields, rows) of each result in ``frame``, in order of first appearance."""
    frame = with_name_fields(frame)
    for fields, rows in frame.groupby(list(NAME_FIELDS), sort=False):
        yield display_name(*fields), dict(zip(NAME_FIELDS, fields)), rows


def compute_metrics(frame: pd.DataFrame, classes: list[str]) -> dict:
    """Per result (keyed by display name): its name fields, pooled summary, per-fold accuracies and their mean ± SD."""
    result = {}
    for name, fields, rows in results(frame):
        folds = rows.groupby("fold")["correct"].mean()
        result[name] = {
            **fields,
            **metrics.summary(rows, classes),
            "fold_accuracy": {int(k): float(v) for k, v in folds.items()},
            "fold_mean_sd": metrics.mean_sd(folds.to_numpy()),
        }
    return result


def with_scratch_names(config, measured: dict) -> dict:
    """``measured``, plus each plain test set under the name ``"<set> · scratch"`` when the run started
    from random weights (no transfer, no starting model or weights file): ``--set transfer=null`` on a
    transfer config trains only the paper's scratch column, and this lets the report compare it."""
    if config.transfer is not None or config.model.weights or config.model.init_from:
        return measured
    plain = {name: stats for name, stats in measured.items() if SEPARATOR not in name}
    return {**measured, **{display_name(name, variant="scratch"): stats for name, stats in plain.items()}}


def paper_comparison(paper: dict, measured: dict) -> pd.DataFrame:
    """Rows of (what, paper %, measured %) for every number the config's ``paper`` block gives.

    ``paper.accuracy`` is a number (the main test set) or a mapping test set → number;
    ``paper.accuracy_sd`` likewise; ``paper.per_class_accuracy`` maps class → number.
    """
    first = next(iter(measured))
    rows = []

    def add(what: str, paper_value, test_set: str, key: str, sd_paper=None):
        if test_set not in measured:
            return
        stats = measured[test_set]
        value = stats["fold_mean_sd"] if key == "accuracy" else None
        if key == "accuracy":
            text = f"{100 * value['mean']:.2f}" + (f" ± {100 * value['sd']:.2f}" if value["n"] > 1 else "")
            delta = 100 * value["mean"] - float(paper_value)
        else:
            measured_value = 100 * stats["per_class_accuracy"].get(key, float("nan"))
            text, delta = f"{measured_value:.2f}", measured_value - float(paper_value)
        paper_text = f"{float(paper_value):.2f}" + (f" ± {float(sd_paper):.2f}" if sd_paper is not None else "")
        rows.append({"what": what, "paper (%)": paper_text, "measured (%)": text, "difference": f"{delta:+.2f}"})

    accuracy = paper.get("accuracy")
    sds = paper.get("accuracy_sd")
    if isinstance(accuracy, dict):
        for test_set, value in accuracy.items():
            sd = sds.get(test_set) if isinstance(sds, dict) else None
            add(f"accuracy on {test_set}", value, test_set, "accuracy", sd)
    elif accuracy is not None:
        add(f"accuracy on {first}", accuracy, first, "accuracy", sds if not isinstance(sds, dict) else None)
    for name, value in (paper.get("per_class_accuracy") or {}).items():
        add(f"{name} accuracy", value, first, name)
    if paper.get("accuracy_range"):
        low, high = (float(v) for v in paper["accuracy_range"])
        mean = 100 * measured[first]["fold_mean_sd"]["mean"]
        where = "inside" if low <= mean <= high else ("below" if mean < low else "above")
        rows.append({"what": f"accuracy on {first}", "paper (%)": f"{low:.2f}–{high:.2f} (range)",
                     "measured (%)": f"{mean:.2f}", "difference": where})
    return pd.DataFrame(rows, columns=["what", "paper (%)", "measured (%)", "difference"])


def unmatched_paper_numbers(paper: dict, measured: dict) -> list[str]:
    """The paper's accuracy keys that name a test set this run did not produce (said in the report, never silent)."""
    accuracy = paper.get("accuracy")
    if isinstance(accuracy, dict):
        return [name for name in accuracy if name not in measured]
    return []


#: The one line a report shows where figures of dataset faces were left out (``report.sample_faces: false``).
SAMPLE_FACES_LEFT_OUT = ("Figures made of dataset faces are left out of this report (report.sample_faces: false): "
                         "the dataset's licence forbids redistributing its images.")


def _read_tables(paths: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """The CSV tables by name, leaving out empty ones (a file opened but never written to)."""
    tables = {name: pd.read_csv(path) for name, path in paths.items() if path.stat().st_size}
    return {name: table for name, table in tables.items() if len(table)}


def read_histories(run: RunDir) -> dict[str, pd.DataFrame]:
    """Each trained model's history table by name, leaving out empty ones (a run stopped in its first epoch)."""
    return _read_tables(run.histories())


def read_epoch_times(run: RunDir) -> dict[str, pd.DataFrame]:
    """Each trained model's epoch times by name (``fold0``, ``fold0_scratch``…), one row per epoch."""
    return {name: table.drop_duplicates("epoch", keep="last")
            for name, table in _read_tables(run.epoch_time_tables()).items()}


def duration_text(seconds: float) -> str:
    """``2.35 h``, ``12.4 min`` or ``48 s``."""
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def compute_text(run: RunDir, histories: dict[str, pd.DataFrame]) -> list[str]:
    """What the run trained on (``environment.json``) and how long its epochs took (``epoch_times_*``)."""
    lines = []
    if run.environment_path.exists():
        sessions = run.read_json(run.environment_path)
        machines = []
        for session in sessions:
            gpus = ", ".join(session["gpus"]) or "no GPU"
            precision = f", {session['precision']}" if session.get("precision") else ""
            described = (f"{session['cpu']}, {session['cpu_cores']} CPU cores, {gpus}{precision}; "
                         f"TensorFlow {session['tensorflow']}, Keras {session['keras']}")
            if described not in machines:
                machines.append(described)
        count = count_text(len(sessions), "session")
        lines.append(f"Ran on {'; then on '.join(machines)} ({count} recorded).")
    times = read_epoch_times(run)
    if times:
        seconds = pd.concat([table["seconds"] for table in times.values()])
        timed, ran = len(seconds), sum(len(table) for table in histories.values())
        text = (f"Training time: {duration_text(seconds.sum())} over {count_text(timed, 'epoch')} "
                f"(median {seconds.median():.0f} s per epoch; wall clock, so pauses count)")
        if timed < ran:
            text += f"; recorded for {timed} of the {ran} epochs run (the others ran before times were recorded)"
        lines.append(text + ".")
    return lines


def count_text(count: int, noun: str) -> str:
    """``1 epoch``, ``2 epochs``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def epochs_text(config, histories: list[pd.DataFrame]) -> str:
    """The epochs as run: the configured number, how many the histories hold when that differs (early
    stopping, a run finished early), and the epoch whose weights were kept when there is one history."""
    configured = config.training.epochs
    if not histories:
        return count_text(configured, "epoch")
    counts = sorted({len(history) for history in histories})
    ran = str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    text = (count_text(configured, "epoch") if counts == [configured]
            else f"{count_text(configured, 'epoch')} configured, {ran} run")
    monitor = config.training.monitor
    column = next((c for c in (monitor, monitor.removeprefix("val_")) if c in histories[0]), None)
    if len(histories) == 1 and config.training.checkpoint_best and column is not None:
        values = pd.to_numeric(histories[0][column], errors="coerce")
        if values.notna().any():
            best = int(values.idxmin() if "loss" in column else values.idxmax())
            text += f" (weights kept from epoch {best + 1}, best {column})"
    return text


def build_report(run_dir: str | Path | RunDir) -> Path:
    """Write metrics.json, figures, report.md and report.html into ``run_dir``; returns report.md."""
    run = RunDir.of(run_dir)
    if not run.config_path.exists():
        raise ReportError(f"{run.path} is not a fer_keras run directory (no config.yaml)")
    config = load_run_config(run.config_path)
    frame = gather_predictions(run)
    classes = classes_of(frame)
    measured = compute_metrics(frame, classes)
    run.write_json(run.metrics_path, {"classes": classes, "test_sets": measured})
    histories = read_histories(run)

    doc = Document()
    doc.heading(f"{config.experiment}", 1)
    if config.description:
        doc.text(config.description)
    if config.ensemble is not None:  # its model, epochs and optimiser settings are the members', not the config's
        doc.text(f"Ensemble of {len(config.ensemble.members)} finished runs: their class probabilities averaged "
                 f"sample by sample, {len(classes)} classes; nothing trained here (each member is described in the notes).")
    else:
        doc.text(f"Model `{config.model.name}` on `{config.data.dataset}`, {len(classes)} classes, "
                 f"{epochs_text(config, list(histories.values()))}, {config.training.optimizer} lr "
                 f"{config.training.learning_rate}, batch {config.training.batch_size}. "
                 f"Folds finished: {frame['fold'].nunique()}.")
    _results(doc, measured)
    notes = note_lines(run)
    if notes:
        doc.heading("Notes")
        for line in notes:
            doc.text(line)
    answered = with_scratch_names(config, measured)
    comparison = paper_comparison(config.report.paper, answered) if config.report.paper else None
    if comparison is not None:
        doc.heading("Paper vs measured")
        if "source" in config.report.paper:
            doc.text(f"Paper: {config.report.paper['source']}")
        if len(comparison):
            doc.table(comparison)
        missing = unmatched_paper_numbers(config.report.paper, answered)
        if missing or not len(comparison):
            doc.text(f"No measured counterpart here for the paper's {', '.join(missing) or 'numbers'} "
                     f"(this run's test sets: {', '.join(measured)}); that comparison is not shown.")
    _protocol(doc, run)
    compute = compute_text(run, histories)
    if compute:
        doc.heading("Compute")
        doc.text(" ".join(compute))
    if run.baselines_path.exists():
        doc.heading("Classical baselines")
        doc.text("scikit-learn classifiers on the same folds (accuracy mean ± SD over folds, %; seconds per fold).")
        doc.table(pd.read_csv(run.baselines_path)[["feature", "classifier", "folds", "accuracy", "feature_seconds", "fit_seconds"]])
    _figures(doc, run, frame, classes, measured, histories, config.report.sample_faces)
    _gradcam(doc, run, config)
    _data_tables(doc, run)

    run.write_text(run.report_markdown_path, doc.markdown())
    if config.report.html:
        run.write_text(run.report_html_path, doc.html(config.experiment))
    return run.report_markdown_path


def _results(doc: Document, measured: dict) -> None:
    rows = []
    for test_set, stats in measured.items():
        spread = stats["fold_mean_sd"]
        rows.append({
            "test set": test_set,
            "images": stats["n"],
            "accuracy (%)": f"{100 * stats['accuracy']:.2f}",
            "95% CI (%)": "{:.1f}–{:.1f}".format(*(100 * v for v in stats["accuracy_ci95"])),
            "fold mean ± SD (%)": f"{100 * spread['mean']:.2f} ± {100 * spread['sd']:.2f} (n={spread['n']})",
            "macro-F1": f"{stats['macro_f1']:.3f}",
        })
    doc.heading("Results")
    doc.table(pd.DataFrame(rows))


def _images_in_first_fold(run: RunDir) -> int | None:
    """Images in fold 0's train, val and test parts (``split_counts.csv``), or None without it."""
    if not run.split_counts_path.exists():
        return None
    counts = pd.read_csv(run.split_counts_path)
    first = counts[counts["fold"] == counts["fold"].iloc[0]]
    return int(first.drop(columns=["fold", "label"]).to_numpy().sum())


def _protocol(doc: Document, run: RunDir) -> None:
    if not run.split_protocol_path.exists():
        return
    protocol = run.read_json(run.split_protocol_path)
    shared = protocol.get("subjects_shared_between_parts_fold0", {})
    images = _images_in_first_fold(run)
    if images == protocol["subjects"]:
        who = f"{images} images without subject ids (each image counts as its own subject), "
    else:
        who = f"{protocol['subjects']} subjects, "
    words = (f"Split: {protocol['kind']}, {protocol['folds']} fold(s), {who}"
             + ("subject-independent (no person appears in two parts)." if protocol["subject_independent"] else
                "not subject-independent."))
    if protocol.get("protocol") == "augment_then_split":
        words += (" Augmented copies were made before splitting: copies of one photo are in train and test "
                  "(leaky protocol, kept to reproduce the paper).")
    if shared:
        words += (" Leakage warning: the same people appear in more than one part ("
                  + ", ".join(f"{k}: {v} subjects" for k, v in shared.items())
                  + "), so test accuracy overstates accuracy on unseen people.")
    doc.heading("Protocol")
    doc.text(words)


def _figures(doc: Document, run: RunDir, frame: pd.DataFrame, classes: list[str], measured: dict,
             histories: dict[str, pd.DataFrame], sample_faces: bool = True) -> None:
    doc.heading("Confusion matrices")
    for test_set, _, rows in results(frame):
        suffix = "" if len(measured) == 1 else "_" + _slug(test_set)
        raw = metrics.confusion(rows, classes)
        normalised = metrics.confusion(rows, classes, normalize=True)
        run.write_csv(run.confusion_matrix_path(suffix), raw, index=True)
        doc.image(plots.confusion_pair(raw, normalised, run.confusion_matrix_path(suffix, "png"), test_set),
                  f"confusion matrix, {test_set}")
        per_class = metrics.per_class_accuracy(rows, classes)
        run.write_csv(run.per_class_accuracy_path(suffix), per_class)
        doc.image(plots.per_class_bars(per_class, run.per_class_accuracy_path(suffix, "png"), test_set),
                  f"single-class accuracy, {test_set}")
        doc.table(pd.DataFrame({
            "class": per_class["class"],
            "accuracy (%)": (per_class["accuracy"] * 100).round(2),
            "95% CI (%)": [f"{100 * lo:.1f}–{100 * hi:.1f}" for lo, hi in zip(per_class["ci_low"], per_class["ci_high"])],
            "test images": per_class["support"],
        }))
        few = per_class.loc[per_class["support"] < metrics.FEW_IMAGES, "class"].tolist()
        if few:
            doc.text(f"Warning: {', '.join(few)} ha{'s' if len(few) == 1 else 've'} fewer than {metrics.FEW_IMAGES} "
                     "test images; their accuracy is too uncertain to quote without the interval.")
    if histories:
        doc.heading("Learning curves")
        doc.image(plots.learning_curves(histories, run.learning_curves_path), "learning curves")
    folds = metrics.fold_accuracies(displayed(frame))
    if folds["fold"].nunique() > 1:
        doc.heading("Fold accuracies")
        doc.image(plots.folds_boxplot(folds, run.folds_boxplot_path), "fold accuracy boxplot (whiskers 1.5 IQR)")
    if run.samples_path.exists() and not sample_faces:
        doc.heading("Emotion analysis")
        doc.text(SAMPLE_FACES_LEFT_OUT)
    elif run.samples_path.exists():
        stored = np.load(run.samples_path, allow_pickle=False)
        _, _, first_set = next(results(frame))
        first_set = first_set.drop_duplicates("key")
        chosen = first_set.set_index("key").reindex(stored["keys"]).dropna(subset=["predicted"]).reset_index()
        if len(chosen):
            images = [stored["images"][list(stored["keys"]).index(k)] for k in chosen["key"]]
            doc.heading("Emotion analysis")
            doc.image(plots.probability_bars(images, chosen, classes, run.emotion_analysis_path),
                      "sample test images with predicted probabilities (green: predicted class)")


def _gradcam(doc: Document, run: RunDir, config) -> None:
    saved = run.gradcam_maps()
    if not saved:
        return
    from fer_keras.reports.explain_run import comparisons, load_maps, slug

    doc.heading("Grad-CAM")
    if not config.report.sample_faces:
        doc.text(SAMPLE_FACES_LEFT_OUT)
    doc.text(f"{config.report.gradcam.method} on the true class of up to {config.report.gradcam.max_images} images per "
             "set (fold 0), averaged per class; masks keep pixels at or above "
             f"{config.report.gradcam.threshold:.0%} of a map's maximum.")
    for path in saved if config.report.sample_faces else ():
        name = display_name(**load_maps(path)[0])
        doc.image(run.gradcam_path(slug(name), "png"), f"mean Grad-CAM per class, {name}")
    table = comparisons(run.path, config.report.gradcam, config.report.gradcam.compare_runs)
    if len(table):
        run.write_csv(run.gradcam_comparison_path, table)
        doc.table(table)
    for other in config.report.gradcam.compare_runs:
        if not RunDir(other).gradcam_maps():
            doc.text(f"No comparison with {other}: it holds no Grad-CAM maps (gradcam_*.npz); "
                     "is it a finished run with report.gradcam.enabled?")


def _data_tables(doc: Document, run: RunDir) -> None:
    if run.data_counts_path.exists():
        doc.heading("Data")
        doc.table(pd.read_csv(run.data_counts_path))
    if run.train_extra_counts_path.exists():
        doc.text("Extra training sets (train part of every fold only; never validation or test):")
        doc.table(pd.read_csv(run.train_extra_counts_path))
    if run.excluded_path.exists() and run.excluded_path.stat().st_size:
        frame = pd.read_csv(run.excluded_path)
        if len(frame):
            doc.text(f"{len(frame)} file(s) excluded; reasons:")
            doc.table(frame.groupby("reason").size().rename("files").reset_index())


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text).strip("_").lower()
