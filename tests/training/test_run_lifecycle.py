"""fer_keras/training/run_lifecycle.py: one training at a time, status, and the resume check."""

from fer_keras.training.run_lifecycle import check_resume, is_locked, open_run, read_status, write_status


def test_a_key_added_since_the_run_started_is_not_a_difference():
    import yaml

    from fer_keras.config import load_config
    from fer_keras.training.run_lifecycle import config_differences

    current = load_config("quickstart.yaml").to_yaml()
    saved = yaml.safe_load(current)
    del saved["training"]["label_smoothing"]  # as a run started before the key existed saved it
    assert config_differences(yaml.safe_dump(saved), current) == []
    saved["training"]["learning_rate"] = 0.5
    assert config_differences(yaml.safe_dump(saved), current) == ["training.learning_rate"]


def test_a_resumed_run_may_change_its_epochs_and_the_notes_say_so(tmp_path):
    import yaml

    from fer_keras.config import load_config
    from fer_keras.errors import RunDirError
    from fer_keras.rundir import RunDir

    config = load_config("quickstart.yaml")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(config.to_yaml())
    (run / "history_fold0.csv").write_text("epoch,loss\n0,1.9\n1,1.7\n2,1.5\n")
    write_status(RunDir(run), "failed", "stopped")
    shorter = load_config("quickstart.yaml", ["training.epochs=14"]).to_yaml()
    with open_run(shorter, run, tmp_path, "quickstart") as opened:
        assert yaml.safe_load((opened.path / "config.yaml").read_text())["training"]["epochs"] == 14
    note = (run / "notes.txt").read_text()
    assert f"training.epochs changed from {config.training.epochs} to 14" in note and "after 3 finished" in note
    other = load_config("quickstart.yaml", ["training.epochs=14", "seed=3"]).to_yaml()
    try:
        with open_run(other, run, tmp_path, "quickstart"):
            raise AssertionError("a changed seed must not resume")
    except RunDirError as error:
        assert "seed differ" in str(error)


def test_run_dir_status_lock_and_resume_check(tmp_path):
    import pytest

    from fer_keras.config import load_config
    from fer_keras.errors import RunDirError
    from fer_keras.rundir import RunDir

    config = load_config("quickstart.yaml").to_yaml()
    assert read_status(RunDir(tmp_path / "none")) == {}
    with open_run(config, tmp_path / "run", tmp_path, "quickstart") as run:
        assert isinstance(run, RunDir) and run.path == tmp_path / "run"
        assert run.config_path.read_text() == config and read_status(run)["state"] == "running"
        assert is_locked(run)
        with pytest.raises(RunDirError) as refused:  # a second training on the same folder: one line
            with open_run(config, run.path, tmp_path, "quickstart"):
                pass
        assert str(refused.value) == (f"{run.path} is in use by another training; wait for it to finish, "
                                      "or give this one another --out")
        with open_run(config, run.path, tmp_path, "quickstart", fold=1) as job:  # a --fold job locks its own
            assert job.path == run.path
        assert read_status(run)["state"] == "finished fold1"
    assert read_status(run)["state"] == "finished" and not is_locked(run)

    check_resume(run, config)
    other = load_config("quickstart.yaml", ["seed=3", "training.learning_rate=0.5"]).to_yaml()
    with pytest.raises(RunDirError, match=r"started with another config \(seed, training.learning_rate differ\)"):
        check_resume(run, other)
    with pytest.raises(RunDirError):
        with open_run(other, run.path, tmp_path, "quickstart"):
            pass
    assert run.config_path.read_text() == config  # the saved config still describes the run

    with pytest.raises(RuntimeError):
        with open_run(config, run.path, tmp_path, "quickstart") as resumed:
            raise RuntimeError("boom\nmore")
    assert read_status(resumed)["state"] == "failed" and read_status(resumed)["reason"] == "boom"
    with pytest.raises(RuntimeError):
        with open_run(config, tmp_path / "fresh" / "run", tmp_path, "quickstart"):
            raise RuntimeError("boom")
    assert not (tmp_path / "fresh").exists()  # a fresh run that trained nothing leaves nothing
