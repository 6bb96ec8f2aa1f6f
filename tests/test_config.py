"""fer_keras/config.py: loading, packaged names, overrides, one-line errors."""

import pytest

from fer_keras.errors import ConfigError
from fer_keras.config import ExperimentConfig, load_config, packaged_configs


def test_packaged_quickstart_resolves_by_bare_name():
    config = load_config("quickstart.yaml")
    assert config.experiment == "quickstart"
    assert config.data.dataset == "synthetic"
    assert "quickstart.yaml" in packaged_configs()


def test_every_packaged_config_validates():
    for name in packaged_configs():
        assert isinstance(load_config(name), ExperimentConfig), name


def test_overrides_are_parsed_as_yaml():
    config = load_config("quickstart.yaml", ["training.epochs=3", "data.image_size=[64, 64]", "model.options.dropout=0.3"])
    assert config.training.epochs == 3
    assert config.data.image_size == (64, 64)
    assert config.model.options == {"dropout": 0.3}


def test_unknown_key_names_key_and_allowed_keys():
    with pytest.raises(ConfigError) as error:
        load_config("quickstart.yaml", ["training.epoch=3"])
    message = str(error.value)
    assert "\n" not in message
    assert "training.epoch" in message and "epochs" in message and "batch_size" in message


def test_wrong_type_names_key():
    with pytest.raises(ConfigError) as error:
        load_config("quickstart.yaml", ["training.batch_size=many"])
    message = str(error.value)
    assert "\n" not in message and "training.batch_size" in message and "'many'" in message


def test_out_of_range_and_bad_choice():
    with pytest.raises(ConfigError, match="training.learning_rate"):
        load_config({"training": {"learning_rate": -1}})
    with pytest.raises(ConfigError, match="training.optimizer"):
        load_config({"training": {"optimizer": "adagrad"}})


def test_unknown_top_level_section():
    with pytest.raises(ConfigError, match="unknown key 'trainning'.*training"):
        load_config({"trainning": {}})


def test_missing_config_lists_packaged(tmp_path):
    with pytest.raises(ConfigError, match="quickstart.yaml"):
        load_config("no_such_config.yaml")


def test_bad_yaml_is_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("training: {epochs: 3\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "not valid YAML" in str(error.value) and "\n" not in str(error.value)


def test_override_must_have_equals():
    with pytest.raises(ConfigError, match="section.key=value"):
        load_config("quickstart.yaml", ["training.epochs"])


def test_resolved_config_round_trips_through_yaml(tmp_path):
    config = load_config("quickstart.yaml", ["training.epochs=2"])
    path = tmp_path / "config.yaml"
    path.write_text(config.to_yaml())
    assert load_config(path) == config


def test_extends_merges_sections(tmp_path):
    (tmp_path / "base.yaml").write_text("experiment: base\ntraining: {epochs: 7, batch_size: 8}\n")
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nexperiment: child\ntraining: {epochs: 2}\n")
    config = load_config(tmp_path / "child.yaml")
    assert (config.experiment, config.training.epochs, config.training.batch_size) == ("child", 2, 8)
    packaged = load_config({"extends": "quickstart.yaml", "training": {"epochs": 1}})
    assert packaged.data.dataset == "synthetic" and packaged.training.epochs == 1


def test_extends_loop_is_caught(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ConfigError, match="loop"):
        load_config(tmp_path / "a.yaml")


def test_override_reaches_list_items_by_index():
    config = load_config("synthetic_cross_dataset.yaml", ["test_datasets.0.root=/data/x", "test_datasets.0.name=renamed"])
    assert config.test_datasets[0].root == "/data/x" and config.test_datasets[0].name == "renamed"
    with pytest.raises(ConfigError, match=r"test_datasets is a list of \d+; use an index 0\.\."):
        load_config("synthetic_cross_dataset.yaml", ["test_datasets.9.root=/data/x"])


def test_a_partial_source_split_keeps_the_official_default():
    """transfer.source_split left out or given in part: kind official either way (it was holdout when given in part)."""
    from fer_keras.config import load_config

    left_out = load_config("jaffe_model2_transfer.yaml")
    partial = load_config("jaffe_model2_transfer.yaml", ["transfer.source_split={val_fraction: 0.2}"])
    assert left_out.transfer.source_split.kind == "official"
    assert partial.transfer.source_split.kind == "official" and partial.transfer.source_split.val_fraction == 0.2
    assert load_config("jaffe_model2_transfer.yaml", ["transfer.source_split.kind=holdout"]).transfer.source_split.kind \
        == "holdout"


def test_extra_training_sets_are_decoded_like_the_data_and_never_test():
    extra = {"dataset": "folder", "root": "/data/posed", "repeat": 3}
    config = load_config({"data": {"image_size": [40, 40]}, "train_extra": [extra]})
    assert config.train_extra[0].image_size == (40, 40) and config.train_extra[0].repeat == 3
    with pytest.raises(ConfigError, match="train_extra.0.image_size"):
        load_config({"train_extra": [{**extra, "image_size": [64, 64]}]})
    with pytest.raises(ConfigError, match=r"train_extra.0 \(folder at /data/posed\) is also test_datasets.0"):
        load_config({"train_extra": [extra], "test_datasets": [{"dataset": "folder", "root": "/data/posed"}]})
    with pytest.raises(ConfigError, match="augment_then_split"):
        load_config({"train_extra": [extra], "split": {"protocol": "augment_then_split"}})
    with pytest.raises(ConfigError, match="repeat"):
        load_config({"train_extra": [{**extra, "repeat": -1}]})
    left_out = {**extra, "repeat": 0}  # a leave-one-dataset-out twin may test on the set it leaves out
    load_config({"train_extra": [left_out], "test_datasets": [{"dataset": "folder", "root": "/data/posed"}]})


def test_a_run_config_keeps_the_papers_words_readable_and_round_trips(tmp_path):
    """config.yaml is read by people: an en dash or ± is written as itself, in UTF-8, and loads back the same."""
    from fer_keras.atomic_write import write_text
    from fer_keras.config import load_run_config

    config = load_config("jaffe_model3_transfer.yaml")
    assert "–" in config.report.paper["source"]
    text = config.to_yaml()
    assert "Tables 6–7" in text and "\\u2013" not in text
    path = write_text(tmp_path / "config.yaml", text)
    assert "Tables 6–7".encode("utf-8") in path.read_bytes()
    assert load_run_config(path) == config
