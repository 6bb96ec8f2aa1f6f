"""Faces in images: finding them (``detect``: Haar or MTCNN), cropping and aligning one
(``crop``, ``align``), and face-cropping a whole dataset table with cached detections (``table``).

Training and predict use the same functions, so a face is cropped the same way in both.
"""
