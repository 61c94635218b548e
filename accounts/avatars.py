"""Turn a member's uploaded picture into avatar files, or draw one for members without a picture.

Uploads are untrusted: every check here happens before Pillow decodes pixels, so a hostile file
costs little memory or time, and the output is re-encoded from bare pixels so that no camera
metadata (GPS position, device, ICC/XMP) is ever published.
"""

import colorsys
import hashlib
import re
import struct
import warnings
from io import BytesIO
from typing import IO

from PIL import ExifTags, Image, ImageDraw, UnidentifiedImageError

AVATAR_SIZES: dict[str, int] = {"large": 256, "small": 64}
MAX_DIMENSION = 4096  # either side, in pixels, refused beyond
# Pixels decoded at most: a 2048 x 2048 picture (16 MB as RGBA). A JPEG is
# decoded at a reduced scale (`draft`), so its budget is counted after that.
MAX_PIXELS = 2048 * 2048
ALLOWED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
# The only decoders Pillow may try on an upload: no exotic parser sees it.
_OPEN_FORMATS = ["PNG", "JPEG", "GIF", "WEBP"]  # JPEG's decoder also opens MPO

# Pillow reports multi-picture JPEGs (common from phone cameras) as "MPO"; they are JPEGs.
_FORMAT_ALIASES = {"MPO": "JPEG"}
# What Pillow raises for files it cannot parse or decode; none of these are programming errors.
_BROKEN_IMAGE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)
_WEBP_QUALITY = 85
# libwebp's default effort: 7 ms for a 256-pixel photo here against 8 ms at method 6,
# 2 % larger (the decode, not the encode, is what an upload costs).
_WEBP_METHOD = 4
# Resampling first shrinks by whole factors (box averaging) down to three times the
# target, then LANCZOS does the rest: far cheaper on a large picture, and looks the same.
_REDUCING_GAP = 3.0
# Modes that are scaled as they are; others (palette, CMYK, 16-bit) are converted first.
_SCALABLE_MODES = {"RGB", "RGBA", "L", "LA"}
# How to turn a picture stored with each EXIF orientation upright (the EXIF standard's
# meaning, as Pillow's ImageOps.exif_transpose applies it).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_NOT_AN_IMAGE = "The file is not a valid image, or it is damaged."
_WRONG_FORMAT = "Upload a PNG, JPEG, GIF or WebP image."
_TOO_MANY_PIXELS = f"The image is too large: at most {MAX_DIMENSION} × {MAX_DIMENSION} pixels."
_OVER_PIXEL_BUDGET = (
    f"The image has too many pixels: at most {MAX_PIXELS // 1_000_000} megapixels "
    f"(a JPEG may be up to {MAX_DIMENSION} × {MAX_DIMENSION})."
)


class AvatarError(ValueError):
    """A user-facing reason an upload was refused (str(error) is shown on the form)."""


def render_avatar(upload: IO[bytes], *, max_bytes: int) -> dict[str, bytes]:
    """Validate an uploaded file-like object and return {"large": webp_bytes, "small": webp_bytes}.

    The upload is a Django UploadedFile or any binary file object with .read()/.seek(); it may
    have a .size attribute. Raises AvatarError, whose text is meant for the member, on refusal.
    """
    data = _read_bounded(upload, max_bytes)
    image, orientation = _decode(data)
    largest = max(AVATAR_SIZES.values())
    square = _upright_square(image, largest, orientation)
    return {
        name: _encode_webp(
            square if size == largest else square.resize((size, size), Image.Resampling.LANCZOS)
        )
        for name, size in AVATAR_SIZES.items()
    }


def _read_bounded(upload: IO[bytes], max_bytes: int) -> bytes:
    """Read the whole upload, but never more than one byte past the limit, to cap memory."""
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > max_bytes:
        raise AvatarError(_too_big_message(max_bytes))
    if hasattr(upload, "seek"):
        upload.seek(0)  # form validation may already have read the file
    chunks: list[bytes] = []
    remaining = max_bytes + 1
    while remaining > 0:
        chunk = upload.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise AvatarError(_too_big_message(max_bytes))
    return data


