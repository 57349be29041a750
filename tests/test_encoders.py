"""Frame sinks for `artlang export`: sequence names, PNG16 / JPEG files, GIF / WebP / MP4 timing,
colours and frame counts read back by independent decoders (Pillow, ffmpeg), atomicity, contact
sheets and sidecars."""
from __future__ import annotations

import doctest
import io
import json
import os
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from artlang.output import encoders
from artlang.output.formats import FORMATS, format_for, sidecar_path
from artlang.output.encoders import AnimationWriter, SequenceWriter, contact_sheet, frame_name, write_sidecar
from artlang.core.errors import USAGE, ArtError
from artlang.kernels.pixels import to_8bit, to_16bit


@pytest.fixture
def ffmpeg():
    """imageio-ffmpeg, needed for MP4 and used as an independent decoder: skipped when missing,
    except under CI (a dependency of the package, so missing there is a failure)."""
    try:
        import imageio_ffmpeg
        imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as problem:
        if os.environ.get("CI"):
            pytest.fail(f"imageio-ffmpeg is needed: {problem}")
        pytest.skip(f"imageio-ffmpeg is missing: {problem}")
    return imageio_ffmpeg


def flat(colour, height=32, width=48) -> np.ndarray:
    image = np.empty((height, width, 4), np.float32)
    image[...] = (*colour, 1.0) if len(colour) == 3 else colour
    return image


