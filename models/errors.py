"""Exceptions of the models package; all derive from ModelError."""


class ModelError(Exception):
    """Base class for every error raised by the models package."""

    code = "model_error"


class ModelNotFound(ModelError):
    """No model (or no such version) in the store."""

    code = "unknown_model"


class InvalidInput(ModelError):
    """The input does not match the model's input schema."""

    code = "invalid_input"


class InvalidImage(InvalidInput):
    """Bytes that are not a decodable image of an allowed format."""

    code = "invalid_image"


class ImageTooLarge(InvalidInput):
    """An image whose pixel count exceeds the configured limit (decompression bomb)."""

    code = "image_too_large"


class TooMuchTrainingData(InvalidInput):
    """More rows (or columns) of training data than the configured limits."""

    code = "too_much_training_data"


class IntegrityError(ModelError):
    """An artifact that does not match its manifest, or holds untrusted types."""

    code = "integrity_error"
