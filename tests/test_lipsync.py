"""Lip-sync, judged on the decoded film: mouths follow the words that are heard."""

from __future__ import annotations

import textwrap
from pathlib import Path

import av
import numpy as np
import pytest

from sora_cli.plan.resolve import make_plan
from sora_cli.plan.visemes import from_audio, on_frames, phoneme_shape
from sora_cli.render.animatic.figures import look_for
from sora_cli.render.animatic.sky import light_for
from sora_cli.speech.engine import speak
from sora_cli.storyboard import parse_storyboard
from tests.conftest import EXAMPLES, example_text, run_cli

FPS = 24
W, H = 384, 216

CLOSE_UP = """\
version: 1
title: Lips
world:
  location: "a plain studio"
  characters:
    ann: {{description: "woman in blue", voice: {{voice: en-us}}}}
backend: {{name: animatic, options: {{slate: false, captions: false, name_tags: false}}}}
output: {{width: {w}, height: {h}, fps: {fps}, subtitles: none, watermark: "off"}}
shots:
{shots}
"""


def storyboard(*lines: str, at: float | None = None) -> str:
    shots = []
    for i, line in enumerate(lines):
        when = f", at: {at}" if at is not None else ""
        shots.append(
            f"  - {{id: s{i}, cast: [ann], camera: {{framing: close_up, move: static}}, duration: 3,"
            f" dialogue: [{{speaker: ann, line: {line!r}{when}}}]}}"
        )
    return CLOSE_UP.format(w=W, h=H, fps=FPS, shots="\n".join(shots))


def plan_of(text: str):
    return make_plan(parse_storyboard(textwrap.dedent(text), "sb.yaml", EXAMPLES))


