"""Model registry and architectures."""

from fer_keras.models.registry import build_model, model_names

__all__ = ["build_model", "model_names"]
