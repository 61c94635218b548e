"""The avatar pipeline, judged by what a member sees: accepted pictures, refusals and privacy."""

import hashlib
import struct
import warnings
import zlib
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile, ImageOps

from accounts.avatars import (
    ALLOWED_FORMATS,
    AVATAR_SIZES,
    MAX_DIMENSION,
    MAX_PIXELS,
    AvatarError,
    identicon,
    render_avatar,
)

MAX_BYTES = 2 * 1024 * 1024
RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)

NOT_AN_IMAGE = "The file is not a valid image, or it is damaged."
WRONG_FORMAT = "Upload a PNG, JPEG, GIF or WebP image."
TOO_MANY_PIXELS = "The image is too large: at most 4096 × 4096 pixels."


def upload(data: bytes, name: str = "avatar.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def encode(image: Image.Image, image_format: str, **options) -> bytes:
    out = BytesIO()
    image.save(out, format=image_format, **options)
    return out.getvalue()


def open_bytes(data: bytes) -> Image.Image:
    return Image.open(BytesIO(data))


def close_to(actual, expected, tolerance: int = 40) -> bool:
    """Lossy WebP/JPEG shift colours a little; a member still sees the same colour."""
    return all(abs(a - e) <= tolerance for a, e in zip(actual[:3], expected, strict=True))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny 1x1 PNG whose header claims another size (with a valid CRC, so it parses)."""
    data = bytearray(encode(Image.new("RGB", (1, 1)), "PNG"))
    # signature (8) + IHDR length (4) + b"IHDR" (4), then width and height, then CRC after 13 bytes
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize("image_format", sorted(ALLOWED_FORMATS))
def test_allowed_formats_give_square_webp_in_every_size(image_format):
    data = encode(Image.new("RGB", (300, 200), RED), image_format)

    avatars = render_avatar(upload(data, f"me.{image_format.lower()}"), max_bytes=MAX_BYTES)

    assert set(avatars) == set(AVATAR_SIZES) == {"large", "small"}
    for name, side in AVATAR_SIZES.items():
        avatar = open_bytes(avatars[name])
        assert avatar.format == "WEBP"
        assert avatar.size == (side, side)
        assert close_to(avatar.convert("RGB").getpixel((side // 2, side // 2)), RED)


def test_small_pictures_are_enlarged_to_the_exact_size():
    data = encode(Image.new("RGB", (10, 7), BLUE), "PNG")

    avatars = render_avatar(upload(data), max_bytes=MAX_BYTES)

    assert open_bytes(avatars["large"]).size == (256, 256)
    assert open_bytes(avatars["small"]).size == (64, 64)


@pytest.mark.parametrize(
    ("size", "image_format"),
    [((600, 200), "PNG"), ((200, 600), "PNG"), ((2400, 800), "JPEG")],  # big JPEG: drafted
)
def test_wide_or_tall_pictures_are_cropped_to_the_centre_not_squashed(size, image_format):
    side = min(size)
    image = Image.new("RGB", size, RED)
    middle = ((size[0] - side) // 2, (size[1] - side) // 2)
    image.paste(BLUE, (*middle, middle[0] + side, middle[1] + side))

    data = encode(image, image_format)
    large = open_bytes(render_avatar(upload(data), max_bytes=MAX_BYTES)["large"])

    pixels = large.convert("RGB")
    for point in [(128, 128), (4, 4), (251, 4), (4, 251), (251, 251)]:
        assert close_to(pixels.getpixel(point), BLUE), point


def test_transparent_background_stays_transparent():
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    image.paste((*RED, 255), (25, 25, 75, 75))

    large = open_bytes(render_avatar(upload(encode(image, "PNG")), max_bytes=MAX_BYTES)["large"])

    assert large.mode == "RGBA"
    assert large.getpixel((2, 2))[3] == 0
    assert close_to(large.getpixel((128, 128)), RED)


def test_animated_gif_uses_its_first_frame():
    frames = [Image.new("RGB", (80, 80), RED), Image.new("RGB", (80, 80), BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert open_bytes(data).n_frames == 2

    large = open_bytes(render_avatar(upload(data, "anim.gif"), max_bytes=MAX_BYTES)["large"])

    assert close_to(large.convert("RGB").getpixel((128, 128)), RED)


def photo_with_location() -> bytes:
    """A camera-style JPEG: GPS position, Orientation 6 (turn 90° clockwise), ICC profile, XMP.

    The stored picture is white with a red top-left quadrant, so once turned upright the red
    quadrant is at the top right.
    """
    image = Image.new("RGB", (200, 200), WHITE)
    image.paste(RED, (0, 0, 100, 100))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 26.0)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "W", (0.0, 7.0, 39.0)  # GPSLongitudeRef, GPSLongitude
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret</x:xmpmeta>'
    return encode(image, "JPEG", exif=exif, icc_profile=b"not-really-icc", xmp=xmp, quality=95)


def test_photo_location_and_other_metadata_are_removed():
    data = photo_with_location()
    original = open_bytes(data)
    assert original.getexif().get_ifd(0x8825)  # the upload really carries a GPS position
    assert {"exif", "icc_profile", "xmp"} <= set(original.info)

    avatars = render_avatar(upload(data, "photo.jpg"), max_bytes=MAX_BYTES)

    for name in AVATAR_SIZES:
        avatar = open_bytes(avatars[name])
        assert len(avatar.getexif()) == 0
        assert not {"exif", "icc_profile", "xmp"} & set(avatar.info)
        assert b"PhoneMaker" not in avatars[name]
        assert b"secret" not in avatars[name]


def test_photo_is_turned_the_way_the_camera_held_it():
    large = open_bytes(render_avatar(upload(photo_with_location()), max_bytes=MAX_BYTES)["large"])

    pixels = large.convert("RGB")
    assert close_to(pixels.getpixel((192, 64)), RED)  # top right
    assert close_to(pixels.getpixel((64, 64)), WHITE)  # top left
    assert close_to(pixels.getpixel((192, 192)), WHITE)  # bottom right


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("notes.png", b"Hello, this is a text file with a picture's name.\n" * 20),
        ("empty.png", b""),
        (
            "logo.svg",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
            b'height="10"><rect width="10" height="10" fill="red"/></svg>',
        ),
    ],
)
def test_files_that_are_not_images_are_refused(name, data):
    """Only the decoders of the formats we take ever see an upload (`formats=`)."""
    with pytest.raises(AvatarError) as refused:
        render_avatar(upload(data, name), max_bytes=MAX_BYTES)

    assert str(refused.value) == WRONG_FORMAT


@pytest.mark.parametrize("image_format", ["BMP", "TIFF", "ICO"])
def test_other_image_formats_are_refused_with_the_formats_we_take(image_format):
    data = encode(Image.new("RGB", (32, 32), RED), image_format)

    with pytest.raises(AvatarError) as refused:
        render_avatar(upload(data, "avatar.png"), max_bytes=MAX_BYTES)

    assert str(refused.value) == WRONG_FORMAT


@pytest.mark.parametrize("image_format", sorted(ALLOWED_FORMATS))
def test_truncated_images_are_refused_as_damaged(image_format):
    noise = Image.effect_noise((200, 200), 100).convert("RGB")  # noise keeps the file large
    data = encode(noise, image_format)

    with pytest.raises(AvatarError) as refused:
        render_avatar(upload(data[: len(data) // 2]), max_bytes=MAX_BYTES)

    assert str(refused.value) == NOT_AN_IMAGE


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (30000, 30000),  # past Pillow's own bomb limit: an error as Image.open reads the header
        (10000, 10000),  # between Pillow's warning and error limits: the warning must refuse it
        (MAX_DIMENSION + 1, 1),
        (1, MAX_DIMENSION + 1),
    ],
)
def test_tiny_file_declaring_huge_dimensions_is_refused_before_decoding(width, height):
    data = png_declaring(width, height)
    assert len(data) < 100
    with pytest.MonkeyPatch.context() as patch:  # prove it parses: only its size is wrong
        patch.setattr(Image, "MAX_IMAGE_PIXELS", None)
        assert open_bytes(data).size == (width, height)

    with pytest.raises(AvatarError) as refused:
        render_avatar(upload(data), max_bytes=MAX_BYTES)

    assert str(refused.value) == TOO_MANY_PIXELS


@pytest.mark.parametrize("size", [(MAX_DIMENSION + 1, 8), (8, MAX_DIMENSION + 1)])
def test_real_picture_over_the_dimension_limit_is_refused(size):
    data = encode(Image.new("RGB", size, RED), "PNG")

    with pytest.raises(AvatarError) as refused:
        render_avatar(upload(data), max_bytes=MAX_BYTES)

    assert str(refused.value) == TOO_MANY_PIXELS


def test_picture_exactly_at_the_dimension_limit_is_accepted():
    data = encode(Image.new("RGB", (MAX_DIMENSION, 8), RED), "PNG")

    avatars = render_avatar(upload(data), max_bytes=MAX_BYTES)

    assert open_bytes(avatars["large"]).size == (256, 256)


def test_bomb_warning_is_refused_not_leaked_and_global_state_is_kept():
    limit_before = Image.MAX_IMAGE_PIXELS
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        filters_before = list(warnings.filters)

        with pytest.raises(AvatarError):
            render_avatar(upload(png_declaring(10000, 10000)), max_bytes=MAX_BYTES)

        assert caught == []
        assert warnings.filters == filters_before
    assert limit_before == Image.MAX_IMAGE_PIXELS


@pytest.mark.parametrize(
    ("max_bytes", "message"),
    [
        (1024, "The image is larger than 1 KB."),
        (1536, "The image is larger than 1.5 KB."),
        (500, "The image is larger than 500 bytes."),
    ],
)
def test_file_over_the_byte_limit_is_refused_with_the_limit(max_bytes, message):
    noise = Image.effect_noise((100, 100), 100).convert("RGB")
    data = encode(noise, "PNG")
    assert len(data) > max_bytes

    with pytest.raises(AvatarError) as refused:
        render_avatar(upload(data), max_bytes=max_bytes)

    assert str(refused.value) == message


def test_size_limit_in_megabytes_is_said_in_megabytes():
    big = upload(b"x" * 10)
    big.size = 3 * 1024 * 1024  # as Django reports a large upload, without holding it here

    with pytest.raises(AvatarError) as refused:
        render_avatar(big, max_bytes=MAX_BYTES)

    assert str(refused.value) == "The image is larger than 2 MB."


class CountingStream(BytesIO):
    """A file object without .size that records how much was read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_stream_without_a_size_is_read_no_further_than_the_limit():
    stream = CountingStream(b"\x89PNG" + b"\0" * 100_000)

    with pytest.raises(AvatarError) as refused:
        render_avatar(stream, max_bytes=1024)

    assert str(refused.value) == "The image is larger than 1 KB."
    assert stream.bytes_read <= 1025


def test_file_exactly_at_the_byte_limit_is_accepted_even_if_already_read():
    data = encode(Image.new("RGB", (40, 40), RED), "PNG")
    stream = CountingStream(data)
    stream.read()  # as form validation would leave it

    avatars = render_avatar(stream, max_bytes=len(data))

    assert open_bytes(avatars["small"]).size == (64, 64)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_identicon_is_the_same_every_time_for_one_digest():
    digest = sha256("alice@example.com")

    assert identicon(digest) == identicon(digest)
    assert identicon(digest, 64) == identicon(digest, 64)
    assert identicon(digest.upper()) == identicon(digest)


def test_identicons_differ_between_digests():
    pictures = {identicon(sha256(f"member{number}@example.com")) for number in range(20)}

    assert len(pictures) == 20


@pytest.mark.parametrize("size", [256, 64, 100, 31])
def test_identicon_is_a_png_of_exactly_the_size_asked(size):
    picture = open_bytes(identicon(sha256("bob@example.com"), size))

    assert picture.format == "PNG"
    assert picture.size == (size, size)


def test_identicon_is_left_right_symmetric_on_a_light_background():
    picture = open_bytes(identicon(sha256("carol@example.com"))).convert("RGB")

    assert ImageOps.mirror(picture).tobytes() == picture.tobytes()
    assert min(picture.getpixel((0, 0))) >= 200  # the margin is the light background
    assert len(picture.getcolors()) == 2  # background and one colour drawn from the digest


@pytest.mark.parametrize("digest", ["", "not-hex", "12 34", "g" * 64, "ab\n"])
def test_identicon_refuses_a_digest_that_is_not_hex(digest):
    with pytest.raises(ValueError, match="hexadecimal"):
        identicon(digest)


def test_a_tiny_lossless_webp_declaring_16_megapixels_is_refused_before_decoding(monkeypatch):
    """706 bytes on the wire, 4096 x 4096 once decoded: refused from the header alone."""
    data = encode(Image.new("RGB", (MAX_DIMENSION, MAX_DIMENSION), RED), "WEBP", lossless=True)
    assert len(data) < 2000
    decoded = []
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda image: decoded.append(image.size)
    )  # any decode is recorded, not done
    with pytest.raises(AvatarError) as refused:
        render_avatar(upload(data, "bomb.webp"), max_bytes=MAX_BYTES)
    assert "too many pixels" in str(refused.value)
    assert decoded == []


