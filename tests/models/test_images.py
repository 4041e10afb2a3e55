"""Image checks and decoding with Pillow."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from models import images
from models.cnn_training import IMAGE_SCHEMA
from models.errors import ImageTooLarge, InvalidImage


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_png_and_jpeg_of_any_size_decode_to_the_model_input(fmt: str) -> None:
    data = encode(Image.new("RGB", (100, 60), (255, 0, 0)), fmt)
    assert images.inspect(data, max_pixels=10_000) == {"format": fmt, "width": 100, "height": 60}
    array = images.decode(data, IMAGE_SCHEMA, max_pixels=10_000)
    assert array.shape == (32, 32, 3) and array.dtype == np.uint8
    assert array[..., 0].min() > 240 and array[..., 1].max() < 15


@pytest.mark.parametrize(
    "data", [b"", b"hello", encode(Image.new("RGB", (8, 8)), "GIF"), encode(Image.new("RGB", (8, 8)), "BMP")]
)
def test_non_images_and_other_formats_are_invalid(data: bytes) -> None:
    with pytest.raises(InvalidImage):
        images.inspect(data, max_pixels=10_000)


def test_truncated_image_passes_the_header_check_but_fails_to_decode() -> None:
    data = encode(Image.effect_noise((64, 64), 50).convert("RGB"), "PNG")[:200]
    images.inspect(data, max_pixels=10_000)
    with pytest.raises(InvalidImage, match="corrupt"):
        images.decode(data, IMAGE_SCHEMA, max_pixels=10_000)


def test_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = encode(Image.new("L", (4000, 4000)), "PNG")  # 16 Mpx, tiny when compressed
    assert len(bomb) < 100_000
    with pytest.raises(ImageTooLarge, match="limit"):
        images.inspect(bomb, max_pixels=1_000_000)
