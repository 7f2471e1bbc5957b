"""The content-addressed file store, path validation, and upload re-encoding."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from drivers.store.artifacts import ArtifactNotFound, ArtifactStore, etag
from drivers.store.images import RejectedUpload
from drivers.store.paths import UnsafePath, safe_join

JUNK = b"<html><script>alert(document.cookie)</script></html>"


def _image_bytes(
    fmt: str, size: tuple[int, int] = (32, 16), mode: str = "RGB", **params: object
) -> bytes:
    image = Image.new(mode, size)
    for x in range(size[0]):
        for y in range(size[1]):
            value = (x * 7 + y * 3) % 256
            image.putpixel(
                (x, y), value if mode in ("L", "P") else (value, 255 - value, x % 256)[: len(mode)]
            )
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "data")


# -- content-addressed storage -------------------------------------------------------------


def test_put_stores_by_hash_once(store: ArtifactStore, tmp_path: Path) -> None:
    data = b"\x89PNG not really, but bytes are bytes"
    sha = store.put(data, "png")
    assert sha == hashlib.sha256(data).hexdigest()
    path = store.path_for(sha, "png")
    assert path == store.root / sha[:2] / sha[2:4] / f"{sha}.png"
    assert store.read_bytes(sha, "png") == data
    assert store.put(data, "png") == sha  # dedup: same content, same file
    source = tmp_path / "big.bin"
    source.write_bytes(data * 100_000)
    streamed = store.put(source, "latent")
    assert streamed == hashlib.sha256(data * 100_000).hexdigest()
    assert store.read_bytes(streamed, "latent") == data * 100_000
    stat = store.stat(sha, "png")
    assert stat is not None and stat.size == len(data)
    assert stat.etag == etag(sha) == f'"{sha}"' and stat.media_type == "image/png"
    assert store.locate(sha) == "png" and store.locate("0" * 64) is None
    assert store.stat("0" * 64, "png") is None
    with pytest.raises(ArtifactNotFound):
        store.open("0" * 64, "png")
    assert list((store.root / ".tmp").iterdir()) == []  # no temp files left behind
    files = [p for p in store.root.rglob("*") if p.is_file() and ".tmp" not in p.parts]
    assert len(files) == 2


@pytest.mark.parametrize(
    ("sha", "ext"),
    [
        ("A" * 64, "png"),  # uppercase
        ("a" * 63, "png"),
        ("a" * 65, "png"),
        ("../" + "a" * 61, "png"),
        ("a" * 62 + "/x", "png"),
        ("a" * 64, "svg"),
        ("a" * 64, "html"),
        ("a" * 64, "PNG"),
        ("a" * 64, "png/../../x"),
        ("a" * 64, ""),
    ],
)
def test_path_for_refuses_invalid_names(store: ArtifactStore, sha: str, ext: str) -> None:
    with pytest.raises(UnsafePath):
        store.path_for(sha, ext)


def test_path_for_refuses_symlinks_out_of_the_store(store: ArtifactStore, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"secret")
    planted = "c" * 64
    target = store.root / "cc" / "cc" / f"{planted}.png"
    target.parent.mkdir(parents=True)
    target.symlink_to(secret)
    with pytest.raises(UnsafePath):
        store.path_for(planted, "png")
    with pytest.raises(UnsafePath):
        store.open(planted, "png")
    # A shard directory that is a symlink to the outside is refused too.
    outside = tmp_path / "outside"
    outside.mkdir()
    (store.root / "dd").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePath):
        store.path_for("d" * 64, "png")


# -- safe_join --------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> Path:
    root = tmp_path / "input"
    (root / "sub" / "dir").mkdir(parents=True)
    (root / "a.png").write_bytes(b"a")
    (root / "sub" / "dir" / "b.png").write_bytes(b"b")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link-out").symlink_to(tmp_path / "secret.txt")
    (root / "dir-out").symlink_to(tmp_path, target_is_directory=True)
    (root / "link-in").symlink_to(root / "a.png")
    return root


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("a.png",), "a.png"),
        (("", "a.png"), "a.png"),
        (("sub/dir", "b.png"), "sub/dir/b.png"),
        (("sub", "dir/b.png"), "sub/dir/b.png"),
        (("link-in",), "a.png"),  # a symlink that stays inside is fine
        (("100% cat.png",), "100% cat.png"),  # a literal percent sign that decodes to nothing odd
        (("new.png",), "new.png"),  # need not exist yet
    ],
)
def test_safe_join_accepts_plain_names(files: Path, parts: tuple[str, ...], expected: str) -> None:
    assert safe_join(files, *parts) == files.resolve() / expected


@pytest.mark.parametrize(
    "parts",
    [
        ("..",),
        ("../secret.txt",),
        ("sub/../../secret.txt",),
        ("sub", "../../secret.txt"),
        ("sub/..",),
        (".",),
        ("./a.png",),
        ("%2e%2e/secret.txt",),
        ("%2E%2E%2Fsecret.txt",),
        ("sub%2f..%2f..%2fsecret.txt",),
        ("%252e%252e/secret.txt",),  # double-encoded
        ("..%2fsecret.txt",),
        ("..%5csecret.txt",),
        ("/etc/passwd",),
        ("", "/etc/passwd"),
        ("//etc/passwd",),
        ("C:\\Windows\\win.ini",),
        ("C:secret.txt",),
        ("sub\\..\\..\\secret.txt",),
        ("a.png\x00.txt",),
        ("a.png%00.txt",),
        ("a\nb",),
        ("",),
        ((),),
        ("sub//dir/b.png",),
        ("sub/",),
        ("link-out",),
        ("dir-out/secret.txt",),
        ("sub", "..", "..", "secret.txt"),
    ],
)
def test_safe_join_refuses_everything_that_could_escape(
    files: Path, parts: tuple[object, ...]
) -> None:
    with pytest.raises(UnsafePath):
        safe_join(files, *parts)  # type: ignore[arg-type]


# -- uploads -----------------------------------------------------------------------------------


def test_a_png_upload_is_reencoded_without_trailing_bytes(store: ArtifactStore) -> None:
    clean = _image_bytes("PNG")
    sha, ext, width, height = store.ingest_upload(clean, "cat.png")
    assert (ext, width, height) == ("png", 32, 16)
    polyglot = clean + JUNK
    sha2, ext2, _, _ = store.ingest_upload(polyglot, "cat.png")
    stored = store.read_bytes(sha2, ext2)
    assert JUNK not in stored and b"script" not in stored
    assert sha2 == sha  # the same pixels, re-encoded the same way
    with Image.open(io.BytesIO(stored)) as image, Image.open(io.BytesIO(clean)) as original:
        assert image.format == "PNG" and image.tobytes() == original.convert("RGB").tobytes()


def test_metadata_is_stripped(store: ArtifactStore) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<svg onload=alert(1)>")
    png = _image_bytes("PNG", pnginfo=info)
    sha, ext, _, _ = store.ingest_upload(png)
    assert b"onload" not in store.read_bytes(sha, ext)
    exif = Image.Exif()
    exif[0x010E] = "<script>alert(1)</script>"  # ImageDescription
    exif[0x0112] = 6  # orientation: rotate 90 degrees
    jpeg = _image_bytes("JPEG", size=(40, 20), exif=exif.tobytes())
    sha, ext, width, height = store.ingest_upload(jpeg, "photo.jpg")
    data = store.read_bytes(sha, ext)
    assert (ext, width, height) == ("jpg", 20, 40)  # orientation applied, then dropped
    assert b"script" not in data and b"Exif" not in data


@pytest.mark.parametrize(
    ("fmt", "mode", "ext"),
    [
        ("WEBP", "RGB", "webp"),
        ("WEBP", "RGBA", "webp"),
        ("JPEG", "L", "jpg"),
        ("JPEG", "CMYK", "jpg"),
        ("GIF", "P", "png"),
        ("BMP", "RGB", "png"),
        ("TIFF", "RGBA", "png"),
        ("PNG", "LA", "png"),
        ("PNG", "I;16", "png"),
    ],
)
def test_accepted_formats_keep_or_become_png(
    store: ArtifactStore, fmt: str, mode: str, ext: str
) -> None:
    if mode in ("I;16", "CMYK", "LA"):
        data_image = Image.new(mode, (8, 8))
        buffer = io.BytesIO()
        data_image.save(buffer, format=fmt)
        data = buffer.getvalue()
    else:
        data = _image_bytes(fmt, size=(8, 8), mode=mode)
    sha, got_ext, width, height = store.ingest_upload(data, f"x.{fmt.lower()}")
    assert (got_ext, width, height) == (ext, 8, 8)
    with Image.open(store.path_for(sha, got_ext)) as image:
        image.load()


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "x.svg"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "x.png"),
        (b"<!doctype html><html><script>alert(1)</script></html>", "x.html"),
        (b"<!doctype html><html><script>alert(1)</script></html>", "x.png"),
        (b"GIF89a<script>alert(1)</script>", "x.gif"),
        (b"plain text", "x.txt"),
        (b"", "x.png"),
    ],
)
def test_non_images_are_refused(store: ArtifactStore, data: bytes, filename: str) -> None:
    with pytest.raises(RejectedUpload):
        store.ingest_upload(data, filename)
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_truncated_images_are_refused(store: ArtifactStore) -> None:
    png = _image_bytes("PNG", size=(64, 64))
    with pytest.raises(RejectedUpload):
        store.ingest_upload(png[: len(png) // 2], "x.png")


@pytest.mark.parametrize("size", [(100_000, 100_000), (9000, 9000), (20_000, 2)])
def test_decompression_bombs_are_refused_before_decoding(
    store: ArtifactStore, size: tuple[int, int]
) -> None:
    with pytest.raises(RejectedUpload, match=r"bomb|over the limit"):
        store.ingest_upload(_png_header_only(*size), "bomb.png")


def test_oversized_uploads_are_refused(store: ArtifactStore) -> None:
    from drivers.store.images import reencode_upload

    with pytest.raises(RejectedUpload, match="over the limit"):
        reencode_upload(_image_bytes("PNG"), max_bytes=10)


# -- thumbnails -------------------------------------------------------------------------------


def test_thumbnails_are_small_webp_artifacts_made_once(store: ArtifactStore) -> None:
    sha, _, _, _ = store.ingest_upload(_image_bytes("PNG", size=(600, 300)), "big.png")
    thumb = store.thumbnail(sha)
    assert store.locate(thumb) == "webp"
    with Image.open(store.path_for(thumb, "webp")) as image:
        assert image.size == (256, 128)
    marker = next((store.root / ".thumbs").rglob(f"{sha}.256"))
    before = marker.stat().st_mtime_ns
    assert store.thumbnail(sha) == thumb
    assert marker.stat().st_mtime_ns == before  # served from the cache
    small = store.thumbnail(sha, max_side=64)
    assert small != thumb
    with pytest.raises(ArtifactNotFound):
        store.thumbnail("e" * 64)
    with pytest.raises(ValueError, match="thumbnail"):
        store.thumbnail(store.put(b"{}", "json"))


def test_files_are_readable_by_others_and_written_atomically(store: ArtifactStore) -> None:
    sha = store.put(b"x", "json")
    assert os.stat(store.path_for(sha, "json")).st_mode & 0o777 == 0o644