def test_a_large_jpeg_is_decoded_at_a_reduced_scale_within_the_budget(monkeypatch):
    data = encode(Image.new("RGB", (MAX_DIMENSION, MAX_DIMENSION), RED), "JPEG")
    loaded = []
    original = ImageFile.ImageFile.load
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda image: loaded.append(image.size) or original(image)
    )
    rendered = render_avatar(upload(data, "photo.jpg"), max_bytes=MAX_BYTES)
    assert open_bytes(rendered["large"]).size == (256, 256)
    assert loaded and all(w * h <= MAX_PIXELS for w, h in loaded)
    assert loaded[0][0] < MAX_DIMENSION  # drafted to 1/8 or so, never 16 megapixels


def test_pillow_only_tries_the_decoders_of_the_formats_we_take(monkeypatch):
    calls = []
    original = Image.open
    monkeypatch.setattr(
        Image,
        "open",
        lambda fp, mode="r", formats=None: calls.append(formats) or original(fp, mode, formats),
    )
    render_avatar(
        upload(encode(Image.new("RGB", (20, 20), RED), "PNG"), "a.png"), max_bytes=MAX_BYTES
    )
    assert calls and set(calls[0]) == {"PNG", "JPEG", "GIF", "WEBP"}


def quadrant_picture(size: tuple[int, int]) -> Image.Image:
    """Four colours, one per quadrant of the centred square, so any turn or flip shows."""
    width, height = size
    image = Image.new("RGB", size, WHITE)
    side = min(size)
    left, top = (width - side) // 2, (height - side) // 2
    colours = [RED, BLUE, (0, 160, 0), (250, 200, 0)]
    for n, colour in enumerate(colours):
        x, y = left + (n % 2) * side // 2, top + (n // 2) * side // 2
        image.paste(colour, (x, y, x + side // 2, y + side // 2))
    return image


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("size", [(300, 200), (200, 300)])
def test_every_camera_orientation_gives_the_upright_centre(orientation, size):
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(quadrant_picture(size), "JPEG", exif=exif, quality=95)
    upright = ImageOps.exif_transpose(open_bytes(data))
    side = min(upright.size)
    left, top = (upright.width - side) // 2, (upright.height - side) // 2
    expected = upright.crop((left, top, left + side, top + side)).resize((256, 256))

    large = open_bytes(render_avatar(upload(data, "photo.jpg"), max_bytes=MAX_BYTES)["large"])

    for point in [(64, 64), (192, 64), (64, 192), (192, 192)]:
        assert close_to(large.convert("RGB").getpixel(point), expected.getpixel(point)[:3])


@pytest.mark.parametrize(
    ("mode", "full_size_copies"),
    [("RGB", 0), ("RGBA", 1)],  # transparency: one premultiplied copy, for clean edges
)
def test_a_large_png_is_decoded_once_and_not_copied_at_full_size(
    monkeypatch, mode, full_size_copies
):
    """A PNG cannot be decoded at a reduced scale, so everything after the decode works on a
    reduced picture: no full-size copy for turning, converting or cropping, and the small
    avatar is made from the large one."""
    data = encode(quadrant_picture((2048, 2048)).convert(mode), "PNG")
    made = []
    original = Image.Image._new
    monkeypatch.setattr(
        Image.Image, "_new", lambda image, im: made.append(im.size) or original(image, im)
    )
    rendered = render_avatar(upload(data, "big.png"), max_bytes=MAX_BYTES)
    assert open_bytes(rendered["large"]).size == (256, 256)
    assert made, "the pipeline makes its pictures through Pillow"
    assert sum(w * h > 2048 * 2048 // 4 for w, h in made) == full_size_copies
