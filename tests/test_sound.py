"""Sound, measured: speech at its cues, loudness, true peak, ducking, ambience, subtitles."""

from __future__ import annotations

import hashlib
import textwrap
import wave
from pathlib import Path

import av
import numpy as np
import pyloudnorm
import pytest

from sora_cli.assemble.subtitles import MAX_CHARS, MAX_LINES, cues, to_srt, to_vtt, wrap
from sora_cli.plan.beds import bed_for
from sora_cli.plan.model import Plan
from sora_cli.plan.resolve import make_plan
from sora_cli.sound.ambience import bed_segments, component_range
from sora_cli.sound.effects import effect
from sora_cli.sound.loudness import LoudnessMeter
from sora_cli.sound.mix import Mixer, mix_soundtrack
from sora_cli.sound.music import DUCK_DB, Music
from sora_cli.sound.synth import RATE
from sora_cli.sound_catalog import EFFECTS
from sora_cli.storyboard import parse_storyboard
from tests.conftest import EXAMPLES, decode_audio, render, run_cli
from tests.peaks import true_peak

DIALOGUE = """\
version: 1
title: Talk
output: {width: 128, height: 72, fps: 12, subtitles: [sidecar, soft]}
world:
  location: "a quiet room"
  characters:
    kim: {description: "courier"}
    ann: {description: "baker", voice: {voice: en-gb, pitch: 70}}
audio: {ambience: none}
shots:
  - id: one
    cast: [kim, ann]
    dialogue:
      - {speaker: kim, line: "Good morning, how are you today?"}
      - {speaker: ann, line: "Very well, thank you.", at: 3.2}
  - id: two
    cast: [ann]
    dialogue:
      - {speaker: ann, line: "See you tomorrow then.", delivery: whisper}
      - {speaker: kim, line: "Wait for me!", delivery: shout}
"""


def plan_of(text: str, base: Path = EXAMPLES):
    return make_plan(parse_storyboard(textwrap.dedent(text), "sb.yaml", base))


def envelope_db(x: np.ndarray, hop: float = 0.01) -> np.ndarray:
    mono = x.mean(axis=1) if x.ndim == 2 else x
    n = int(hop * RATE)
    frames = mono[: len(mono) // n * n].reshape(-1, n)
    return 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-9)


def test_speech_at_every_cue_and_onsets_within_50ms(tmp_path):
    path = tmp_path / "talk.yaml"
    path.write_text(DIALOGUE)
    report = render(path)
    audio = decode_audio(Path(report["output"]["file"]))
    env = envelope_db(audio)
    plan = plan_of(DIALOGUE)
    lines = [line for shot in plan.shots for line in shot.dialogue]
    for line in lines:
        a, b = int(line.start * 100), int(line.end * 100)
        assert env[a:b].max() > env.max() - 20, line.line  # speech energy inside the cue
        quiet_before = env[max(0, a - 15) : max(0, a - 3)]
        if len(quiet_before):
            assert quiet_before.max() < env[a:b].max() - 20
        onset = a - 8 + int(np.argmax(env[a - 8 : a + 8] > env[a:b].max() - 30))
        assert abs(onset - a) * 10 <= 50, (line.line, onset, a)
    srt = Path(report["subtitles"]["files"]["srt"]).read_text()
    assert srt.count("-->") == len(lines)
    first = srt.splitlines()[1]
    assert first.startswith("00:00:00,300 --> ")


def test_loudness_and_true_peak_of_the_delivered_film(tmp_path):
    path = tmp_path / "talk.yaml"
    path.write_text(
        DIALOGUE.replace("audio: {ambience: none}", "audio: {ambience: auto}").replace("title: Talk", "title: Talk")
    )
    report = render(path)
    audio = decode_audio(Path(report["output"]["file"]))
    measured = pyloudnorm.Meter(RATE).integrated_loudness(audio)
    assert abs(measured - (-14)) <= 0.5
    assert 20 * np.log10(true_peak(audio)) <= -1.0
    assert abs(report["sound"]["loudness_lufs"] - measured) < 0.05


