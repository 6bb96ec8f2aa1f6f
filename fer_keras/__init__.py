"""fer_keras: facial expression recognition papers reproduced in Keras 3 / TensorFlow."""

__version__ = "0.1.0"
