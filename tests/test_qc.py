"""`sora qc`: synthetic films that fail one check each (and films that pass), measured against
independent meters (the shipped ffmpeg's ebur128, blackdetect, freezedetect, signalstats)."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from sora_cli import api
from sora_cli.plan.resolve import make_plan
from sora_cli.profiles import PROFILES, ProfileError
from sora_cli.qc import load_profile
from sora_cli.render import watermark
from sora_cli.storyboard import parse_storyboard
from tests.conftest import EXAMPLES, MINIMAL, problems_of, run_cli

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
SIZE = "160x90"
RATE = 12
#: a 997 Hz tone at -14 dBFS in both channels: -14 LUFS, -14 dBTP (BS.1770's calibration)
TONE = "sine=frequency=997:sample_rate=48000,pan=stereo|c0=c0|c1=c0,volume=4.06dB"
TAGS = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv"]
NO_C2PA = "container: {c2pa: false}\n"


def make_film(
    path: Path,
    video: str = "",
    audio: str = TONE,
    seconds: float = 3.0,
    rate: int = RATE,
    size: str = SIZE,
    tags: bool = True,
    source: str = "testsrc2",
) -> Path:
    """A film made by ffmpeg, not by sora: a moving test pattern (plus ``video`` filters) and a tone."""
    joiner = ":" if "=" in source else "="
    chain = f"{source}{joiner}size={size}:rate={rate}:duration={seconds}" + (f",{video}" if video else "")
    if tags:
        chain += ",setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
    cmd = [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", chain]
    cmd += ["-f", "lavfi", "-i", audio]
    cmd += ["-t", str(seconds), "-ac", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k"]
    cmd += [*(TAGS if tags else []), "-movflags", "+faststart", str(path)]
    subprocess.run(cmd, check=True)
    return path


@pytest.fixture(scope="module")
def films(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("films")


@pytest.fixture(scope="module")
def lenient(films) -> Path:
    """The web profile without the C2PA requirement (ffmpeg's films carry no manifest)."""
    path = films / "lenient.yaml"
    path.write_text("base: web\n" + NO_C2PA)
    return path


@pytest.fixture(scope="module")
def clean(films) -> Path:
    """A film that passes every check of the lenient profile."""
    return make_film(films / "clean.mp4")


def qc_json(film: Path, *args: str) -> tuple[int, dict]:
    result = run_cli("qc", str(film), "--json", *args)
    assert result.code in (0, 3), result.stderr
    return result.code, json.loads(result.stdout)


def check(report: dict, check_id: str) -> dict:
    return next(c for c in report["checks"] if c["id"] == check_id)


def ebur128(film: Path) -> tuple[float, float]:
    """Integrated loudness and true peak by the shipped ffmpeg's ebur128=peak=true."""
    cmd = [
        FFMPEG,
        "-hide_banner",
        "-nostats",
        "-i",
        str(film),
        "-map",
        "0:a",
        "-af",
        "ebur128=peak=true:framelog=quiet",
    ]
    out = subprocess.run([*cmd, "-f", "null", "-"], capture_output=True, text=True).stderr
    summary = out[out.rfind("Summary:") :]
    loudness = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return loudness, peak


def test_a_clean_film_passes_and_exits_0(clean, lenient):
    code, report = qc_json(clean, "--profile", str(lenient))
    assert code == 0 and report["passed"], [c for c in report["checks"] if not c["passed"]]
    assert report["profile"] == "lenient"
    assert api.qc(clean, str(lenient)).to_json() == report  # the Python API gives what the CLI prints
    assert {c["id"] for c in report["checks"]} >= {
        "audio.loudness", "audio.true_peak", "audio.silence", "picture.black", "picture.freeze",
        "picture.legal_range", "picture.flashes", "picture.red_flashes", "container.moov_first",
        "container.colour", "container.c2pa",
    }  # fmt: skip


def test_qc_agrees_with_ebur128_on_a_film_sora_did_not_make(films):
    film = make_film(
        films / "foreign.mp4",
        audio="sine=frequency=997:sample_rate=48000,volume=-3dB,aeval=val(0)*(0.6+0.4*sin(2*PI*0.7*t))|val(0)",
        seconds=5,
    )
    _, report = qc_json(film)
    loudness, peak = ebur128(film)
    assert abs(check(report, "audio.loudness")["value"] - loudness) <= 0.1
    assert abs(check(report, "audio.true_peak")["value"] - peak) <= 0.1
    assert not check(report, "container.c2pa")["passed"]  # ffmpeg's film has no manifest


def test_clipped_tone_fails_true_peak_at_its_time(films, lenient):
    film = make_film(films / "clipped.mp4", audio=f"{TONE},volume=30dB:enable='between(t,1.5,2)'")
    code, report = qc_json(film, "--profile", str(lenient))
    peak = check(report, "audio.true_peak")
    assert code == 3 and not peak["passed"] and peak["value"] > -1.0
    assert peak["at"] and all(1.3 <= t <= 2.1 for t in peak["at"])
    assert abs(peak["value"] - ebur128(film)[1]) <= 0.2
    result = run_cli("qc", str(film), "--profile", str(lenient))
    assert result.code == 3 and "audio.true_peak" in result.stdout and "FAIL" in result.stdout


def test_black_gap_fails_and_blackdetect_agrees(films, lenient):
    film = make_film(films / "black.mp4", video="drawbox=t=fill:c=black:enable='between(t,1,2)'")
    _, report = qc_json(film, "--profile", str(lenient))
    black = check(report, "picture.black")
    assert not black["passed"] and black["at"] == [pytest.approx(1.0, abs=0.1)]
    out = subprocess.run(
        [FFMPEG, "-hide_banner", "-i", str(film), "-vf", "blackdetect=d=0.5", "-an", "-f", "null", "-"],
        capture_output=True, text=True,
    ).stderr  # fmt: skip
    start = float(re.search(r"black_start:([\d.]+)", out).group(1))
    assert abs(start - black["at"][0]) <= 1 / RATE + 1e-6


def test_frozen_second_fails_and_freezedetect_agrees(films, lenient):
    film = make_film(
        films / "frozen.mp4", video=f"split[a][b];[a][b]freezeframes=first={RATE}:last={2 * RATE}:replace={RATE}"
    )
    _, report = qc_json(film, "--profile", str(lenient))
    frozen = check(report, "picture.freeze")
    assert not frozen["passed"] and frozen["value"] >= 1.0
    assert frozen["at"] == [pytest.approx(1.0, abs=0.1)]
    out = subprocess.run(
        [FFMPEG, "-hide_banner", "-i", str(film), "-vf", "freezedetect=d=0.5", "-an", "-f", "null", "-"],
        capture_output=True, text=True,
    ).stderr  # fmt: skip
    assert abs(float(re.search(r"freeze_start: ([\d.]+)", out).group(1)) - frozen["at"][0]) <= 1 / RATE + 1e-6


def test_ten_hertz_full_screen_flash_fails(films, lenient):
    flashing = make_film(
        films / "flash.mp4", source="color=c=white", rate=20,
        video="drawbox=t=fill:c=black:enable='between(t,1,2)*eq(mod(n,2),1)'",
    )  # fmt: skip
    _, report = qc_json(flashing, "--profile", str(lenient))
    flashes = check(report, "picture.flashes")
    assert not flashes["passed"] and flashes["value"] >= 9 and flashes["at"][0] == pytest.approx(1.0, abs=0.15)
    slow = make_film(
        films / "slow.mp4", source="color=c=white", rate=20,
        video="drawbox=t=fill:c=black:enable='between(t,1,2)*lt(mod(n,10),5)'",
    )  # 2 Hz: at most three flashes in any second  # fmt: skip
    assert check(qc_json(slow, "--profile", str(lenient))[1], "picture.flashes")["passed"]


def test_red_flash_fails(films, lenient):
    film = make_film(
        films / "red.mp4", source="color=c=black", rate=20,
        video="drawbox=t=fill:c=red:enable='between(t,0.5,2)*eq(mod(n,4),0)'",
    )  # fmt: skip
    _, report = qc_json(film, "--profile", str(lenient))
    red = check(report, "picture.red_flashes")
    assert not red["passed"] and red["value"] > 3 and red["at"][0] == pytest.approx(0.5, abs=0.15)


def test_out_of_range_luma_fails_and_signalstats_agrees(films, clean, lenient):
    film = make_film(films / "hot.mp4", video="lutyuv=y=250")
    _, report = qc_json(film, "--profile", str(lenient))
    legal = check(report, "picture.legal_range")
    assert not legal["passed"] and legal["value"] > 0.9 and legal["at"] == [0.0]
    out = subprocess.run(
        [FFMPEG, "-hide_banner", "-i", str(film), "-vf", "signalstats,metadata=print:key=lavfi.signalstats.YMIN",
         "-frames:v", "1", "-an", "-f", "null", "-"], capture_output=True, text=True,
    ).stderr  # fmt: skip
    assert int(re.search(r"YMIN=(\d+)", out).group(1)) > 246
    assert check(qc_json(clean, "--profile", str(lenient))[1], "picture.legal_range")["passed"]


def test_captions_at_30_characters_a_second_fail(films, lenient):
    fast = make_film(films / "fast.mp4")
    fast.with_suffix(".srt").write_text(
        "1\n00:00:00,500 --> 00:00:01,500\nThirty characters in a second.\n\n"
        "2\n00:00:01,600 --> 00:00:02,900\nThis one is fine.\n",
        encoding="utf-8",
    )
    _, report = qc_json(fast, "--profile", str(lenient))
    speed = check(report, "captions.reading_speed")
    assert not speed["passed"] and speed["value"] == pytest.approx(30.0) and speed["at"] == [0.5]
    assert check(report, "captions.chars_per_line")["passed"]
    calm = make_film(films / "calm.mp4")
    calm.with_suffix(".srt").write_text("1\n00:00:00,500 --> 00:00:02,500\nA calm line.\n", encoding="utf-8")
    assert all(
        c["passed"] for c in qc_json(calm, "--profile", str(lenient))[1]["checks"] if c["id"].startswith("captions")
    )


def test_missing_colour_tags_fail(films, clean, lenient):
    untagged = make_film(films / "untagged.mp4", tags=False)
    _, report = qc_json(untagged, "--profile", str(lenient))
    assert not check(report, "container.colour")["passed"]
    assert check(qc_json(clean, "--profile", str(lenient))[1], "container.colour")["passed"]


def test_profiles_and_bad_input(clean, tmp_path):
    assert PROFILES["ebu-r128"].loudness.target == -23 and PROFILES["atsc-a85"].loudness.true_peak == -2
    assert PROFILES["ebu-r128-s1"].loudness.max_short_term == -18
    assert (PROFILES["social-9x16"].picture.width, PROFILES["social-9x16"].picture.height) == (1080, 1920)
    # the clean tone is at -14 LUFS: far from EBU R 128's -23
    code, report = qc_json(clean, "--profile", "ebu-r128")
    assert code == 3 and not check(report, "audio.loudness")["passed"]
    assert not check(report, "picture.frame_rate")["passed"]  # 12 fps is not a broadcast rate
    bad = run_cli("qc", str(clean), "--profile", "nope")
    assert bad.code == 2 and "no delivery profile 'nope'" in bad.stderr
    text = tmp_path / "not-a-film.mp4"
    text.write_text("hello")
    assert run_cli("qc", str(text)).code == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text("loudness: {target: loud}\npicture: {widht: 5}\n")
    with pytest.raises(ProfileError, match=r"loudness\.target: .*; picture\.widht: "):
        load_profile(str(broken))


def plan_of(text: str):
    return make_plan(parse_storyboard(text, "sb.yaml", EXAMPLES))


def test_output_profile_in_the_storyboard():
    assert problems_of(MINIMAL.replace("title: Test", "title: Test\noutput: {profile: ebu-r129}")) == [
        "sb.yaml:3:19: output.profile: no delivery profile 'ebu-r129' (built in: web, ebu-r128, ebu-r128-s1, "
        "atsc-a85, social-9x16, social-1x1; or a .yaml file)"
    ]
    assert plan_of(MINIMAL.replace("title: Test", "title: Test\noutput: {profile: ebu-r128}")).loudness == -23
    both = "title: Test\noutput: {profile: atsc-a85, loudness: -20}"
    assert plan_of(MINIMAL.replace("title: Test", both)).loudness == -20  # output.loudness overrides
    assert plan_of(MINIMAL).loudness == -14 and plan_of(MINIMAL).profile == "web"


def test_watermark_fits_tiny_frames_and_stays_out_of_the_slate_and_subtitle_bands():
    for width, height in ((64, 64), (64, 36), (96, 64), (192, 108), (1280, 720), (1080, 1920)):
        frame = np.zeros((height, width, 3), np.uint8)
        for index in range(0, 8 * RATE, RATE):
            watermark.mark(frame, index, RATE)  # must not raise at any size
            x, y, w, h = watermark.placement(width, height, index, RATE)
            assert x >= 0 and x + w <= width and y >= 0 and y + h <= height
            if height >= 90:
                assert y >= height * watermark.TOP_BAND - 1 and y + h <= height * (1 - watermark.BOTTOM_BAND) + 1


def test_render_checks_what_it_wrote(tmp_path):
    """A render puts the checks in its report; a profile it cannot meet exits 3 and keeps the film."""
    text = (EXAMPLES / "product_ad.yaml").read_text()
    text = text.replace("width: 1280", "width: 192").replace("height: 720", "height: 108")
    text = text.replace("fps: 30", "fps: 12").replace("loudness: -16 ", "profile: ebu-r128-s1\n  loudness: -16 ")
    sb = tmp_path / "ad.yaml"
    sb.write_text(text)
    for asset in ("assets",):
        shutil.copytree(EXAMPLES / asset, tmp_path / asset)  # assets must be inside the storyboard's folder
    result = run_cli("render", str(sb), "-q", "--json")
    film = tmp_path / "ad.mp4"
    assert result.code == 3 and film.is_file()  # 12 fps is not an EBU rate, and -16 LUFS is over s1's -18 short-term
    report = json.loads(result.stdout)
    assert report["qc"]["profile"] == "ebu-r128-s1" and not report["qc"]["passed"]
    failed = {c["id"] for c in report["qc"]["checks"] if not c["passed"]}
    assert "picture.frame_rate" in failed and "audio.max_short_term" in failed
    assert check(report["qc"], "audio.loudness")["passed"]  # output.loudness overrides the profile's -23
    skipped = run_cli("render", str(sb), "-q", "--json", "--no-qc")
    assert skipped.code == 0 and "qc" not in json.loads(skipped.stdout)


@pytest.mark.parametrize("name", ["polar", "product_ad", "harbour_night"])
def test_every_example_renders_exit_0_and_passes_qc_and_ebur128(tmp_path, name):
    """Small frames (loudness does not depend on them); the loudness and peak re-measured by ebur128."""
    text = (EXAMPLES / f"{name}.yaml").read_text()
    text = re.sub(r"(?m)^  width: \d+", "  width: 192", text)
    text = re.sub(r"(?m)^  height: \d+", "  height: 108", text)
    text = re.sub(r"(?m)^  fps: \d+", "  fps: 12", text)
    for folder in ("assets", "cameos"):
        shutil.copytree(EXAMPLES / folder, tmp_path / folder)  # assets must be inside the storyboard's folder
    sb = tmp_path / f"{name}.yaml"
    sb.write_text(text)
    result = run_cli("render", str(sb), "-q", "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["qc"]["passed"], [c for c in report["qc"]["checks"] if not c["passed"]]
    loudness, peak = ebur128(tmp_path / f"{name}.mp4")
    target = report["sound"]["target_lufs"]
    assert abs(loudness - target) <= 0.5 and peak <= -1.0, (loudness, peak)
    code, again = qc_json(tmp_path / f"{name}.mp4", "--plan", str(sb))
    assert code == 0 and again["passed"]


SLATE = """\
version: 1
title: Slate
output: {width: WIDTH, height: HEIGHT, fps: 12, watermark: on}
world:
  location: "a city street"
  characters:
    kim: {description: "courier in green"}
shots:
  - id: a-rather-long-shot-identifier
    duration: 1
    camera: {framing: extreme_close_up, move: dolly_in}
    cast: [kim]
    action: "Kim walks along the street in the rain, looking for the right door number, then knocks twice"
"""


@pytest.mark.parametrize("size", [(1280, 720), (1080, 1920), (480, 270)])
def test_the_slate_and_caption_stay_in_the_band_the_watermark_avoids(size):
    """Drawn with and without slate and caption: what they add lies in the top band, and no mark position
    reaches into it (nor into the bottom band of burned subtitles)."""
    from sora_cli.render.animatic.backend import AnimaticBackend
    from sora_cli.render.backend import FilmSettings

    width, height = size
    plan = plan_of(SLATE.replace("WIDTH", str(width)).replace("HEIGHT", str(height)))
    frames = {}
    for on in (True, False):
        backend = AnimaticBackend()
        film = FilmSettings.from_plan(plan)
        backend.open(FilmSettings(**{**film.__dict__, "options": {"slate": on, "captions": on, "name_tags": False}}))
        frames[on] = next(iter(backend.render_shot(plan.shots[0], None)))[:, :, :3].astype(np.int16)
        backend.close()
    rows = np.flatnonzero(np.abs(frames[True] - frames[False]).max(axis=(1, 2)) > 0)
    assert len(rows) and rows.max() < height * watermark.TOP_BAND
    for index in range(0, 8 * 12, 12):
        _, y, _, h = watermark.placement(width, height, index, 12)
        assert y > rows.max() and y + h <= height * (1 - watermark.BOTTOM_BAND) + 1


def test_frames_are_converted_with_bt709_and_tagged(tmp_path):
    """HD: the BT.709 matrix (not BT.601's), limited range, all four tags; the stitcher decodes it back."""
    import av

    from sora_cli.assemble.stitch import decode_frames
    from sora_cli.render.encode import FrameEncoder, VideoSettings

    path = tmp_path / "shot.mp4"
    encoder = FrameEncoder(path, VideoSettings(1280, 720, 12, preset="ultrafast"), [0], channels=3)
    colour = np.zeros((720, 1280, 3), np.uint8)
    colour[:] = (200, 40, 60)
    for _ in range(3):
        encoder.write(colour)
    encoder.close()
    with av.open(str(path)) as container:
        ctx = container.streams.video[0].codec_context
        assert (ctx.color_primaries, ctx.color_trc, ctx.colorspace, ctx.color_range) == (1, 1, 1, 1)
        luma = next(container.decode(video=0)).to_ndarray()[360, 640]
    r, g, b = 200 / 255, 40 / 255, 60 / 255
    assert abs(luma - (16 + 219 * (0.2126 * r + 0.7152 * g + 0.0722 * b))) <= 1  # BT.709: 81 (BT.601 gives 93)
    assert np.abs(decode_frames(path, 0, 1)[0][360, 640].astype(int) - (200, 40, 60)).max() <= 3
    assert check(qc_json(path)[1], "container.colour")["passed"]


def test_burned_captions_outside_title_safe_fail(films, clean):
    """The picture before and after burning: changed pixels low on the frame are outside the title-safe area."""
    from sora_cli.qc.burned import burned_caption_check

    low = make_film(films / "low.mp4", video="drawbox=x=40:y=ih-5:w=80:h=4:t=fill:c=white:enable='gte(t,1)'")
    high = make_film(films / "high.mp4", video="drawbox=x=40:y=ih-20:w=80:h=8:t=fill:c=white:enable='gte(t,1)'")
    web = PROFILES["web"]
    failing = burned_caption_check(clean, low, [0.5, 1.5, 2.5], web)
    assert not failing.passed and failing.at == (1.5, 2.5)
    assert burned_caption_check(clean, high, [0.5, 1.5, 2.5], web).passed
    # a 9:16 platform keeps its bottom 35% clear: the same caption fails there
    assert not burned_caption_check(clean, high, [1.5], PROFILES["social-9x16"]).passed


EMPTY_ROOM = """\
version: 1
title: An empty room
world: {{location: "a small office with a desk", weather: {weather}}}
backend: {{name: animatic, options: {{slate: false, captions: false, name_tags: false}}}}
output: {{width: 160, height: 90, fps: 12, subtitles: none, watermark: "off"}}
shots:
  - {{id: a, duration: 2, camera: {{framing: wide, move: {move}}}}}
"""


def test_a_planned_still_is_not_a_freeze_but_the_same_frames_under_a_moving_plan_are(tmp_path):
    """An empty room with a static camera renders as one repeated frame: the plan asked for it, so render and
    qc --plan pass; checked against a plan with a pan (or falling snow), the very same frames are a freeze."""
    still = tmp_path / "still.yaml"
    still.write_text(EMPTY_ROOM.format(weather="clear", move="static"))
    film = tmp_path / "still.mp4"
    rendered = run_cli("render", str(still), "-o", str(film), "--quiet", "--no-cache", "--jobs", "1")
    assert rendered.code == 0, rendered.stderr
    code, report = qc_json(film, "--plan", str(still))
    assert code == 0 and check(report, "picture.freeze")["passed"]
    code, report = qc_json(film)  # without the plan, nothing excuses the repeated frames
    frozen = check(report, "picture.freeze")
    assert code == 3 and not frozen["passed"] and frozen["value"] >= 1.9
    for weather, move in (("clear", "pan_right"), ("snow", "static")):
        moving = tmp_path / f"{weather}-{move}.yaml"
        moving.write_text(EMPTY_ROOM.format(weather=weather, move=move))
        code, report = qc_json(film, "--plan", str(moving))
        assert code == 3 and not check(report, "picture.freeze")["passed"], (weather, move)


def test_five_one_is_weighted_as_bs1770_says_and_agrees_with_ebur128(films, lenient):
    """5.1 from the shipped ffmpeg: different tones in L, R, C, LFE, Ls, Rs. The LFE's 60 Hz tone is the loudest
    peak (true peak is over every channel) but counts for no loudness; Ls and Rs count 1.41 times their energy."""
    film = films / "five-one.mp4"
    levels = {"FL": 0.10, "FR": 0.05, "FC": 0.08, "LFE": 0.7, "BL": 0.12, "BR": 0.06}
    expr = "|".join(
        f"{a}*sin(2*PI*{f}*t)" for a, f in zip(levels.values(), (997, 1200, 800, 60, 1500, 700), strict=True)
    )
    cmd = [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={SIZE}:rate={RATE}"]
    cmd += ["-f", "lavfi", "-i", f"aevalsrc={expr}:channel_layout=5.1:sample_rate=48000", "-t", "3"]
    cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", *TAGS, "-c:a", "aac", "-b:a", "384k", str(film)]
    subprocess.run(cmd, check=True)
    _, report = qc_json(film, "--profile", str(lenient))
    measured, peak = ebur128(film)
    loudness, true_peak = check(report, "audio.loudness")["value"], check(report, "audio.true_peak")["value"]
    assert abs(loudness - measured) <= 0.1 and abs(true_peak - peak) <= 0.1, (loudness, measured, true_peak, peak)
    assert true_peak > -4.0  # the LFE's peak (-3.1 dBTP), not the others' (-18 at most)
    assert loudness < -14.0  # with the LFE's energy counted it would read about -7 LUFS


def test_a_truncated_or_damaged_film_fails_a_check_at_the_damage_never_exit_1(films, tmp_path):
    film = make_film(films / "whole.mp4", seconds=4.0)
    data = film.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) * 6 // 10])
    damaged = bytearray(data)
    middle = len(data) // 2
    damaged[middle : middle + 4000] = bytes((b * 7 + 13) % 256 for b in damaged[middle : middle + 4000])
    (tmp_path / "damaged.mp4").write_bytes(bytes(damaged))
    for name in ("cut.mp4", "damaged.mp4"):
        code, report = qc_json(tmp_path / name)
        failed = {c["id"]: c for c in report["checks"] if not c["passed"]}
        assert code == 3 and failed.keys() & {"audio.decode", "picture.decode"}, (name, failed.keys())
        for c in failed.values():
            if c["id"].endswith(".decode"):
                assert 0.0 < c["at"][0] < 4.0, c


def test_a_small_figure_in_a_very_wide_frame_is_not_a_freeze_but_its_frozen_copy_is(tmp_path):
    """4096x256: a clerk who only breathes and blinks changes some 20 of a million samples a frame; sora's own
    render must pass (it once failed as a 3 s freeze), and the same film with a second frozen must fail."""
    sb = tmp_path / "wide.yaml"
    sb.write_text(
        "version: 1\ntitle: Wide\nworld: {location: a small office, characters: {kim: {description: a clerk}}}\n"
        "output: {width: 4096, height: 256, fps: 12, subtitles: none}\n"
        "shots: [{id: a, duration: 2, cast: [kim], camera: {framing: wide, move: static}}]\n"
    )
    film = tmp_path / "wide.mp4"
    rendered = run_cli("render", str(sb), "-o", str(film), "--quiet", "--no-cache", "--jobs", "1")
    assert rendered.code == 0, rendered.stderr
    _, report = qc_json(film, "--plan", str(sb))
    assert check(report, "picture.freeze")["passed"] and check(report, "picture.freeze")["value"] == 0
    frozen = tmp_path / "frozen.mp4"
    cmd = [FFMPEG, "-hide_banner", "-loglevel", "error", "-i", str(film), "-vf"]
    cmd += [f"split[a][b];[a][b]freezeframes=first={RATE // 2}:last={RATE + RATE // 2}:replace={RATE // 2}"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", str(frozen)]
    subprocess.run(cmd, check=True)
    _, report = qc_json(frozen, "--plan", str(sb))
    freeze = check(report, "picture.freeze")
    assert not freeze["passed"] and abs(freeze["value"] - (1 + 1 / RATE)) <= 1 / RATE + 1e-6, freeze


def test_a_folder_an_empty_profile_and_a_broken_plan_are_named_for_what_they_are(clean, tmp_path):
    folder = run_cli("qc", str(tmp_path))
    assert folder.code == 2 and "is a folder, not a film" in folder.stderr, folder.stderr
    empty = run_cli("qc", str(clean), "--profile", "")
    assert empty.code == 2 and "no delivery profile ''" in empty.stderr, empty.stderr
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\ntitle: x\nshots: [{id: a, duration: -1}]\n")
    broken = run_cli("qc", str(clean), "--plan", str(plan))
    assert broken.code == 2 and "plan.yaml:3:" in broken.stderr, broken.stderr
    assert "nothing was checked" in broken.stderr and "rendered" not in broken.stderr, broken.stderr


def test_a_film_shorter_than_one_gating_block_is_too_short_to_measure_not_a_failure(films, lenient):
    film = make_film(films / "short.mp4", seconds=0.3)
    code, report = qc_json(film, "--profile", str(lenient))
    loudness = check(report, "audio.loudness")
    assert code == 0 and loudness["passed"] and "too short to measure" in loudness["note"], report


def test_a_junk_srt_beside_a_film_fails_a_check_instead_of_reading_as_no_cues(clean, lenient, tmp_path):
    film = tmp_path / "film.mp4"
    film.write_bytes(clean.read_bytes())
    (tmp_path / "film.srt").write_text("this is not a subtitle file\n{oops}\n")
    code, report = qc_json(film, "--profile", str(lenient))
    readable = check(report, "captions.readable")
    assert code == 3 and not readable["passed"] and readable["value"] == "film.srt"


def test_a_slowly_spoken_line_is_split_into_cues_a_profile_allows(tmp_path):
    """A line on screen longer than 7 s (the captioning style's limit) is split at words into more cues."""
    from sora_cli.assemble.subtitles import MAX_CUE_SECONDS, cues
    from sora_cli.plan.resolve import make_plan
    from sora_cli.storyboard import parse_storyboard

    line = "We made it to the top at last, after all of these long and weary days."
    text = (
        "version: 1\ntitle: Slow\noutput: {width: 192, height: 108, fps: 12, subtitles: [sidecar, soft]}\n"
        "world:\n  location: a mountain top\n  characters:\n    kim: {description: climber, voice: {rate: 80}}\n"
        f'shots:\n  - id: a\n    cast: [kim]\n    dialogue: [{{speaker: kim, line: "{line}"}}]\n'
    )
    plan = make_plan(parse_storyboard(text, "sb.yaml", tmp_path))
    spoken = plan.shots[0].dialogue[0]
    assert spoken.end - spoken.start > MAX_CUE_SECONDS  # the case: one line, said slowly
    made = cues(plan)
    assert len(made) >= 2 and all(c.end - c.start <= MAX_CUE_SECONDS + 0.05 for c in made)
    assert " ".join(" ".join(c.lines) for c in made) == line  # every word, once, in order
    sb = tmp_path / "slow.yaml"
    sb.write_text(text)
    result = run_cli("render", str(sb), "-q", "--json")
    assert result.code == 0, result.stderr
    assert check(json.loads(result.stdout)["qc"], "captions.max_duration")["passed"]


SILENT_FIELD = (
    "version: 1\ntitle: No lines\noutput: {width: 192, height: 108, fps: 12, subtitles: [sidecar, soft]}\n"
    "world: {location: a quiet field}\n"
    "shots:\n  - {id: one, duration: 1, action: grass sways}\n  - {id: two, duration: 1, action: clouds pass}\n"
)


def test_a_film_without_dialogue_passes_its_captions_as_not_applicable(tmp_path):
    """No line, no cue: the header-only WebVTT and the empty SRT are valid files of no cues, not unreadable ones."""
    sb = tmp_path / "field.yaml"
    sb.write_text(SILENT_FIELD)
    result = run_cli("render", str(sb), "--quiet", "--json", "--no-cache", "--jobs", "1")
    assert result.code == 0, result.stderr
    readable = check(json.loads(result.stdout)["qc"], "captions.readable")
    assert readable["passed"] and readable["value"] == 0 and "not applicable" in readable["note"], readable
    assert (tmp_path / "field.vtt").read_text().strip() == "WEBVTT" and (tmp_path / "field.srt").read_text() == ""
    code, report = qc_json(tmp_path / "field.mp4", "--plan", str(sb))  # sora qc sees the same sidecars
    assert code == 0 and check(report, "captions.readable")["passed"], report
    # a film with captions is still read: a WebVTT header followed by text that is not a cue is junk
    (tmp_path / "field.vtt").write_text("WEBVTT\n\nthis is not a cue\n")
    code, report = qc_json(tmp_path / "field.mp4", "--plan", str(sb))
    readable = check(report, "captions.readable")
    assert code == 3 and not readable["passed"] and readable["value"] == "field.vtt", readable


@pytest.mark.parametrize("place", ["a harbour at night", "a white snowfield"], ids=["dark", "light"])
def test_burned_captions_are_seen_whole_at_320x180(tmp_path, place):
    """At 320x180 the glyphs' strokes are one pixel wide: the check sees the whole caption (the box of what the
    burning changed, measured independently on the two films), so a safe area the caption reaches past fails.
    Over a light picture the white glyphs barely change a pixel: their dark outline is what shows."""
    from sora_cli.qc.burned import _frames_at, burned_caption_check

    text = (
        "version: 1\ntitle: Burn\noutput: {width: 320, height: 180, fps: 12, subtitles: burn}\n"
        f"world:\n  location: {place}\n  characters: {{kim: {{description: courier in green}}}}\n"
        'shots:\n  - id: a\n    cast: [kim]\n    dialogue: [{speaker: kim, line: "We leave at dawn, whatever the weather."}]\n'
    )
    (tmp_path / "burned.yaml").write_text(text)
    (tmp_path / "clean.yaml").write_text(text.replace("subtitles: burn", "subtitles: none"))
    rendered = run_cli("render", str(tmp_path / "burned.yaml"), "--quiet", "--json", "--jobs", "1")
    assert rendered.code == 0, rendered.stderr
    report = json.loads(rendered.stdout)
    assert run_cli("render", str(tmp_path / "clean.yaml"), "--quiet", "--no-qc", "--jobs", "1").code == 0
    middle = report["shots"][0]["duration"] / 2
    clean, burned = tmp_path / "clean.mp4", tmp_path / "burned.mp4"
    a, b = (f[0].astype(int) for f in (_frames_at(clean, [middle]), _frames_at(burned, [middle])))
    ys, xs = np.nonzero(abs(b - a) > 20)  # what the burning changed, by plain differencing
    seen = check(report["qc"], "captions.burned_safe_area")
    x0, x1, y0, y1 = map(int, re.fullmatch(r"x (\d+)-(\d+), y (\d+)-(\d+)", seen["value"]).groups())
    assert seen["passed"] and xs.max() - xs.min() > 150, seen  # a long line, inside the web profile's safe area
    found = (int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1)
    assert all(abs(m - f) <= 3 for m, f in zip((x0, x1, y0, y1), found, strict=True)), (seen, found)
    # sides kept clear that the middle of the line respects but its ends do not: the check must see the ends
    web = load_profile("web")
    narrow = web.model_copy(update={"picture": web.picture.model_copy(update={"safe_sides": (xs.min() + 20) / 320})})
    failing = burned_caption_check(clean, burned, [middle], narrow)
    assert not failing.passed and failing.at == (middle,), failing
    # a cue with no burned pixel at its middle is said, not taken as inside
    unseen = burned_caption_check(clean, clean, [middle], narrow)
    assert unseen.value == "not measurable" and "not measurable at 1 of 1 cues" in unseen.note, unseen


class _FrameByFrame:
    """The flash analysis's swings walked one frame at a time (how sora counted them before it took a chunk's
    frames at once): the reference the chunked walk must match to the bit."""

    def __init__(self, need_dark_end: bool):
        self.need_dark_end, self.current = need_dark_end, None

    def step(self, value: np.ndarray) -> float:
        if self.current is None:
            self.current, self.extreme, self.direction = value, value.copy(), np.zeros(value.shape, np.int8)
            return 0.0
        delta = value - self.current
        moving = np.where(np.abs(delta) > 0.5, np.sign(delta), 0).astype(np.int8)
        reversed_ = (moving != 0) & (self.direction != 0) & (moving != self.direction)
        share = self.ended(reversed_)
        self.extreme = np.where(reversed_, self.current, self.extreme)
        self.direction = np.where(moving != 0, moving, self.direction)
        self.current = value
        return share

    def ended(self, where: np.ndarray) -> float:
        from sora_cli.qc.picture import DARK_END, TRANSITION

        swing = np.abs(self.current - self.extreme) >= TRANSITION
        if self.need_dark_end:
            swing &= np.minimum(self.current, self.extreme) < DARK_END
        return float((where & swing).mean())


def _flashes_frame_by_frame(cells: np.ndarray, times: list[float], step: float, area: float):  # type: ignore[no-untyped-def]
    from sora_cli.qc.picture import _light

    luminance, red = _light(*(cells.astype(np.float32)[:, k] for k in range(3)))
    found: tuple[list[float], list[float]] = ([], [])
    for signal, out, dark in ((luminance, found[0], True), (red, found[1], False)):
        swings = _FrameByFrame(dark)
        out += [t - step for t, value in zip(times, signal, strict=True) if swings.step(value) >= area]
        if swings.direction is not None and swings.ended(swings.direction != 0) >= area:
            out.append(times[-1])
    return found


def test_the_flash_analysis_of_a_chunk_at_once_is_the_frame_by_frame_walks(films):
    """The swings of a chunk's frames, found at once, give the transitions a walk frame by frame gives, at the
    same times: on decoded films that flash (luminance, red) and do not, and on cells built to swing every
    way (random, full-screen and partial flashes, slow drifts), fed in pieces that cross the chunks anyhow."""
    from sora_cli.qc.picture import CHUNK, _Flashes, _measure_whole

    rng = np.random.default_rng(11)
    series = []
    for name, source, video in (
        ("flashes.mp4", "color=c=white", "drawbox=t=fill:c=black:enable='between(t,1,2)*eq(mod(n,2),1)'"),
        ("reds.mp4", "color=c=black", "drawbox=t=fill:c=red:w=iw/2:enable='between(t,0.5,2)*eq(mod(n,4),0)'"),
        ("moving.mp4", "testsrc2", ""),
    ):
        film = make_film(films / name, source=source, video=video, rate=20)
        measured, _, _ = _measure_whole(film, 1 / 20, ((16, 235), (16, 240)))
        series.append(np.stack(measured.cells))
    frames = 2 * CHUNK + 37
    series.append(rng.integers(0, 256, (frames, 3, 18, 32), dtype=np.uint8))
    on = (np.arange(frames) // 3) % 2 == 1
    flashing = np.full((frames, 3, 18, 32), 128, np.uint8)
    flashing[on, 0] = np.where(rng.random((18, 32)) < 0.4, 235, 128)
    series.append(flashing)
    red = np.full((frames, 3, 18, 32), 128, np.uint8)
    red[on] = np.array([81, 90, 240], np.uint8)[:, None, None]
    series.append(red)
    drift = 128 + 100 * np.sin(np.arange(frames) / 7.0)[:, None, None, None] + rng.normal(0, 3, (frames, 3, 18, 32))
    series.append(np.clip(drift, 0, 255).astype(np.uint8))
    found = 0
    for cells in series:
        times = [k / 20 for k in range(len(cells))]
        for area in (0.25, 0.0):
            expected = _flashes_frame_by_frame(cells, times, 1 / 20, area)
            for pieces in (1, 3, 40):
                flashes = _Flashes(1 / 20, area)
                cuts = [0, *sorted(rng.integers(0, len(cells), pieces - 1).tolist()), len(cells)]
                for a, b in itertools.pairwise(cuts):
                    flashes.feed(times[a:b], list(cells[a:b]))
                assert flashes.finish(times[-1]) == expected
            found += len(expected[0]) + len(expected[1])
    assert found > 1000  # transitions compared