@pytest.mark.parametrize("target", [-23.0, -16.0])
def test_other_loudness_targets(tmp_path, target):
    text = DIALOGUE.replace("subtitles: [sidecar, soft]}", f"subtitles: none, loudness: {target}}}")
    out = tmp_path / "m.m4a"
    mix_soundtrack(plan_of(text), out)
    audio = decode_audio(out)
    assert abs(pyloudnorm.Meter(RATE).integrated_loudness(audio) - target) <= 0.5
    assert 20 * np.log10(true_peak(audio)) <= -1.0


def test_streaming_meter_agrees_with_pyloudnorm():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((RATE * 7 + 1234, 2)) * np.linspace(0.01, 0.3, RATE * 7 + 1234)[:, None]).astype(
        np.float32
    )
    meter = LoudnessMeter()
    for start in range(0, len(x), 30000):
        meter.add(x[start : start + 30000])
    assert meter.integrated() == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(x), abs=0.02)


def test_music_ducks_under_dialogue():
    text = DIALOGUE.replace("at: 3.2", "at: 5.0")
    plan = plan_of(
        text.replace("audio: {ambience: none}", "audio: {ambience: none, music: {file: assets/theme.wav, gain: -10}}")
    )
    music = Music.from_plan(plan)
    stem = music.render(0, int(plan.duration * RATE))
    env = envelope_db(stem, 0.05)
    lines = [(line.start, line.end) for shot in plan.shots for line in shot.dialogue]
    under = [env[int(s * 20) + 4 : int(e * 20) - 2].mean() for s, e in lines if e - s > 0.5]
    free = env[int(lines[0][1] * 20) + 16 : int(lines[1][0] * 20) - 8]  # the gap between the first two lines
    assert len(free) > 5
    for level in under:
        assert free.mean() - level >= 8.0
    assert DUCK_DB <= -8
    # a smooth envelope, not a hard cut: at most ~1 dB of change per 10 ms
    from sora_cli.sound.music import duck_envelope

    t = np.arange(0, plan.duration, 0.01)
    duck = 20 * np.log10(duck_envelope(t, music.lines))
    assert duck.min() == pytest.approx(DUCK_DB, abs=0.01) and np.max(np.abs(np.diff(duck))) < 1.0


