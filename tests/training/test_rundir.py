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
