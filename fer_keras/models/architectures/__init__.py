"""The architectures of the model registry: each module here registers its builders when imported
(:func:`fer_keras.models.registry.import_models` imports them all)."""