def test_ambience_follows_set_and_has_no_click_at_continue():
    plan = plan_of((EXAMPLES / "harbour_night.yaml").read_text())
    beds = [bed_for(s) for s in plan.shots]
    assert beds[0] == ("fog", "waves") and beds[2] == ("rain", "waves") and beds[4] == ("storm", "waves")
    mixer = Mixer(plan)
    rain_starts = plan.shot("rain-starts")  # a continue shot that changes the weather
    at = int(rain_starts.start * RATE)
    around = mixer.render(at - RATE, 2 * RATE)
    before, after = envelope_db(around[: RATE // 2]), envelope_db(around[-RATE // 2 :])
    assert abs(np.mean(after) - np.mean(before)) > 1.0 or np.mean(after) != pytest.approx(np.mean(before))
    jumps = np.abs(np.diff(around, axis=0)).max(axis=1)
    boundary = jumps[RATE - 480 : RATE + 480].max()
    elsewhere = np.percentile(jumps, 99.9)
    assert boundary <= elsewhere * 1.5
    # a component that carries on is the same signal across the boundary (no crossfade artefact)
    waves = [s for s in bed_segments(plan) if s.component == "waves"]
    total = sum(s.gain(at - 2000, 4000) for s in waves)
    assert np.allclose(total, 1.0, atol=1e-6)


def test_block_rendering_is_exact():
    plan = plan_of((EXAMPLES / "polar.yaml").read_text())
    whole = Mixer(plan).render(0, RATE * 3)
    mixer = Mixer(plan)
    parts = np.concatenate([mixer.render(0, 50_000), mixer.render(50_000, RATE * 3 - 50_000)])
    assert np.array_equal(whole, parts)
    assert np.array_equal(component_range("blizzard", 1000, 5000), component_range("blizzard", 1000, 5000))


def test_same_storyboard_same_soundtrack_bytes(tmp_path):
    plan = plan_of((EXAMPLES / "polar.yaml").read_text())
    a, b = tmp_path / "a.m4a", tmp_path / "b.m4a"
    mix_soundtrack(plan, a)
    mix_soundtrack(plan, b)
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def test_deliveries_sound_different():
    from sora_cli.speech.engine import speak

    voice = plan_of(DIALOGUE).characters["kim"].voice
    normal, whisper, shout = (speak("Wait for me, please.", voice, d) for d in ("normal", "whisper", "shout"))

    def centroid(x):
        spec = np.abs(np.fft.rfft(x))
        return float((spec * np.fft.rfftfreq(len(x), 1 / normal.rate)).sum() / spec.sum())

    def voiced_fraction(x):  # whisper has no pitched voicing: flatter spectrum, more noise
        spec = np.abs(np.fft.rfft(x)) + 1e-9
        return float(np.exp(np.mean(np.log(spec))) / np.mean(spec))

    def pitch(x):  # median F0 of voiced 40 ms frames, by autocorrelation
        n = int(0.04 * normal.rate)
        f0 = []
        for k in range(0, len(x) - n, n):
            frame = x[k : k + n] - x[k : k + n].mean()
            if np.sqrt(np.mean(frame**2)) < 0.05:
                continue
            ac = np.correlate(frame, frame, "full")[n - 1 :]
            lo, hi = normal.rate // 400, normal.rate // 60
            f0.append(normal.rate / (lo + int(np.argmax(ac[lo:hi]))))
        return float(np.median(f0))

    assert voiced_fraction(whisper.samples) > 1.2 * voiced_fraction(normal.samples)  # noise, not voice
    assert np.sqrt(np.mean(whisper.samples**2)) < np.sqrt(np.mean(normal.samples**2))
    assert centroid(shout.samples) > 1.25 * centroid(normal.samples)  # brighter: vocal effort
    assert pitch(shout.samples) > 1.1 * pitch(normal.samples)
    assert normal.samples.tobytes() != shout.samples.tobytes()


def test_recorded_take_replaces_synthesis(storyboard_dir):
    plan = plan_of((storyboard_dir / "polar.yaml").read_text(), storyboard_dir)
    camp = plan.shot("camp")
    mixer = Mixer(plan)
    line = camp.dialogue[0]
    event = next(e for e in mixer.events if e.start == round(line.start * RATE))
    from sora_cli.audio_files import load_take

    take = load_take(storyboard_dir / "assets" / "ivan_take2.wav")
    assert len(event.load()) == len(take)


def test_effects_library():
    assert len(EFFECTS) >= 25
    for name in EFFECTS:
        x = effect(name)
        assert x.dtype == np.float32 and 0.49 < np.max(np.abs(x)) <= 0.5001, name
        assert np.array_equal(x, effect.__wrapped__(name)), name  # deterministic


def test_sounds_command(tmp_path):
    listing = run_cli("sounds")
    assert listing.code == 0 and all(name in listing.stdout for name in EFFECTS)
    out = tmp_path / "t.wav"
    result = run_cli("sounds", "--play", "thunder", "-o", str(out))
    assert result.code == 0
    with wave.open(str(out)) as w:
        assert w.getframerate() == RATE and w.getnframes() == len(effect("thunder"))
    bad = run_cli("sounds", "--play", "thundr")
    assert bad.code == 2 and "did you mean 'thunder'" in bad.stderr


def test_wrapping():
    text = "This is a rather long line of dialogue that will certainly need more than two lines to fit."
    lines = wrap(text)
    assert all(len(line) <= MAX_CHARS for line in lines)
    plan = plan_of(DIALOGUE.replace("Very well, thank you.", text).replace("at: 3.2", "at: 3.2"))
    cue_list = cues(plan)
    assert all(len(c.lines) <= MAX_LINES and all(len(x) <= MAX_CHARS for x in c.lines) for c in cue_list)
    long_cues = [c for c in cue_list if c.speaker == "ann" and c.start >= 3.2 and c.start < 8]
    assert len(long_cues) == 2 and long_cues[0].end == long_cues[1].start  # split, back to back
    assert " ".join(" ".join(c.lines) for c in long_cues) == text


HOSTILE = "He said: \"50% off!\" \\N {\\b1}bold{\\b0} <i>it</i> & [x] 'q'; a:b,c שלום مرحبا 😀"


def test_any_text_survives_verbatim(tmp_path):
    import yaml

    text = DIALOGUE.replace(
        '"Wait for me!"', yaml.safe_dump(HOSTILE, allow_unicode=True, width=1000).strip().removesuffix("...").strip()
    )
    text = text.replace("subtitles: [sidecar, soft]", "subtitles: [sidecar, soft, burn]")
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    report = render(path)
    film = Path(report["output"]["file"])
    with av.open(str(film)) as c:
        soft = [bytes(p)[2:].decode() for p in c.demux(c.streams.subtitles[0]) if p.size > 2]
    expected = [" ".join(c.lines) for c in cues(plan_of(text, tmp_path))]
    assert [s.replace("\n", " ") for s in soft] == expected
    assert HOSTILE in " ".join(expected).replace("  ", " ") or all(
        part in " ".join(expected) for part in HOSTILE.split()
    )
    srt = Path(report["subtitles"]["files"]["srt"]).read_text(encoding="utf-8")
    vtt = Path(report["subtitles"]["files"]["vtt"]).read_text(encoding="utf-8")
    for word in HOSTILE.split():
        assert word in srt.replace("\n", " ")
    # escaped wherever the cues break the line (the break follows the speech's timing)
    assert "&lt;i&gt;it&lt;/i&gt;" in vtt and "&amp; [x]" in vtt and "<i>" not in vtt
    assert to_srt(cues(plan_of(text, tmp_path))) == srt and to_vtt(cues(plan_of(text, tmp_path))) == vtt


def test_burned_subtitles_are_drawn(tmp_path):
    from tests.conftest import decode_video

    plain = tmp_path / "plain.yaml"
    plain.write_text(DIALOGUE.replace("subtitles: [sidecar, soft]", "subtitles: none"))
    burned = tmp_path / "burned.yaml"
    burned.write_text(
        DIALOGUE.replace("subtitles: [sidecar, soft]", "subtitles: burn").replace(
            "width: 128, height: 72", "width: 256, height: 144"
        )
    )
    plain.write_text(plain.read_text().replace("width: 128, height: 72", "width: 256, height: 144"))
    a = decode_video(Path(render(plain)["output"]["file"]))
    b = decode_video(Path(render(burned)["output"]["file"]))
    plan = plan_of(burned.read_text(), tmp_path)
    line = plan.shots[0].dialogue[0]
    inside = int((line.start + line.end) / 2 * 12)
    outside = int(line.start * 12) - 2
    bottom = slice(100, 144)
    assert np.abs(a[inside][bottom].astype(int) - b[inside][bottom]).mean() > 3
    assert np.abs(a[outside].astype(int) - b[outside]).mean() < 1.5


def test_scripts_the_main_font_lacks_fall_back_to_a_shipped_font(tmp_path):
    """Two CJK lines with the same characters in another order: as empty boxes they would look alike."""
    from sora_cli.assemble.subtitles import ass_text
    from sora_cli.fonts import family_for
    from tests.conftest import decode_video

    assert (
        family_for("A") == "DejaVu Sans"
        and family_for("日") == "Noto Sans CJK JP"
        and family_for("한") == "Noto Sans CJK JP"
    )
    assert ass_text("Hi 日本 {x}", "DejaVu Sans") == "Hi {\\fnNoto Sans CJK JP}日本{\\fnDejaVu Sans} \\{x\\}"
    frames = {}
    for text in ("日本", "本日"):
        path = tmp_path / f"{text}.yaml"
        path.write_text(
            DIALOGUE.replace("subtitles: [sidecar, soft]", "subtitles: burn")
            .replace("width: 128, height: 72", "width: 320, height: 180")
            .replace('"Good morning, how are you today?"', f'"{text}"'),
            encoding="utf-8",
        )
        report = render(path)
        frames[text] = decode_video(Path(report["output"]["file"]))[6][130:180]
    differing = (np.abs(frames["日本"].astype(int) - frames["本日"]).max(axis=2) > 40).sum()
    assert differing > 100  # boxes in swapped order would be pixel-identical


def test_indoors_the_weather_is_heard_muffled_through_the_walls():
    """The bed obeys the plan's facts: rain outside an office is low and soft, outdoors it hisses."""

    def plan_for(location: str):
        text = (
            f"version: 1\ntitle: R\nworld: {{location: '{location}', weather: rain}}\nshots: [{{id: a, duration: 2}}]\n"
        )
        return make_plan(parse_storyboard(text, "sb.yaml", EXAMPLES))

    office, street = plan_for("a kitchen in a flat"), plan_for("a busy city street")
    assert office.shots[0].world.facts.weather_heard == "muffled"
    assert bed_for(office.shots[0]) == ("rain_muffled", "room_tone")
    assert "rain" in bed_for(street.shots[0])

    def high_share(component: str) -> float:
        x = component_range(component, RATE, RATE * 2)[:, 0]
        power = np.abs(np.fft.rfft(x)) ** 2
        freqs = np.fft.rfftfreq(len(x), 1 / RATE)
        return float(power[freqs > 1500].sum() / power.sum())

    assert high_share("rain_muffled") < 0.02 < 0.5 < high_share("rain")


@pytest.mark.parametrize("said", ["...", "…", "—", "---", "?!"])
def test_a_line_that_speaks_no_sound_is_a_silence_with_a_readable_cue(said):
    plan = plan_of(
        f"""\
        version: 1
        title: Pause
        output: {{width: 128, height: 72, fps: 12}}
        world:
          location: "a quiet room"
          characters: {{kim: {{description: "courier"}}}}
        audio: {{ambience: none}}
        shots:
          - id: one
            cast: [kim]
            dialogue:
              - {{speaker: kim, line: "{said}"}}
              - {{speaker: kim, line: "Go on."}}
        """
    )
    mixed = Mixer(plan).render(0, int(plan.duration * RATE))  # crashed: np.max over empty speech
    silent, spoken = plan.shots[0].dialogue
    assert np.abs(mixed[int(silent.start * RATE) : int(spoken.start * RATE)]).max() < 1e-4
    assert np.abs(mixed[int(spoken.start * RATE) : int(spoken.end * RATE)]).max() > 0.05
    shown = [c for c in cues(plan) if c.text == said]
    assert len(shown) == 1 and shown[0].end - shown[0].start >= 5 / 6 - 1e-3  # to the ms


def _with_music(folder: Path) -> tuple[Plan, Path]:
    """The dialogue film's plan with the example theme as its music (copied into ``folder``), and the music file."""
    import shutil

    song = folder / "assets" / "theme.wav"
    song.parent.mkdir()
    shutil.copy(EXAMPLES / "assets" / "theme.wav", song)
    music = "audio: {ambience: none, music: {file: assets/theme.wav}}"
    return plan_of(DIALOGUE.replace("audio: {ambience: none}", music), folder), song


@pytest.mark.parametrize("change", ["saved anew", "removed"])
def test_a_music_file_changed_while_the_mix_is_made_stops_the_mix(tmp_path, change):
    """The music is decoded when first played: a file saved anew (or removed) since the mix was described
    stops the mix with one line, instead of mixing the new sound into blocks kept under the old digest."""
    from sora_cli.errors import SoraError

    plan, song = _with_music(tmp_path)
    mixer = Mixer(plan)
    if change == "removed":
        song.unlink()
    else:
        song.write_bytes(song.read_bytes())  # (the same sound, written again: another file as far as sora knows)
    with pytest.raises(SoraError, match=r"theme\.wav changed while the film was being made: render again"):
        mixer.render(0, RATE)
    if change == "saved anew":  # (a mix described afresh plays it)
        assert Mixer(plan).render(0, RATE).shape == (RATE, 2)


def test_a_music_file_saved_between_the_soundtrack_key_and_the_mix_stops_the_mix(tmp_path, monkeypatch):
    """The soundtrack's cache key and its mix come from one description of the mix: a file saved after the
    key was made (before the mix began) stops the mix, never storing the new sound under the old key."""
    from types import SimpleNamespace

    from sora_cli.errors import SoraError
    from sora_cli.sound import mix

    plan, song = _with_music(tmp_path)
    real = mix.mix_soundtrack

    def saved_first(*args, **kwargs):
        song.write_bytes(song.read_bytes())  # (saved again just as the mix begins)
        return real(*args, **kwargs)

    monkeypatch.setattr(mix, "mix_soundtrack", saved_first)
    cache = SimpleNamespace(root=tmp_path / "cache")
    with pytest.raises(SoraError, match=r"theme\.wav changed while the film was being made"):
        mix.cached_soundtrack(plan, cache, tmp_path / "a.m4a")
    assert not list((tmp_path / "cache" / "sound").glob("*.m4a"))
