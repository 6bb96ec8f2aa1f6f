"""ImageNet weights resolved offline: each backbone's exact Keras file name, search order, one-line errors."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from fer_keras.models import model_names, weights
from fer_keras.models.architectures.backbones import (
    BACKBONES,
    keras_weights_file,
    load_backbone_weights,
    resolve_imagenet_weights,
)
from fer_keras.errors import ModelError
from fer_keras.models.weights import find_weights_file, load_weights_file

TF = "https://storage.googleapis.com/tensorflow/keras-applications/"


@pytest.mark.parametrize(
    ("name", "include_top", "file_name", "url"),
    [
        ("vgg16", False, "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", f"{TF}vgg16/"),
        ("vgg19", True, "vgg19_weights_tf_dim_ordering_tf_kernels.h5", f"{TF}vgg19/"),
        ("resnet50", False, "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", f"{TF}resnet/"),
        ("resnet152v2", False, "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5", f"{TF}resnet/"),
        ("inception_v3", False, "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", f"{TF}inception_v3/"),
        ("densenet121", False, "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5", f"{TF}densenet/"),
        ("efficientnetb0", False, "efficientnetb0_notop.h5", "https://storage.googleapis.com/keras-applications/"),
        ("mobilenet_v2", False, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5", f"{TF}mobilenet_v2/"),
        ("mobilenet_v2", True, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5", f"{TF}mobilenet_v2/"),
    ],
)
def test_keras_file_names_and_urls(name, include_top, file_name, url):
    assert keras_weights_file(name, include_top) == (file_name, url + file_name)


def test_mobilenet_file_follows_alpha_and_published_sizes():
    assert keras_weights_file("mobilenet_v2", alpha=0.35, rows=128)[0].endswith("_0.35_128_no_top.h5")
    # Like Keras, a size without published weights falls back to the 224 px file.
    assert keras_weights_file("mobilenet_v2", alpha=0.5, rows=48)[0].endswith("_0.5_224_no_top.h5")
    with pytest.raises(ModelError, match="alpha"):
        keras_weights_file("mobilenet_v2", alpha=0.6)


def test_unknown_model_is_a_model_error():
    with pytest.raises(ModelError, match="no ImageNet weights are known for model 'lenet'"):
        keras_weights_file("lenet")


def test_explicit_path_is_returned_and_must_exist(tmp_path):
    file = tmp_path / "mine.h5"
    file.write_bytes(b"x")
    assert resolve_imagenet_weights("vgg16", False, path=file) == str(file)
    with pytest.raises(ModelError, match="not found"):
        resolve_imagenet_weights("vgg16", False, path=tmp_path / "absent.h5")


def test_found_in_keras_cache(empty_search, monkeypatch):
    cache = empty_search / "keras_home" / "models"
    cache.mkdir(parents=True)
    file = cache / "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5"
    file.write_bytes(b"x")
    assert resolve_imagenet_weights("densenet121", False) == str(file)
    # A file with a different variant's name is not taken.
    with pytest.raises(ModelError):
        resolve_imagenet_weights("densenet121", True)


def test_found_in_fer_keras_weights_dir_after_cache(empty_search, monkeypatch):
    folder = empty_search / "mine"
    folder.mkdir()
    name = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    (folder / name).write_bytes(b"x")
    monkeypatch.setenv(weights.WEIGHTS_DIR_ENV, str(folder))
    assert resolve_imagenet_weights("resnet50", False) == str(folder / name)
    cache = empty_search / "keras_home" / "models"
    cache.mkdir(parents=True)
    (cache / name).write_bytes(b"x")
    assert resolve_imagenet_weights("resnet50", False) == str(cache / name)


def test_no_folder_beside_the_source_tree_is_searched(empty_search, monkeypatch):
    """Only the Keras cache and $FER_KERAS_WEIGHTS_DIR: nothing is resolved against where the package sits."""
    monkeypatch.setenv("FER_KERAS_WEIGHTS_DIR", str(empty_search / "mine"))
    assert weights.search_dirs() == [weights.keras_cache_dir(), empty_search / "mine"]


def test_missing_weights_error_is_one_line_with_file_url_and_place(empty_search):
    with pytest.raises(ModelError) as caught:
        resolve_imagenet_weights("vgg16", False)
    message = str(caught.value)
    assert "\n" not in message
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert f"{TF}vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert "~/.keras/models/" in message and "FER_KERAS_WEIGHTS_DIR" in message


def test_missing_resnet18_weights_says_keras_has_none(empty_search):
    with pytest.raises(ModelError, match="Keras publishes none.*resnet18_imagenet_notop.weights.h5"):
        resolve_imagenet_weights("resnet18", False)


def _tiny_mobilenet():
    return keras.applications.MobileNetV2(
        include_top=False, weights=None, input_shape=(32, 32, 3), alpha=0.35, name="mobilenet_v2"
    )


def test_load_backbone_weights_from_cache_file_saved_by_keras(empty_search):
    source = _tiny_mobilenet()
    cache = empty_search / "keras_home" / "models"
    cache.mkdir(parents=True)
    file = cache / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"
    source.save(file)  # legacy HDF5, the format keras.applications downloads
    target = _tiny_mobilenet()
    before = target.get_layer("Conv1").kernel.numpy()
    used = load_backbone_weights(target, "mobilenet_v2", "imagenet", alpha=0.35, rows=32)
    assert used == str(file)
    loaded = target.get_layer("Conv1").kernel.numpy()
    np.testing.assert_array_equal(loaded, source.get_layer("Conv1").kernel.numpy())
    assert not np.array_equal(loaded, before)


def test_load_backbone_weights_none_leaves_model_alone():
    model = _tiny_mobilenet()
    before = model.get_layer("Conv1").kernel.numpy()
    assert load_backbone_weights(model, "mobilenet_v2", None) is None
    np.testing.assert_array_equal(model.get_layer("Conv1").kernel.numpy(), before)


def test_wrong_file_gives_one_line_model_error(tmp_path):
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    file = tmp_path / "other.weights.h5"
    other.save_weights(file)
    with pytest.raises(ModelError) as caught:
        load_weights_file(_tiny_mobilenet(), file)
    assert "\n" not in str(caught.value) and "other.weights.h5" in str(caught.value)


def test_resolver_names_no_model():
    source = open(weights.__file__, encoding="utf-8").read()
    named = [name for name in sorted({*BACKBONES, *model_names()}) if name in source]
    assert named == []


def test_find_weights_file_resolves_any_file_name(empty_search, monkeypatch):
    folder = empty_search / "mine"
    folder.mkdir()
    (folder / "any_name.weights.h5").write_bytes(b"x")
    monkeypatch.setenv(weights.WEIGHTS_DIR_ENV, str(folder))
    assert find_weights_file("mine", "any_name.weights.h5", None) == str(folder / "any_name.weights.h5")
    with pytest.raises(ModelError, match=r"ImageNet weights for mine not found and \$FER_KERAS_OFFLINE forbids "
                                         r"downloading: download https://x/y.h5 and save it as y.h5") as caught:
        find_weights_file("mine", "y.h5", "https://x/y.h5")
    assert "\n" not in str(caught.value)


def test_every_backbone_states_its_weights_file():
    for name, spec in BACKBONES.items():
        file_name, url = keras_weights_file(name)
        assert file_name.endswith(".h5") and (url is None or url.endswith("/" + file_name)), name
        assert spec.weights_file is not None



@pytest.fixture
def weights_server(tmp_path):
    """A loopback HTTP server over ``tmp_path / "served"``; yields (base URL, served folder, request log)."""
    import functools
    import http.server
    import threading

    served = tmp_path / "served"
    served.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served, requests
    finally:
        server.shutdown()
        server.server_close()


def test_missing_weights_are_downloaded_into_the_keras_cache_with_their_hash_checked(empty_search, weights_server,
                                                                                      monkeypatch):
    import hashlib

    base, served, requests = weights_server
    monkeypatch.delenv(weights.OFFLINE_ENV, raising=False)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="dense")])
    model.save_weights(served / "tiny.weights.h5")
    digest = hashlib.sha256((served / "tiny.weights.h5").read_bytes()).hexdigest()
    path = find_weights_file("tiny", "tiny.weights.h5", base + "tiny.weights.h5", file_hash=digest)
    assert path == str(weights.keras_cache_dir() / "tiny.weights.h5") and len(requests) == 1
    load_weights_file(model, path)
    assert find_weights_file("tiny", "tiny.weights.h5", base + "tiny.weights.h5", file_hash=digest) == path
    assert len(requests) == 1  # found in the cache: not downloaded again


def test_a_corrupt_or_failed_download_is_one_line_and_leaves_nothing_in_the_cache(empty_search, weights_server,
                                                                                  monkeypatch):
    base, served, requests = weights_server
    monkeypatch.delenv(weights.OFFLINE_ENV, raising=False)
    (served / "bad.h5").write_bytes(b"not the published file")
    with pytest.raises(ModelError, match=r"ImageNet weights for m: downloading .*bad\.h5 failed .*save it as bad\.h5") \
            as caught:
        find_weights_file("m", "bad.h5", base + "bad.h5", file_hash="0" * 64)
    assert "\n" not in str(caught.value) and not (weights.keras_cache_dir() / "bad.h5").exists()
    with pytest.raises(ModelError, match=r"downloading .*missing\.h5 failed"):
        find_weights_file("m", "missing.h5", base + "missing.h5")
    assert not (weights.keras_cache_dir() / "missing.h5").exists()


def test_offline_never_touches_the_network(empty_search, weights_server, monkeypatch):
    base, served, requests = weights_server
    (served / "w.h5").write_bytes(b"x")
    monkeypatch.setenv(weights.OFFLINE_ENV, "1")
    with pytest.raises(ModelError, match=r"\$FER_KERAS_OFFLINE forbids downloading: download .*w\.h5"):
        find_weights_file("m", "w.h5", base + "w.h5")
    assert requests == []


def test_downloads_check_the_hash_keras_checks(empty_search, monkeypatch):
    """Every hash fer_keras passes is the one the installed Keras passes for that file name; MobileNetV2 has none."""
    import keras

    from fer_keras.models.architectures import backbones

    sources = "".join(path.read_text() for path in (Path(keras.__file__).parent / "src" / "applications").glob("*.py"))
    for file_name, md5 in backbones.KERAS_FILE_HASHES.items():
        assert md5 in sources, file_name
    asked = {}
    monkeypatch.setattr(backbones, "find_weights_file",
                        lambda owner, file_name, url, file_hash=None: asked.setdefault(file_name, file_hash) or "x")
    resolve_imagenet_weights("vgg16", False)
    resolve_imagenet_weights("mobilenet_v2", False)
    assert asked == {"vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5": "6d6bbae143d832006294945121d1f1fc",
                     "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5": None}