def _too_big_message(max_bytes: int) -> str:
    """Say the limit in the unit a member thinks in (MB, KB or bytes)."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if max_bytes >= factor:
            amount = f"{max_bytes / factor:.1f}".removesuffix(".0")
            return f"The image is larger than {amount} {unit}."
    return f"The image is larger than {max_bytes} bytes."


def _decode(data: bytes) -> tuple[Image.Image, int]:
    """Check format and dimensions from the header, then decode only the first frame.

    Returns the decoded picture as stored, and its EXIF orientation (1: upright).

    Decompression-bomb warnings become errors here (and only here), so a huge declared size is
    refused rather than allocated.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(BytesIO(data), formats=_OPEN_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise AvatarError(_TOO_MANY_PIXELS) from None
        except UnidentifiedImageError:  # none of the formats we take (text, SVG, BMP, ...)
            raise AvatarError(_WRONG_FORMAT) from None
        except _BROKEN_IMAGE_ERRORS:
            raise AvatarError(_NOT_AN_IMAGE) from None
        _check_header(image)
        try:
            return _load(image), image.getexif().get(ExifTags.Base.Orientation, 1)
        except AvatarError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise AvatarError(_TOO_MANY_PIXELS) from None
        except _BROKEN_IMAGE_ERRORS:
            raise AvatarError(_NOT_AN_IMAGE) from None


def _check_header(image: Image.Image) -> None:
    """Refuse formats we do not serve and sizes we will not decode, before any pixel is read."""
    image_format = _FORMAT_ALIASES.get(image.format or "", image.format)
    if image_format not in ALLOWED_FORMATS:
        raise AvatarError(_WRONG_FORMAT)
    width, height = image.size
    if width > MAX_DIMENSION or height > MAX_DIMENSION:
        raise AvatarError(_TOO_MANY_PIXELS)
    if width < 1 or height < 1:
        raise AvatarError(_NOT_AN_IMAGE)


def _load(image: Image.Image) -> Image.Image:
    """Decode the first frame, at a reduced scale where the format allows it.

    The pixel budget is checked after `draft` (which only a JPEG honours) and
    before a single pixel is decoded: a lossless WebP of a few hundred bytes
    can declare 4096 x 4096 and would cost a second and hundreds of MB.
    """
    largest = max(AVATAR_SIZES.values())
    image.draft(image.mode, (largest, largest))  # JPEG only: decode at a cheaper scale
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise AvatarError(_OVER_PIXEL_BUDGET)
    image.seek(0)
    image.load()  # raises on truncated or damaged data
    return image


def _upright_square(image: Image.Image, size: int, orientation: int) -> Image.Image:
    """The centred square, scaled to `size`, turned the way the camera meant, in a mode
    WebP can store.

    Avatars are shown square, so the centre is cropped rather than squashed. The
    decoded picture is never copied at full size: the crop is the box of one
    resize, and the turn comes last, on the small square (the centred square of
    a turned picture is the turned centred square).
    """
    mode = "RGBA" if image.has_transparency_data else "RGB"
    if image.mode not in _SCALABLE_MODES:
        image = image.convert(mode)
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.resize(
        (size, size),
        Image.Resampling.LANCZOS,
        box=(left, top, left + side, top + side),
        reducing_gap=_REDUCING_GAP,
    )
    if square.mode != mode:
        square = square.convert(mode)
    turn = _UPRIGHT.get(orientation)
    return square if turn is None else square.transpose(turn)


def _encode_webp(square: Image.Image) -> bytes:
    """Encode from a fresh image, so nothing from the upload's metadata is carried."""
    bare = Image.frombytes(square.mode, square.size, square.tobytes())
    out = BytesIO()
    bare.save(out, format="WEBP", quality=_WEBP_QUALITY, method=_WEBP_METHOD)
    return out.getvalue()


_HEX_DIGEST = re.compile(r"[0-9a-fA-F]+")
_GRID = 5
_BACKGROUND = (240, 240, 240)


def identicon(digest: str, size: int = 256) -> bytes:
    """A deterministic PNG identicon for a hex digest (e.g. a SHA-256 hex string)."""
    if not isinstance(digest, str) or not _HEX_DIGEST.fullmatch(digest):
        raise ValueError(f"identicon() needs a hexadecimal digest, not {digest!r}.")
    if size < _GRID:
        raise ValueError(f"identicon() needs a size of at least {_GRID} pixels, not {size}.")
    # Re-hashing gives evenly mixed bits whatever the digest's length or case.
    seed = hashlib.sha256(digest.lower().encode("ascii")).digest()
    image = Image.new("RGB", (size, size), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    edges = _grid_edges(size)
    colour = _identicon_colour(seed)
    for row, column in _filled_cells(seed):
        box = (edges[column], edges[row], edges[column + 1] - 1, edges[row + 1] - 1)
        draw.rectangle(box, fill=colour)
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _grid_edges(size: int) -> list[int]:
    """Pixel edges of the 5 cells, mirrored so the picture is exactly left-right symmetric."""
    margin = size // 12
    inner = size - 2 * margin
    left_half = [margin + index * inner // _GRID for index in range(_GRID // 2 + 1)]
    return left_half + [size - edge for edge in reversed(left_half)]


def _filled_cells(seed: bytes) -> list[tuple[int, int]]:
    """Cells to fill: one bit per cell of the left half and middle column, mirrored to the right."""
    half = _GRID // 2 + 1
    bits = int.from_bytes(seed[:4], "big")
    cells = []
    for row in range(_GRID):
        for column in range(half):
            if bits >> (row * half + column) & 1:
                cells.append((row, column))
                cells.append((row, _GRID - 1 - column))
    return sorted(set(cells))


def _identicon_colour(seed: bytes) -> tuple[int, int, int]:
    """A saturated mid-tone colour, so the pattern always stands out from the light background."""
    hue = int.from_bytes(seed[4:6], "big") / 0xFFFF
    lightness = 0.40 + seed[6] / 255 * 0.15
    saturation = 0.55 + seed[7] / 255 * 0.30
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, saturation)
    return round(red * 255), round(green * 255), round(blue * 255)