def clip(count=12, height=32, width=48) -> list[np.ndarray]:
    """Frames whose left half is a flat colour that changes every frame (frame 0 bright orange)
    and whose right half is a moving gradient; frames 4 and 5 are identical."""
    x = np.linspace(0, 1, width // 2, dtype=np.float32)
    frames = []
    for k in range(count):
        image = flat((1.0, 0.5, 0.1) if k == 0 else (k / count, 0.3, 1 - k / count), height, width)
        image[:, width // 2:, 0] = (x + k / count) % 1
        image[:, width // 2:, 1] = x[::-1]
        frames.append(image)
    frames[5] = frames[4].copy()
    return frames


def encode(path, format, frames, fps=30, **options):
    with AnimationWriter(path, format, fps, (frames[0].shape[1], frames[0].shape[0]),
                         **options) as animation:
        for frame in frames:
            animation.add(frame)
    return path


def pillow_frames(path):
    """Every frame of an animated file as 8-bit RGBA, with its duration in ms."""
    picture = Image.open(path)
    frames = []
    for index in range(picture.n_frames):
        picture.seek(index)
        picture.load()
        frames.append((np.asarray(picture.convert("RGBA")), picture.info.get("duration")))
    return picture, frames


def test_docstring_examples_run():
    failures, tried = doctest.testmod(encoders, extraglobs={"np": np})
    assert tried > 0 and failures == 0


# -- names and formats -------------------------------------------------------------------------

@pytest.mark.parametrize("count, first, last", [(60, "glow_00.png", "glow_59.png"),
                                                (1000, "glow_000.png", "glow_999.png"),
                                                (1001, "glow_0000.png", "glow_1000.png"),
                                                (10, "glow_0.png", "glow_9.png"),
                                                (1, "glow_0.png", "glow_0.png")])
def test_frame_names_are_zero_padded_to_the_last_index(tmp_path, count, first, last):
    pattern = tmp_path / "out" / "glow.png"
    names = [frame_name(pattern, i, count) for i in range(count)]
    assert (names[0].name, names[-1].name) == (first, last)
    assert names[0].parent == pattern.parent
    assert sorted(names) == names and len(set(names)) == count


def test_hash_runs_give_the_users_width_and_must_be_wide_enough(tmp_path):
    assert frame_name("out/f_####.png", 7, 60).as_posix() == "out/f_0007.png"
    assert frame_name("f#.jpg", 9, 10).name == "f9.jpg"
    for pattern, count in [("f_##.png", 101), ("a#_#.png", 5)]:
        with pytest.raises(ArtError) as caught:
            frame_name(pattern, 0, count)
        assert caught.value.stage == USAGE and caught.value.diagnostics[0].hint
    with pytest.raises(ArtError):
        frame_name("glow.png", 60, 60)


def test_format_for_reads_the_extension_and_hints_at_the_known_ones():
    assert [format_for(f"x{e}") for e in (".png", ".jpg", ".JPEG", ".gif", ".webp", ".mp4")] == \
        ["png", "jpeg", "jpeg", "gif", "webp", "mp4"]
    assert format_for("x.png", bits=16) == "png16"
    with pytest.raises(ArtError) as caught:
        format_for("movie.avi")
    assert caught.value.stage == USAGE
    hint = caught.value.diagnostics[0].hint
    assert all(e in hint for f in FORMATS.values() if "export" in f.written_by for e in f.extensions)
    with pytest.raises(ArtError, match="unknown output format `.tif`"):
        format_for("poster.tif")                     # render writes TIFF, export does not
    with pytest.raises(ArtError):
        format_for("movie.mp4", bits=16)


def test_the_format_table_is_consistent():
    assert set(FORMATS) == {"png", "png16", "tiff", "jpeg", "gif", "webp", "mp4"}
    for name, entry in FORMATS.items():
        assert entry.name == name and entry.kind in ("sequence", "animation", "image") and entry.doc
        assert all(e.startswith(".") and e == e.lower() for e in entry.extensions)
        assert entry.sidecar == (entry.recipe == "sidecar") == (name not in ("png", "png16", "tiff"))
        assert entry.exact == (name in ("png", "png16", "tiff")) and entry.title
        assert (entry.kind == "image") == ("export" not in entry.written_by)
    assert {n for n, f in FORMATS.items() if f.kind == "animation"} == set(encoders._ENCODERS)


# -- sequences ---------------------------------------------------------------------------------

def test_png16_round_trip_is_exact(tmp_path, ffmpeg):
    rng = np.random.default_rng(1)
    image = rng.random((9, 7, 4), dtype=np.float32)
    image[0, 0] = (0, 0.5, 1, 0)
    writer = SequenceWriter(tmp_path / "deep.png", "png16", frame_count=3)
    writer.write(2, image, {"seed": "7", "note": "ünïcode"})
    path = writer.path_for(2)
    assert path.name == "deep_2.png"
    expected = to_16bit(image)

    picture = Image.open(path)                    # Pillow: 8-bit view of the 16-bit samples
    assert (picture.size, picture.mode, picture.tile[0].args) == ((7, 9), "RGBA", "RGBA;16B")
    assert picture.info["seed"] == "7" and picture.info["note"] == "ünïcode"
    assert np.array_equal(np.asarray(picture), (expected >> 8).astype(np.uint8))

    reader = ffmpeg.read_frames(str(path), pix_fmt="rgba64le", bpp=8)  # all 16 bits
    meta = next(reader)
    decoded = np.frombuffer(next(reader), "<u2").reshape(9, 7, 4)
    assert "rgba64" in meta["pix_fmt"] and np.array_equal(decoded, expected)

    opaque = image.copy()
    opaque[..., 3] = 1
    writer.write(0, opaque)
    assert Image.open(writer.path_for(0)).tile[0].args == "RGB;16B"


def test_png_sequence_uses_the_8bit_writer(tmp_path):
    writer = SequenceWriter(tmp_path / "f_###.png", "png", frame_count=20)
    image = flat((0.2, 0.4, 0.6, 0.5))
    writer.write(13, image, {"frame": "13"})
    picture = Image.open(tmp_path / "f_013.png")
    assert picture.info["frame"] == "13"
    assert np.array_equal(np.asarray(picture), to_8bit(image))


def test_jpeg_quality_subsampling_comment_and_reproducibility(tmp_path):
    y, x = np.mgrid[0:64, 0:64] / 64
    image = np.stack([x, y, (x * y) ** 0.5, np.ones_like(x)], axis=-1).astype(np.float32)
    image[:8, :8, 3] = 0.5                          # half-covered white over black -> mid grey
    image[:8, :8, :3] = 1
    sizes = {}
    for quality in (40, 95):
        writer = SequenceWriter(tmp_path / f"q{quality}.jpg", "jpeg", 2, quality=quality)
        writer.write(0, image, {"seed": "3"})
        writer.write(1, image, {"seed": "3"})
        first, second = writer.path_for(0), writer.path_for(1)
        assert first.read_bytes() == second.read_bytes()
        picture = Image.open(first)
        assert picture.mode == "RGB" and "exif" not in picture.info
        assert b"seed: 3" in picture.info["comment"]
        assert JpegImagePlugin.get_sampling(picture) == (0 if quality >= 90 else 2)
        pixels = np.asarray(picture) / 255
        assert np.abs(pixels[2:6, 2:6] - 0.5).max() < 0.05
        assert np.abs(pixels[16:, 16:] - image[16:, 16:, :3]).mean() < (0.03 if quality > 90
                                                                        else 0.06)
        sizes[quality] = first.stat().st_size
    assert sizes[40] < sizes[95]
    default = SequenceWriter(tmp_path / "d.jpg", "jpeg", 1)
    default.write(0, image)
    assert JpegImagePlugin.get_sampling(Image.open(default.path_for(0))) == 0   # 92: 4:4:4
    for format, quality in [("jpeg", 101), ("jpeg", 0), ("png", 90)]:
        with pytest.raises(ArtError) as caught:
            SequenceWriter(tmp_path / "bad.jpg", format, 1, quality=quality)
        assert caught.value.stage == USAGE


# -- GIF ---------------------------------------------------------------------------------------

def test_gif_frames_timing_loop_and_colours(tmp_path):
    frames = clip(30)
    frames[0][:4, :4, 3] = 0                        # a transparent corner on the first frame
    frames[20][10:14, 2:6, 3] = 0                   # and a hole later, after opaque frames
    path = encode(tmp_path / "clip.gif", "gif", frames, fps=30)
    picture, decoded = pillow_frames(path)
    assert len(decoded) == 30 and picture.info["loop"] == 0
    durations = [duration for _, duration in decoded]
    assert sum(durations) == 1000 and set(durations) == {30, 40}
    for index in (0, 1, 4, 5, 19, 20, 29):
        pixels, source = decoded[index][0] / 255, frames[index]
        opaque = source[..., 3] > 0.5
        assert np.array_equal(pixels[..., 3] > 0.5, opaque)        # transparent stays so
        left = opaque[:, :24]
        assert np.abs(pixels[:, :24][left][:, :3] - source[:, :24][left][:, :3]).max() < 0.02
        gradient = np.abs(pixels[:, 24:, :3] - source[:, 24:, :3])
        assert gradient.mean() < 0.03                               # dithered: close on average
        assert np.abs(pixels[:, 24:, :3].mean((0, 1)) - source[:, 24:, :3].mean((0, 1))).max() \
            < 0.01
    assert np.abs(decoded[0][0][8, 8, :3] / 255 - (1.0, 0.5, 0.1)).max() < 0.02   # first frame


def test_gif_durations_follow_fractional_rates_and_fast_rates_are_refused(tmp_path):
    frames = [flat((k / 7, 0.5, 0.5), 8, 8) for k in range(7)]
    for fps in (29.97, 12, 50, 7.5):
        _, decoded = pillow_frames(encode(tmp_path / "t.gif", "gif", frames, fps=fps))
        durations = [duration for _, duration in decoded]
        rate = encoders.frame_rate(fps)
        assert sum(durations) == 10 * int(Fraction(700) / rate + Fraction(1, 2))
        assert max(durations) - min(durations) <= 10 and min(durations) >= 20
    with pytest.raises(ArtError) as caught:
        AnimationWriter(tmp_path / "fast.gif", "gif", 60, (8, 8))
    assert caught.value.stage == USAGE and not list(tmp_path.glob(".fast*"))


def test_gif_loop_off_and_all_equal_frames(tmp_path):
    frames = [flat((0.3, 0.6, 0.9), 8, 8)] * 5
    picture, decoded = pillow_frames(encode(tmp_path / "still.gif", "gif", frames, loop=False))
    assert len(decoded) == 5 and "loop" not in picture.info
    assert all(np.abs(p[..., :3] / 255 - (0.3, 0.6, 0.9)).max() < 0.01 for p, _ in decoded)


# -- WebP --------------------------------------------------------------------------------------

def test_webp_lossless_round_trip_timing_and_loop(tmp_path):
    frames = clip(10)
    frames[0][:4, :4] = (0.2, 0.9, 0.4, 0.0)        # transparent, with a colour to keep
    frames[3][5:9, 5:9, 3] = 0.5
    path = encode(tmp_path / "clip.webp", "webp", frames, fps=24)
    picture, decoded = pillow_frames(path)
    assert len(decoded) == 10 and picture.info["loop"] == 0
    durations = [duration for _, duration in decoded]
    assert sum(durations) == round(10 * 1000 / 24) and set(durations) <= {41, 42}
    for (pixels, _), source in zip(decoded, frames):
        assert np.array_equal(pixels, to_8bit(source))


def test_webp_lossy_quality(tmp_path):
    rng = np.random.default_rng(5)
    frames = [flat((0, 0, 0), 48, 64) for _ in range(4)]
    for frame in frames:                            # soft texture: costly to keep exactly
        frame[..., :3] = np.kron(rng.random((12, 16, 3)), np.ones((4, 4, 1))) * 0.6 + \
            rng.random((48, 64, 3)) * 0.1
    sizes = [encode(tmp_path / f"{q}.webp", "webp", frames, quality=q).stat().st_size
             for q in (40, 90, 100)]
    assert sizes[0] < sizes[1] < sizes[2]
    for quality, tolerance in [(40, 0.08), (90, 0.04)]:
        _, decoded = pillow_frames(tmp_path / f"{quality}.webp")
        assert len(decoded) == 4
        assert all(np.abs(p / 255 - s).mean() < tolerance for (p, _), s in zip(decoded, frames))


# -- MP4 ---------------------------------------------------------------------------------------

def read_mp4(path):
    import imageio_ffmpeg
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    return meta, [np.frombuffer(f, np.uint8).reshape(height, width, 3) / 255 for f in reader]


def test_mp4_is_h264_yuv420p_with_exact_frames_and_colours(tmp_path, ffmpeg):
    frames = clip(24)
    path = encode(tmp_path / "clip.mp4", "mp4", frames, fps=30)
    meta, decoded = read_mp4(path)
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    assert "bt709" in meta["pix_fmt"]
    assert meta["fps"] == 30 and meta["size"] == (48, 32) and len(decoded) == 24
    assert abs(meta["duration"] - 24 / 30) < 0.01
    for index in (0, 4, 5, 23):                     # a black or missing first frame fails here
        left = decoded[index][:, :20].mean((0, 1))
        assert np.abs(left - frames[index][:, :20, :3].mean((0, 1))).max() < 0.03
        assert np.abs(decoded[index] - frames[index][..., :3]).mean() < 0.03
    head = path.read_bytes()[:64]                   # faststart: the index before the data
    assert head.index(b"moov") < head.index(b"mdat") if b"mdat" in head else b"moov" in head


def test_mp4_bytes_are_reproducible_and_quality_is_the_crf(tmp_path, ffmpeg):
    frames = clip(8)
    first = encode(tmp_path / "a.mp4", "mp4", frames).read_bytes()
    assert first == encode(tmp_path / "b.mp4", "mp4", frames).read_bytes()
    assert first == encode(tmp_path / "c.mp4", "mp4", frames, quality=18).read_bytes()
    assert encode(tmp_path / "d.mp4", "mp4", frames, quality=40).stat().st_size < len(first)
    with pytest.raises(ArtError):
        AnimationWriter(tmp_path / "e.mp4", "mp4", 30, (48, 32), quality=52)


def test_mp4_odd_size_fractional_rate_and_alpha_over_black(tmp_path, ffmpeg):
    frames = [flat((0.9, 0.4, 0.1, 0.5), 21, 33) for _ in range(6)]
    frames[0][:, -1, :3] = (0.1, 0.8, 0.2)          # the last column repeats into the padding
    frames[0][:, -1, 3] = 1
    meta, decoded = read_mp4(encode(tmp_path / "odd.mp4", "mp4", frames, fps=29.97))
    assert meta["size"] == (34, 22) and len(decoded) == 6
    assert abs(meta["fps"] - 29.97) < 0.01 and abs(meta["duration"] - 6 * 1001 / 30000) < 0.01
    assert np.abs(decoded[1][5:15, 5:25].mean((0, 1)) - (0.45, 0.2, 0.05)).max() < 0.03
    assert np.abs(decoded[0][5:15, -1] - (0.1, 0.8, 0.2)).mean() < 0.1
    assert np.abs(decoded[0][-1, 5:25] - decoded[0][-2, 5:25]).mean() < 0.03


# -- atomicity ---------------------------------------------------------------------------------

@pytest.mark.parametrize("format", ["gif", "webp", "mp4"])
def test_abort_leaves_nothing_and_keeps_an_existing_file(tmp_path, format, request):
    if format == "mp4":
        request.getfixturevalue("ffmpeg")
    path = tmp_path / f"anim.{format}"
    animation = AnimationWriter(path, format, 10, (16, 8))
    animation.add(flat((1, 0, 0), 8, 16))
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []
    animation.abort()
    assert list(tmp_path.iterdir()) == []

    path.write_bytes(b"old")
    with pytest.raises(ZeroDivisionError):
        with AnimationWriter(path, format, 10, (16, 8)) as animation:
            animation.add(flat((1, 0, 0), 8, 16))
            raise ZeroDivisionError
    assert [p.name for p in tmp_path.iterdir()] == [path.name] and path.read_bytes() == b"old"

    with pytest.raises(ArtError):                   # a frame of the wrong size
        with AnimationWriter(path, format, 10, (16, 8)) as animation:
            animation.add(flat((1, 0, 0), 9, 16))
    with pytest.raises(ArtError):                   # no frames at all
        AnimationWriter(path, format, 10, (16, 8)).close()
    assert [p.name for p in tmp_path.iterdir()] == [path.name] and path.read_bytes() == b"old"


# -- contact sheets and sidecars ---------------------------------------------------------------

def test_contact_sheet_places_each_image_in_reading_order(tmp_path):
    colours = [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, 1)]
    images = [flat(c, 40, 60) for c in colours]
    labels = [f"seed {i}, scale 2.5" for i in range(5)]
    sheet = contact_sheet(images, labels, columns=3, cell=30)
    assert sheet.dtype == np.float32 and sheet.shape[2] == 4
    assert np.array_equal(sheet, contact_sheet(images, labels, columns=3, cell=30))
    boxes = []
    for colour in colours:
        ys, xs = np.nonzero(np.abs(sheet[..., :3] - colour).max(axis=2) < 1e-6)
        assert (ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) == (20, 30)   # 60x40 -> 30x20
        assert len(ys) == 20 * 30                                               # one rectangle
        boxes.append((ys.min(), xs.min()))
    assert boxes[0][0] == boxes[1][0] == boxes[2][0] < boxes[3][0] == boxes[4][0]
    assert boxes[0][1] == boxes[3][1] < boxes[1][1] == boxes[4][1] < boxes[2][1]
    pitch = boxes[3][0] - boxes[0][0]
    caption = sheet[boxes[0][0] + 20:boxes[0][0] + pitch, boxes[0][1]:boxes[0][1] + 30]
    assert (caption[..., 0] > 0.5).sum() > 10                           # text under the cell
    unlabelled = contact_sheet(images, columns=3, cell=30)
    assert unlabelled.shape[0] < sheet.shape[0]


def test_contact_sheet_keeps_size_without_cell_and_composites_alpha():
    images = [flat((1, 1, 1, 0.5), 10, 10), flat((0, 0, 0), 10, 10)]
    sheet = contact_sheet(images, background=(0, 0, 0, 1))
    assert np.sum(np.isclose(sheet[..., 0], 0.5)) == 100 and np.all(sheet[..., 3] == 1)


def test_sidecar_json_is_sorted_and_written_atomically(tmp_path):
    target = tmp_path / "clip.mp4"
    written = write_sidecar(target, {"seed": 3, "fps": 30, "params": {"b": 1, "a": 2}})
    assert written == sidecar_path(target) == tmp_path / "clip.mp4.json"
    text = written.read_text()
    assert json.loads(text)["params"] == {"a": 2, "b": 1}
    assert text.index('"fps"') < text.index('"params"') < text.index('"seed"')
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4.json"]


def test_png16_encoder_matches_the_8bit_one_in_layout():
    image = np.random.default_rng(2).random((5, 6, 4), dtype=np.float32)
    from artlang.output.writers import encode_png_fast
    eight = Image.open(io.BytesIO(encode_png_fast(image)))
    sixteen = Image.open(io.BytesIO(encode_png_fast(image, bits=16)))
    assert eight.size == sixteen.size and eight.mode == sixteen.mode == "RGBA"
    assert np.abs(np.asarray(eight).astype(int) - np.asarray(sixteen)).max() <= 1
