"""ResNet18/34: parameter counts and layer layout of the basic-block ResNets."""

from __future__ import annotations

import keras
import numpy as np

from fer_keras.models.architectures.backbones import find_backbone
from fer_keras.models.registry import build_model


def n_trainable(model: keras.Model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_resnet18_and_resnet34_match_the_paper_parameter_counts():
    # Paper: 11.7M and 21.8M; torchvision counts 11,689,512 and 21,797,672 (BN statistics
    # are buffers there); Keras also counts the BN moving mean and variance.
    resnet18 = build_model("resnet18", (32, 32, 3), 1000)
    assert n_trainable(resnet18) == 11_689_512
    assert resnet18.count_params() == 11_699_112
    resnet34 = build_model("resnet34", (32, 32, 3), 1000)
    assert n_trainable(resnet34) == 21_797_672
    assert resnet34.count_params() == 21_814_696
    backbone = find_backbone(resnet34)[0]
    assert backbone.output.shape[1:] == (1, 1, 512)
    convs = [layer.name for layer in backbone.layers if isinstance(layer, keras.layers.Conv2D)]
    # 1 stem conv + 2 per basic block (3+4+6+3 = 16 blocks) + 3 projection shortcuts
    assert len(convs) == 36
    assert [n for n in convs if n.endswith("_0_conv")] == ["conv3_block1_0_conv", "conv4_block1_0_conv", "conv5_block1_0_conv"]
