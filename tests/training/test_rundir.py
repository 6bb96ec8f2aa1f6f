"""Run directories: resuming compares configs through today's schema."""


def test_a_key_added_since_the_run_started_is_not_a_difference():
    import yaml

    from fer_keras.config import load_config
    from fer_keras.training.rundir import config_differences

    current = load_config("quickstart.yaml").to_yaml()
    saved = yaml.safe_load(current)
    del saved["training"]["label_smoothing"]  # as a run started before the key existed saved it
    assert config_differences(yaml.safe_dump(saved), current) == []
    saved["training"]["learning_rate"] = 0.5
    assert config_differences(yaml.safe_dump(saved), current) == ["training.learning_rate"]


def test_a_resumed_run_may_change_its_epochs_and_the_notes_say_so(tmp_path):
    import yaml

    from fer_keras.config import load_config
    from fer_keras.training.rundir import RunDirError, open_run, write_status

    config = load_config("quickstart.yaml")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(config.to_yaml())
    (run / "history_fold0.csv").write_text("epoch,loss\n0,1.9\n1,1.7\n2,1.5\n")
    write_status(run, "failed", "stopped")
    shorter = load_config("quickstart.yaml", ["training.epochs=14"]).to_yaml()
    with open_run(shorter, run, tmp_path, "quickstart") as opened:
        assert yaml.safe_load((opened / "config.yaml").read_text())["training"]["epochs"] == 14
    note = (run / "notes.txt").read_text()
    assert f"training.epochs changed from {config.training.epochs} to 14" in note and "after 3 finished" in note
    other = load_config("quickstart.yaml", ["training.epochs=14", "seed=3"]).to_yaml()
    try:
        with open_run(other, run, tmp_path, "quickstart"):
            raise AssertionError("a changed seed must not resume")
    except RunDirError as error:
        assert "seed differ" in str(error)
