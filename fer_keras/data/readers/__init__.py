"""Dataset readers, one module each, registered by ``@register_reader`` (every module here is imported).

Each reads a dataset as its publisher ships it and as it is commonly redistributed (flat, class
folders, nested, any case), identifying images by the codes in their file names where they carry
them, into a :class:`~fer_keras.data.registry.DatasetTable`: ``faces`` is the FACES database,
``helpers`` what the readers share (it registers nothing).
"""
