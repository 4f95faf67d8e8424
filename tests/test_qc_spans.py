"""The picture checks through the span cache: the same report as a whole pass, and only changed spans decoded."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import av
import pytest

from sora_cli import api
from sora_cli.plan.resolve import make_plan
from sora_cli.qc import load_profile, profile_for, run_qc
from sora_cli.qc.spans import measure_film
from sora_cli.storyboard import load_storyboard
from tests.test_qc import FFMPEG, NO_C2PA, RATE, TAGS, TONE

SPAN = 5  # frames between keyframes in the synthetic films: every check crosses span edges


def short_gop_film(path: Path, video: str, source: str = "testsrc2", rate: int = RATE) -> Path:
    """An ffmpeg film (not sora's) with an IDR frame every :data:`SPAN` frames and no B-frames."""
    chain = f"{source}{':' if '=' in source else '='}size=160x90:rate={rate}:duration=3,{video}"
    chain += ",setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
    cmd = [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", chain, "-f", "lavfi", "-i", TONE]
    cmd += ["-t", "3", "-ac", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-bf", "0", "-g", str(SPAN)]
    cmd += ["-keyint_min", str(SPAN), "-x264-params", "scenecut=0", "-c:a", "aac", *TAGS, "-movflags", "+faststart"]
    cmd.append(str(path))
    subprocess.run(cmd, check=True)
    return path


def entries(cache: Path) -> set[Path]:
    return set(cache.rglob("*.npz"))


@pytest.mark.parametrize(
    ("name", "video", "source", "rate", "failing"),
    [
        ("frozen", f"split[a][b];[a][b]freezeframes=first={RATE}:last={2 * RATE}:replace={RATE}", "testsrc2", RATE,
         "picture.freeze"),
        ("black", "drawbox=t=fill:c=black:enable='between(t,1,2)'", "testsrc2", RATE, "picture.black"),
        ("flash", "drawbox=t=fill:c=black:enable='between(t,1,2)*eq(mod(n,2),1)'", "color=c=white", 20,
         "picture.flashes"),
        ("hot", "lutyuv=y=250", "testsrc2", RATE, "picture.legal_range"),
    ],
)  # fmt: skip
def test_cached_and_uncached_checks_give_the_same_report(tmp_path, name, video, source, rate, failing):
    """Each film fails one picture check whose run crosses span edges; cold, warm and uncached agree."""
    film = short_gop_film(tmp_path / f"{name}.mp4", video, source, rate)
    (tmp_path / "p.yaml").write_text("base: web\n" + NO_C2PA)
    profile = load_profile(str(tmp_path / "p.yaml"))
    cache = tmp_path / "spans"
    whole = run_qc(film, profile).to_json()
    cold = run_qc(film, profile, cache=cache).to_json()
    made = entries(cache / "spans")
    warm = run_qc(film, profile, cache=cache).to_json()
    with av.open(str(film)) as container:
        keyframes = sum(p.is_keyframe for p in container.demux(container.streams.video[0]) if p.size)
    assert keyframes > 3 and 0 < len(made) <= keyframes  # an entry per span (identical spans share one)
    ranges = (profile.picture.luma_range, profile.picture.chroma_range)
    assert measure_film(film, ranges, cache / "spans") is not None  # the cache path was taken
    assert entries(cache / "spans") == made  # the warm pass measured nothing new
    assert len(entries(cache / "audio")) == 1
    assert json.dumps(cold) == json.dumps(whole) == json.dumps(warm)
    failed = {c["id"] for c in whole["checks"] if not c["passed"]}
    assert failing in failed


def test_a_film_with_b_frames_is_measured_whole(tmp_path):
    """Spans need IDR keyframes and no B-frames; any other stream goes the whole-film way (no entries)."""
    film = tmp_path / "b.mp4"
    cmd = [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=12:d=2"]
    subprocess.run([*cmd, "-c:v", "libx264", "-bf", "2", "-g", "6", "-pix_fmt", "yuv420p", str(film)], check=True)
    spec = load_profile("web").picture
    assert measure_film(film, (spec.luma_range, spec.chroma_range), tmp_path / "spans") is None
    assert not entries(tmp_path / "spans")


STORYBOARD = """\
version: 1
title: Spans
output: {width: 192, height: 108, fps: 12}
world:
  location: "a city street"
  characters:
    kim: {description: "courier in green"}
shots:
  - {id: one, duration: 1.5, cast: [kim], camera: {move: pan_left}}
  - {id: two, duration: 1.5, cast: [kim], camera: {move: static}, transition: {type: crossfade, duration: 0.5}}
  - {id: three, duration: 1.5, cast: [kim], camera: {move: pan_right}}
"""


def test_a_re_render_after_a_one_shot_edit_measures_that_shot_and_its_edges_only(tmp_path):
    """The render's report equals an uncached check of the film, before and after editing one shot."""
    sb = tmp_path / "spans.yaml"
    sb.write_text(STORYBOARD)
    cache = tmp_path / ".sora-cache" / "qc" / "spans"
    first = api.render(api.RenderRequest(sb, jobs=1))
    before = entries(cache)
    sb.write_text(STORYBOARD.replace("move: pan_right", "move: zoom_in"))
    second = api.render(api.RenderRequest(sb, jobs=1))
    new = entries(cache) - before
    film = Path(second["output"]["file"])
    with av.open(str(film)) as container:
        keyframes = [i for i, p in enumerate(container.demux(container.streams.video[0])) if p.size and p.is_keyframe]
    plan = make_plan(load_storyboard(sb), None)
    three = plan.shot("three")
    spans_of_three = sum(1 for i in keyframes if i >= three.start_frame)
    assert 0 < len(new) <= spans_of_three  # the edited last shot (after a cut): nothing before it again
    assert first["qc"]["checks"] and second["qc"]["checks"]
    # the soundtrack, measured as soon as it was mixed, is the film's audio: one measurement, found by the checks
    assert len(entries(tmp_path / ".sora-cache" / "qc" / "audio")) == 1
    # the same report as a whole pass over the published film (the render named its staged sidecars by their
    # final names, as the checks beside the film name them)
    uncached = run_qc(film, profile_for(None, plan), plan).to_json()["checks"]
    rendered = second["qc"]["checks"]
    assert json.dumps(uncached) == json.dumps(rendered)
    assert any(c["id"] == "picture.freeze" for c in rendered)


def measured_hot_film(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A film that fails picture.legal_range, its profile, a check cache holding its measures, its uncached report."""
    film = short_gop_film(tmp_path / "hot.mp4", "lutyuv=y=250")
    (tmp_path / "p.yaml").write_text("base: web\n" + NO_C2PA)
    profile = load_profile(str(tmp_path / "p.yaml"))
    cache = tmp_path / "qc"
    whole = json.dumps(run_qc(film, profile).to_json())
    run_qc(film, profile, cache=cache)
    return film, profile, cache, whole


def _forge(entry: Path, keyed: bool, **changes) -> None:
    """Rewrite a stored measurement and seal it again (with or without this user's key)."""
    import numpy as np

    from sora_cli import digests

    with np.load(entry) as data:
        arrays = {k: data[k] for k in data.files}
    arrays.update(changes)
    np.savez(entry.with_suffix(".tmp.npz"), **arrays)
    entry.with_suffix(".tmp.npz").replace(entry)
    digests.seal(entry, keyed=keyed)


def test_a_forged_or_malformed_measurement_is_a_miss_never_a_pass_or_a_crash(tmp_path, capsys, monkeypatch):
    """An entry sealed without this user's key (anyone can write a plain digest record) is not trusted:
    zeroed measures of a failing film would otherwise pass it. A keyed entry that does not hold together
    is a miss too, not an internal error. Either way the report is the uncached one. Entries sealed with
    another key are warned of once (a cache restored on a fresh CI runner holds dozens)."""
    import numpy as np

    from sora_cli import digests

    monkeypatch.setattr(digests, "_unsealed_said", False)

    film, profile, cache, whole = measured_hot_film(tmp_path)
    spans = sorted(entries(cache / "spans"))
    for entry in spans:  # a clean film's measures, sealed as anyone could
        with np.load(entry) as data:
            frames = len(data["black"])
        _forge(entry, keyed=False, share=np.zeros(frames), black=np.zeros(frames, bool))
    (sound,) = entries(cache / "audio")
    _forge(sound, keyed=False, scalars=np.asarray([-14.0, 1.0, 0.1, 1.0, np.nan]))
    assert len(spans) > 1 and json.dumps(run_qc(film, profile, cache=cache).to_json()) == whole
    assert capsys.readouterr().err.count("not sealed with this user's cache key") == 1
    for entry in sorted(entries(cache / "spans"))[:1]:  # keyed, but its columns do not fit together
        _forge(entry, keyed=True, black=np.zeros(1, bool))
    (sound,) = entries(cache / "audio")
    _forge(sound, keyed=True, peaks=np.zeros((2, 2)))
    assert json.dumps(run_qc(film, profile, cache=cache).to_json()) == whole
    assert "cannot be read" in capsys.readouterr().err


def test_broken_records_keys_and_oversized_entries_are_misses(tmp_path, monkeypatch, capsys):
    """A record with an infinite size, a span entry sealed with the key but measuring another number of
    frames, an entry that would inflate past its shape, an unusable cache key: each a miss, never a crash."""
    import numpy as np

    from sora_cli import digests

    film, profile, cache, whole = measured_hot_film(tmp_path)
    first, second, third, *_ = sorted(entries(cache / "spans"))
    record = digests.record_path(first)
    record.write_text(record.read_text().replace('"bytes": ', '"bytes": 1e999, "was": '))
    _forge(second, keyed=True, black=np.zeros(1, bool), frozen=np.zeros(1, bool), share=np.zeros(1),
           interlaced=np.zeros(1, bool), cells=np.zeros(0, np.uint8))  # fmt: skip
    _forge(third, keyed=True, cells_shape=np.asarray([1 << 20, 1 << 20]))
    assert json.dumps(run_qc(film, profile, cache=cache).to_json()) == whole
    monkeypatch.setenv("SORA_CONFIG_DIR", str(tmp_path / "config"))
    (tmp_path / "config" / "cache.key").mkdir(parents=True)  # a folder where the key belongs
    digests._secret.cache_clear()
    assert json.dumps(run_qc(film, profile, cache=cache).to_json()) == whole
    assert "Traceback" not in capsys.readouterr().err


def test_the_checks_thread_does_the_renders_early_work_before_its_measures(tmp_path):
    """A transition (early work: the assembly waits for it) handed over after two shots' measures runs first;
    the measures keep their order (the checks wait for them only at the end)."""
    from sora_cli.qc.ahead import Ahead, _Item

    ahead = Ahead(tmp_path, ((16, 235), (16, 240)))
    ran: list[str] = []
    ahead._submit(_Item(ran.append, ("measure 1",), False))
    ahead._submit(_Item(ran.append, ("measure 2",), False))
    ahead.early(ran.append, "transition")
    last = _Item(ran.append, ("measure 3",), False)
    ahead._submit(last)
    ahead.start()
    assert last.done.wait(60)
    ahead.finish()
    assert ran == ["transition", "measure 1", "measure 2", "measure 3"]


def test_two_checks_threads_work_at_once_and_settle_waits_for_the_early_work_under_way(tmp_path):
    """Once the render has nothing else to wait for, a transition and a shot's measures run side by side;
    ``settle`` returns only when the transition under way is done, ``finish`` when both threads have ended."""
    import threading

    from sora_cli.qc.ahead import Ahead, _Item

    ahead = Ahead(tmp_path, ((16, 235), (16, 240)))
    both = threading.Barrier(2, timeout=60)  # each piece waits until the other runs too: one thread would hang
    began = threading.Barrier(3, timeout=60)  # (and the test goes on once both have begun)
    made: list[str] = []

    def piece(name: str) -> None:
        began.wait()
        both.wait()
        if name == "transition":
            time.sleep(0.05)  # (still under way when settle is called: it must wait, not find it done)
        made.append(name)

    measure = _Item(piece, ("measured",), False)
    ahead._submit(measure)
    ahead.early(piece, "transition")
    ahead.start(2)
    began.wait()
    ahead.settle()
    assert "transition" in made
    assert measure.done.wait(60)
    ahead.finish()
    assert sorted(made) == ["measured", "transition"] and not ahead._threads


def test_every_read_of_a_cached_measure_holds_the_array_lock(tmp_path, monkeypatch):
    """numpy parses each array header with ``ast.literal_eval``, which two threads of CPython 3.11 must not
    run at once (gh-106905: "AST constructor recursion depth mismatch", an internal error seen in a render
    whose checks read their cache from two threads): every read of a measure goes through one lock."""
    import numpy as np

    from sora_cli import npz

    film = short_gop_film(tmp_path / "film.mp4", "null")
    (tmp_path / "p.yaml").write_text("base: web\n" + NO_C2PA)
    profile = load_profile(str(tmp_path / "p.yaml"))
    run_qc(film, profile, cache=tmp_path / "cache")
    real, reads = np.load, []

    def load(*args, **kwargs):  # type: ignore[no-untyped-def]
        reads.append(npz.LOCK.locked())
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "load", load)
    run_qc(film, profile, cache=tmp_path / "cache")  # (every span and the sound read back)
    assert len(reads) > 3 and all(reads)


def test_the_flash_analysis_takes_the_cells_as_they_come_and_the_film_keeps_none(tmp_path, monkeypatch):
    """Cells go to the flash analysis span by span (or frame by frame), in chunks counted from the film's
    start: chunks ending inside spans give the same report, and the film's joined measures hold no cells."""
    from sora_cli.qc import picture

    video = "drawbox=t=fill:c=black:enable='between(t,1,2)*eq(mod(n,2),1)'"
    film = short_gop_film(tmp_path / "flash.mp4", video, "color=c=white", 20)
    (tmp_path / "p.yaml").write_text("base: web\n" + NO_C2PA)
    profile = load_profile(str(tmp_path / "p.yaml"))
    whole = run_qc(film, profile).to_json()
    assert "picture.flashes" in {c["id"] for c in whole["checks"] if not c["passed"]}
    monkeypatch.setattr(picture, "CHUNK", 7)  # (spans are 5 frames: chunks end inside them)
    for cache in (None, tmp_path / "cache", tmp_path / "cache"):  # whole pass, cold spans, warm spans
        assert json.dumps(run_qc(film, profile, cache=cache).to_json()) == json.dumps(whole)
    fed: list[int] = []
    ranges = (profile.picture.luma_range, profile.picture.chroma_range)
    spans = measure_film(film, ranges, tmp_path / "cache" / "spans", lambda times, cells: fed.append(len(cells)))
    assert spans is not None
    assert spans[0].cells == [] and sum(fed) == spans[0].frames == 60 and len(fed) == 60 // SPAN


def test_the_per_frame_counts_are_the_plain_numpy_counts():
    """OpenCV counts out-of-range and changed samples in one pass each; the counts are numpy's, exactly,
    on padded views of a decoder's buffer (rows longer than the picture), odd sizes and values at the limits."""
    import numpy as np

    from sora_cli.qc.measure import FREEZE_DIFF, FREEZE_SAMPLES, FREEZE_SHARE, REPEAT_BAND, _outside, repeats

    rng = np.random.default_rng(5)
    for height, width in [(720, 1280), (9, 7), (1, 1), (361, 641)]:
        padded = rng.integers(0, 256, (height, width + 64), dtype=np.uint8)
        for plane in (padded[:, :width], np.clip(padded[:, :width], 16, 235), np.full((height, width), 235, np.uint8)):
            outside = np.count_nonzero((plane < 16) | (plane > 235)) / plane.size
            assert _outside([plane], (16, 235)) == outside
            assert _outside([plane, plane[: height // 2 + 1]], (16, 240)) == (
                np.count_nonzero((plane < 16) | (plane > 240)) + np.count_nonzero((plane[: height // 2 + 1] < 16) | (plane[: height // 2 + 1] > 240))
            ) / (plane.size + plane[: height // 2 + 1].size)  # fmt: skip
            for changed in (0, 1, FREEZE_SAMPLES - 1, FREEZE_SAMPLES, 50):
                other = plane.copy()
                spots = rng.choice(plane.size, min(changed, plane.size), replace=False)
                other.flat[spots] = np.where(plane.flat[spots] > 127, plane.flat[spots] - FREEZE_DIFF - 1, plane.flat[spots] + FREEZE_DIFF + 1)
                other.flat[spots[: len(spots) // 2]] = plane.flat[spots[: len(spots) // 2]] + np.uint8(FREEZE_DIFF) * (plane.flat[spots[: len(spots) // 2]] < 128)  # exactly at the noise: unchanged
                count = np.count_nonzero(np.abs(other.astype(int) - plane.astype(int)) > FREEZE_DIFF)
                assert repeats(other, plane) == (count < max(1.0, min(FREEZE_SAMPLES, FREEZE_SHARE * plane.size)))
        # changes gathered in the last rows, or one per band across the bands (counted band by band, then summed)
        plane = padded[:, :width]
        for rows in ([height - 1], list(range(0, height, REPEAT_BAND))):
            for changed in (FREEZE_SAMPLES - 1, FREEZE_SAMPLES):
                other = plane.copy()
                for k in range(changed):
                    r, c = rows[k % len(rows)], (k // len(rows)) % width
                    other[r, c] = plane[r, c] - FREEZE_DIFF - 1 if plane[r, c] > 127 else plane[r, c] + FREEZE_DIFF + 1
                count = np.count_nonzero(np.abs(other.astype(int) - plane.astype(int)) > FREEZE_DIFF)
                assert repeats(other, plane) == (count < max(1.0, min(FREEZE_SAMPLES, FREEZE_SHARE * plane.size)))


def _planes_of_every_sum(high: int, wide: int, near: int | None = None):  # type: ignore[no-untyped-def]
    """Planes of ``high`` x ``wide`` cells whose cells, together, add up to every sum from 0 to 255 * area.

    One plane of ``area`` cells holding 0..area-1 samples at 1 (sums 0..area-1), then the same plane with
    1..255 added to every sample (saturating): sums q * area + 0..area-1, and 255 * area. With ``near``,
    only the sums that far at most from a whole mean or a half (where a rounding can go either way).
    """
    import numpy as np

    area = high * wide
    ones = np.arange(area)
    if near is not None:
        ones = ones[np.minimum.reduce([ones, area - ones, abs(2 * ones - area) // 2]) <= near]
    rows = int(np.ceil(np.sqrt(len(ones))))
    cols = -(-len(ones) // rows)
    ones = np.resize(ones, rows * cols)
    cells = (np.arange(area)[None, :] < ones[:, None]).astype(np.uint8).reshape(rows, cols, high, wide)
    base = np.ascontiguousarray(cells.transpose(0, 2, 1, 3)).reshape(rows * high, cols * wide)
    for q in range(256):
        yield rows, cols, np.minimum(base.astype(np.uint16) + q, 255).astype(np.uint8)


def test_the_cells_are_opencvs_area_means_exactly():
    """The flash analysis's cells, summed by numpy where the plane splits evenly, are OpenCV's INTER_AREA
    resize to the sample: on random planes of every kind of size (even splits, uneven ones, 2x2 cells that
    OpenCV rounds its own way, padded decoder rows), and for every sum a cell of a 1280x720 or 1920x1080
    frame's luma (40x40 samples) or chroma (20x20, 30x30) can hold; for a 1080p luma cell (60x60: 3.3 G
    samples for all its sums, 4 s) every sum within 64 of a whole mean or a half."""
    import cv2
    import numpy as np

    from sora_cli.qc.measure import GRID, cell_means

    def opencv(plane, rows, cols):  # type: ignore[no-untyped-def]
        return cv2.resize(plane, (cols, rows), interpolation=cv2.INTER_AREA)

    rng = np.random.default_rng(7)
    rows, cols = GRID
    sizes = [(720, 1280), (1280, 720), (2160, 4096), (64, 64), (1080, 1920), (540, 960), (360, 640), (36, 64), (108, 192)]
    sizes += [(722, 1280), (720, 1282), (100, 90), (18, 32), (20, 33), (4086, 4064), (2034, 2048)]
    for height, width in sizes:
        padded = rng.integers(0, 256, (height, width + 32), dtype=np.uint8)
        for plane in (padded[:, :width], np.ascontiguousarray(padded[:, :width]), np.full((height, width), 255, np.uint8)):
            r, c = min(rows, height), min(cols, width)
            assert np.array_equal(cell_means(plane, r, c), opencv(plane, r, c)), (height, width)
    for high, wide, near in [(40, 40, None), (20, 20, None), (30, 30, None), (60, 60, 64), (2, 2, None), (2, 1, None), (3, 3, None)]:
        for r, c, plane in _planes_of_every_sum(high, wide, near):
            assert np.array_equal(cell_means(plane, r, c), opencv(plane, r, c)), (high, wide)


def test_a_stored_luma_is_inflated_only_as_far_as_it_is_read_and_a_bad_one_is_a_miss(tmp_path, capsys):
    """Joining cached spans reads their edge lumas by bands: a moving picture inflates only its first band.
    A keyed entry whose luma is shorter, longer or not deflate data at all is discarded where that shows,
    and the film is measured whole: the report is the uncached one, never an internal error."""
    import shutil
    import zlib

    import numpy as np

    from sora_cli.qc import spans
    from sora_cli.qc.measure import REPEAT_BAND

    film, profile, cache, whole = measured_hot_film(tmp_path)
    stored = sorted(entries(cache / "spans"))
    loaded = [spans._load(entry) for entry in stored]
    assert all(m is not None for m in loaded)
    luma = loaded[0].first  # type: ignore[union-attr]
    height, width = luma.shape
    with np.load(stored[0]) as data:
        plane = np.frombuffer(zlib.decompress(data["first"].tobytes()), np.uint8).reshape(height, width)
    assert np.array_equal(luma[0:10], plane[:10]) and luma._have == 10 * width  # only the rows read
    assert np.array_equal(luma[0:height], plane) and np.array_equal(luma[REPEAT_BAND : height + 9], plane[REPEAT_BAND:])
    faults = [
        zlib.compress(plane.tobytes()[:-1]),  # a sample short
        zlib.compress(plane.tobytes() + b"\0"),  # a sample over
        np.frombuffer(b"not deflate data" * 64, np.uint8),
    ]
    for fault in faults:
        shutil.rmtree(cache / "spans")
        run_qc(film, profile, cache=cache)  # every span measured afresh
        capsys.readouterr()
        for entry in entries(cache / "spans"):
            _forge(entry, keyed=True, first=np.frombuffer(fault, np.uint8), last=np.frombuffer(fault, np.uint8))
        assert json.dumps(run_qc(film, profile, cache=cache).to_json()) == whole
        err = capsys.readouterr().err
        assert "cannot be read" in err and "Traceback" not in err
