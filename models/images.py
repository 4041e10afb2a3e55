"""Image checking and decoding with Pillow; no torch, so the API can use it."""
from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from models.errors import ImageTooLarge, InvalidImage

ALLOWED_FORMATS = frozenset({"PNG", "JPEG"})


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Open image bytes lazily (header only), enforcing format and size limits."""
    try:
        # Pillow's own bomb guard is a global; turn its warning into an error
        # and apply predq's limit explicitly so each caller's setting holds.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=sorted(ALLOWED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(str(exc)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidImage("not a PNG or JPEG image") from None
    if image.width * image.height > max_pixels:
        raise ImageTooLarge(
            f"image is {image.width}x{image.height} pixels; the limit is {max_pixels} pixels"
        )
    return image


def inspect(data: bytes, max_pixels: int) -> dict[str, Any]:
    """Check that bytes look like an allowed image; return format and size.

    Reads only the header, so it is cheap enough for the API; a truncated or
    corrupt body is only found by :func:`decode`.
    """
    image = _open(data, max_pixels)
    return {"format": image.format, "width": image.width, "height": image.height}


def to_array(image: Image.Image, schema: dict[str, Any]) -> np.ndarray:
    """Resize an image to the schema's size as an ``HxWxC`` uint8 array.

    Training and serving both go through this function, so a served image is
    preprocessed exactly as the training images were.
    """
    size = (schema["width"], schema["height"])
    mode = "RGB" if schema["channels"] == 3 else "L"
    if image.format == "JPEG":
        # Let libjpeg decode at a reduced scale: much faster for big photos.
        image.draft(mode, size)
    image = image.convert(mode).resize(size, Image.Resampling.BILINEAR)
    array = np.asarray(image, dtype=np.uint8)
    return array if array.ndim == 3 else array[:, :, None]


def decode(data: bytes, schema: dict[str, Any], max_pixels: int) -> np.ndarray:
    """Fully decode image bytes into the model's input array."""
    image = _open(data, max_pixels)
    try:
        return to_array(image, schema)
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidImage(f"image data is corrupt: {exc}") from None
