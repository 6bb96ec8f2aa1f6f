"""Model registry and architectures.

Importing this package registers every architecture, including the custom layers
(SqueezeExcite, CBAM, …), so ``keras.models.load_model`` reads any model fer_keras saved.
"""

from fer_keras.models.registry import build_model, import_models, model_names

import_models()

__all__ = ["build_model", "model_names"]
