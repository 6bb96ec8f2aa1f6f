"""Using a trained model: prediction on images, folders, videos and cameras, and export for apps.

- :mod:`fer_keras.inference.predictor`: load a run or ``.keras`` file with its preprocessing;
  detect, crop and classify faces (``Predictor``).
- :mod:`fer_keras.inference.engine`: which engine runs the model (TFLite or Keras) and the
  cached TFLite conversion.
- :mod:`fer_keras.inference.rows`: prediction output rows (one per face or faceless image) and
  their table.
- :mod:`fer_keras.inference.sources`: what an input is (image, folder, video file, camera index).
- :mod:`fer_keras.inference.inputs`: what ``python -m fer_keras.predict`` does with an image, a
  folder, a video or a camera (rows, annotated files, an optional window).
- :mod:`fer_keras.inference.video`: frames from a video or camera, face tracking by box IoU,
  EMA / sliding-window smoothing of each face's probabilities.
- :mod:`fer_keras.inference.runners`: the model run as traced Keras, a SavedModel or TFLite.
- :mod:`fer_keras.inference.annotate`: boxes, top emotion and probability bars drawn with OpenCV.
- :mod:`fer_keras.inference.deploy`: SavedModel and TFLite (float32, dynamic-range quantised),
  with checks that their outputs match Keras.

Importing this package loads nothing heavy (no TensorFlow), so CLI errors come fast.
"""