def decoded(text: str, tmp_path: Path) -> list[np.ndarray]:
    sb = tmp_path / "lips.yaml"
    sb.write_text(text, encoding="utf-8")
    out = tmp_path / "lips.mp4"
    result = run_cli("render", str(sb), "-o", str(out), "--quiet", "--no-cache", "--jobs", "1")
    assert result.code == 0, result.stderr
    with av.open(str(out)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def openness(frames: list[np.ndarray], plan) -> np.ndarray:
    """Dark pixels in the lower part of the face, per frame (the open mouth's inside)."""
    shot = plan.shots[0]
    look = look_for(plan.characters["ann"])
    skin = np.array(light_for(shot.world.time_of_day, shot.world.weather, shot.world.lighting).lit(look.skin))
    rest = frames[0].astype(np.int16)
    mask = np.all(np.abs(rest - skin) < 28, axis=2)
    mask[H // 2 :] = False  # hands are below; the face is in the upper half of a close-up
    rows, cols = np.nonzero(mask)
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    box = (slice(top + (bottom - top) * 45 // 100, bottom + 3), slice(left, right + 1))
    luma = np.stack([f[box].astype(np.float32) @ np.array([0.299, 0.587, 0.114]) for f in frames])
    return (luma < 85).sum(axis=(1, 2)).astype(np.float64)


def envelope(plan) -> np.ndarray:
    """The speech's RMS over each frame of the film (zero outside the line)."""
    env = np.zeros(plan.frames)
    for shot in plan.shots:
        for line in shot.dialogue:
            speech = speak(line.line, plan.characters[line.speaker].voice, line.delivery)
            first = line.start * speech.rate
            for k in range(plan.frames):
                a = round(k / FPS * speech.rate - first)
                b = round((k + 1) / FPS * speech.rate - first)
                part = speech.samples[max(0, a) : max(0, b)]
                if len(part):
                    env[k] = float(np.sqrt(np.mean(part**2)))
    return env


def test_phonemes_map_to_rhubarb_shapes():
    assert [phoneme_shape(p) for p in ("m", "b", "p", "'A:", "f", "v", "l", "w", "u:", "O:", "i:", "E", "_:")] == list(
        "AAADGGHFFEBCX"
    )


def test_mouth_follows_the_speech_envelope_within_a_frame(tmp_path):
    line = "Every morning the old harbour wakes up slowly, and the boats go out to sea."
    text = storyboard(line).replace("duration: 3", "duration: 5")
    plan = plan_of(text)
    frames = decoded(text, tmp_path)
    assert len(frames) == plan.frames
    mouth, env = openness(frames, plan), envelope(plan)
    speaking = env > 0
    assert mouth[~speaking].max() <= 2, "the mouth rests closed between lines"

    def r(lag: int) -> float:
        a, b = (mouth[lag:], env[: len(env) - lag]) if lag >= 0 else (mouth[:lag], env[-lag:])
        return float(np.corrcoef(a, b)[0, 1])

    correlations = {lag: r(lag) for lag in range(-4, 5)}
    best = max(correlations, key=correlations.get)
    print(f"mouth/envelope correlation {correlations[0]:.3f}, best at lag {best} frames ({correlations[best]:.3f})")
    assert correlations[0] > 0.55
    assert abs(best) <= 1


def test_mama_made_bread_closes_the_lips_on_each_m_and_b(tmp_path):
    text = storyboard("Mama made bread.")
    plan = plan_of(text)
    line = plan.shots[0].dialogue[0]
    speech = speak(line.line, plan.characters["ann"].voice, line.delivery)
    closures = [t for t, name in speech.phonemes if name.strip("'\",") in ("m", "b")]
    assert len(closures) == 4  # m, m, m, b
    frames = decoded(text, tmp_path)
    mouth = openness(frames, plan)
    shapes = {round((v.t - plan.shots[0].start) * FPS): v.shape for v in line.visemes}
    open_frames = [k for k, s in shapes.items() if s in "CD"]
    assert open_frames and min(mouth[k] for k in open_frames) > 6
    for t in closures:
        k = int((line.at + t) * FPS)
        # the frame holding the closure (or the next, for one that starts at a frame's very end) shows closed lips
        assert min(mouth[k], mouth[k + 1]) <= 1, f"lips open at the closure at {t:.3f} s (frame {k})"


def test_equal_timing_different_words_give_different_mouths(tmp_path):
    text = storyboard("Bob bought a map.", "I see you there.", at=0.3)
    plan = plan_of(text)
    one, two = (s.dialogue[0] for s in plan.shots)
    assert abs((one.end - one.start) - (two.end - two.start)) < 0.25  # about the same length
    frames = decoded(text, tmp_path)
    mouth = openness(frames, plan)
    n = plan.shots[0].frames
    a, b = mouth[:n], mouth[n : 2 * n]
    assert np.mean(np.abs(a - b)) > 2
    assert [v.shape for v in one.visemes] != [v.shape for v in two.visemes]


def test_recorded_takes_get_visemes_from_the_audio():
    plan = make_plan(parse_storyboard(example_text("polar"), "polar.yaml", EXAMPLES))
    takes = [line for shot in plan.shots for line in shot.dialogue if line.audio]
    assert takes
    for line in takes:
        shapes = [v.shape for v in line.visemes]
        assert len(set(shapes)) >= 4 and shapes[-1] == "X"
        assert line.start - 1e-6 <= line.visemes[0].t + 1 / plan.fps and line.visemes[-1].t <= line.end + 1 / plan.fps


@pytest.mark.parametrize("rate", [16000, 48000])
def test_audio_reading_closes_on_short_gaps_and_rests_on_long_ones(rate):
    t = np.arange(int(rate * 1.0)) / rate
    voiced = np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 900 * t))
    gate = ((t < 0.3) | ((t > 0.38) & (t < 0.6)) | (t > 0.9)).astype(float)
    segments = from_audio((voiced * gate).astype(np.float32), rate)
    shapes_at = {round(t0, 2): s for t0, s in segments}
    assert any(s == "A" and 0.28 <= t0 <= 0.4 for t0, s in shapes_at.items())  # an 80 ms gap: a closure
    assert any(s == "X" and 0.58 <= t0 <= 0.9 for t0, s in shapes_at.items())  # a 300 ms gap: a rest
    changes = on_frames(segments, 1.0, 0.0, 24)
    assert changes[-1] == (24, "X")


def test_whisper_and_shout_show_in_face_and_pose():
    """Mid-line in a medium shot: a shout spreads the arms and opens the mouth wider; a whisper leans in."""
    from sora_cli.render.animatic.backend import AnimaticBackend
    from sora_cli.render.backend import FilmSettings

    def frame(delivery: str) -> np.ndarray:
        text = (
            storyboard("Open the door right now.")
            .replace("framing: close_up", "framing: medium")
            .replace("line: 'Open the door right now.'", f"line: 'Open the door right now.', delivery: {delivery}")
        )
        plan = plan_of(text)
        backend = AnimaticBackend()
        backend.open(FilmSettings.from_plan(plan))
        line = plan.shots[0].dialogue[0]
        middle = round((line.at + (line.end - line.start) / 2) * FPS)
        return [f[:, :, :3].copy() for f in backend.render_shot(plan.shots[0], None)][middle].astype(np.int16)

    normal, whisper, shout = frame("normal"), frame("whisper"), frame("shout")

    skin = np.array(look_for(plan_of(storyboard("x")).characters["ann"]).skin)

    def hands_apart(f: np.ndarray) -> int:
        """Columns between the outermost skin pixels in the lower half (the hands; the face is above)."""
        cols = np.nonzero(np.any(np.all(np.abs(f[H // 2 :] - skin) < 30, axis=2), axis=0))[0]
        return int(cols.max() - cols.min())

    assert hands_apart(shout) > hands_apart(normal) + 10  # arms out
    assert np.abs(whisper - normal).mean() > 1 and np.abs(shout - normal).mean() > 1


def test_plan_json_gives_each_line_its_visemes(tmp_path):
    sb = tmp_path / "lips.yaml"
    sb.write_text(storyboard("Mama made bread."), encoding="utf-8")
    result = run_cli("plan", str(sb), "--json")
    assert result.code == 0, result.stderr
    import json

    line = json.loads(result.stdout)["shots"][0]["dialogue"][0]
    assert line["visemes"][0] == {"t": pytest.approx(line["visemes"][0]["t"]), "shape": "A"}  # the first m
    assert {v["shape"] for v in line["visemes"]} <= set("ABCDEFGHX") and line["visemes"][-1]["shape"] == "X"
    assert all(a["t"] < b["t"] for a, b in zip(line["visemes"], line["visemes"][1:], strict=False))
