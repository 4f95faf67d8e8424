"""A line in another script than its voice's language is spoken by a voice of that language, not spelled."""

from __future__ import annotations

import os

import pytest

from sora_cli.speech.engine import RUN_GAP, engine, speak
from sora_cli.speech.scripts import dominant_script, script_runs, unreadable
from sora_cli.speech.voice import ResolvedVoice

EN = ResolvedVoice(engine="espeak", voice="en-us", pitch=50, rate=160, range=50)


@pytest.mark.parametrize(
    ("text", "language"),
    [("مرحبا بكم في المقهى", "ar"), ("שלום וברוכים הבאים", "he"), ("欢迎光临我们的咖啡馆", "cmn")],
)
def test_another_script_is_spoken_by_its_language(text: str, language: str) -> None:
    spelled = engine("espeak").synthesize(text, EN, "normal")  # the English voice reading letter names
    native = engine("espeak").synthesize(text, EN.model_copy(update={"voice": language}), "normal")
    said = speak(text, EN, "normal")
    assert said.duration == pytest.approx(native.duration)
    assert said.duration < spelled.duration / 2  # not "Arabic meem, Hebrew shin, ..."


def test_the_voice_language_is_kept_for_its_own_script() -> None:
    ar = EN.model_copy(update={"voice": "ar"})
    text = "مرحبا"
    assert speak(text, ar, "normal").duration == pytest.approx(engine("espeak").synthesize(text, ar, "normal").duration)
    assert speak("Hello there.", EN, "normal").duration == pytest.approx(
        engine("espeak").synthesize("Hello there.", EN, "normal").duration
    )
    assert dominant_script("Hi, שלום עולם") == "HEBREW" and dominant_script("12 3") is None


GB = ResolvedVoice(engine="espeak", voice="en-gb", pitch=50, rate=165, range=50)


def test_a_foreign_word_inside_a_line_is_spoken_in_its_language_by_the_same_speaker() -> None:
    text = "Hello my friend, مرحبا"
    espeak = engine("espeak")
    spelled = espeak.synthesize(text, GB, "normal")  # before: the whole line to the English voice
    english = espeak.synthesize("Hello my friend, ", GB, "normal")
    arabic = espeak.synthesize("مرحبا", GB.model_copy(update={"voice": "ar"}), "normal")
    said = speak(text, GB, "normal")
    # measured: about 4.3 s spelled ("Arabic meem ...") against about 1.8 s spoken
    assert said.duration < spelled.duration / 2
    assert said.duration == pytest.approx(english.duration + RUN_GAP + arabic.duration, abs=1e-3)
    runs = script_runs(text, GB.model_copy(update={"voice": "en-gb+f3", "pitch": 70}), set(espeak.voice_names()))
    assert [(part.strip(), v.voice, v.pitch) for part, v in runs] == [
        ("Hello my friend,", "en-gb+f3", 70),
        ("مرحبا", "ar+f3", 70),  # the same speaker: variant and pitch kept
    ]


@pytest.mark.parametrize(
    ("text", "plain"),
    [("ﻣﺮﺣﺒﺎ", "مرحبا"), ("\U0001d407\U0001d41e\U0001d425\U0001d425\U0001d428 there", "Hello there")],
)
def test_compatibility_forms_are_spoken_as_the_letters_they_stand_for(text: str, plain: str) -> None:
    espeak = engine("espeak")
    spelled = espeak.synthesize(text, GB, "normal")
    said = speak(text, GB, "normal")
    assert said.duration == pytest.approx(speak(plain, GB, "normal").duration)
    assert said.duration < spelled.duration / 2


def test_kanji_in_japanese_is_refused_at_validate_not_spelled() -> None:
    from tests.conftest import problems_of

    ja = GB.model_copy(update={"voice": "ja"})
    assert unreadable("東京へ行きます", "ja") and unreadable("東京へ行きます", "en-gb")  # kana around it: Japanese
    assert unreadable("とうきょうへいきます", "ja") is None and unreadable("欢迎光临", "en-us") is None
    kana = speak("とうきょうへいきます", ja, "normal")
    assert kana.duration < engine("espeak").synthesize("東京へ行きます", ja, "normal").duration  # "Chinese letter ..."
    text = """\
    version: 1
    title: S
    output: {width: 128, height: 72, fps: 6}
    world:
      location: r
      characters:
        ana: {description: a, voice: {voice: ja}}
    shots:
      - id: a
        dialogue:
          - {speaker: ana, line: "東京へ行きます"}
          - {speaker: ana, line: "とうきょうへいきます"}
    """
    problems = problems_of(text)
    assert len(problems) == 1 and "shots[0].dialogue[0].line" in problems[0]
    assert "kana" in problems[0] and "recorded take" in problems[0]


def test_lines_spoken_ahead_side_by_side_are_the_lines_spoken_alone(monkeypatch) -> None:
    """A plan speaks its lines side by side (speak_ahead); each must be exactly the line spoken alone, and
    speak must take it instead of speaking it again."""
    from sora_cli.speech import engine as speech

    lines = [
        ("Hold the lantern up.", GB, "normal"),
        ("We should go before the tide turns.", EN, "whisper"),
        ("Die Flut kommt, sagt Zoë: Привет!", GB, "shout"),  # (a run in Russian inside an English voice)
        ("The boat is ready when you are.", EN, "normal"),
    ]
    speech.forget_spoken()
    alone = [speech._synthesised(*line) for line in lines]  # (each run spoken by itself, nothing ahead)
    speech.speak_ahead(lines)
    assert len(speech._ahead) > len(lines)  # (the third line is two runs)
    real = speech.EspeakEngine.synthesize_many
    again: list[str] = []
    monkeypatch.setattr(speech.EspeakEngine, "synthesize_many", lambda s, todo: again.extend(todo) or real(s, todo))
    got = [speak(*line) for line in lines]
    assert not again and not speech._ahead
    for mine, own in zip(got, alone, strict=True):
        assert mine.samples.tobytes() == own.samples.tobytes() and mine.phonemes == own.phonemes
    # lines speak holds are not spoken ahead again; what a plan spoke ahead and never took is dropped by the next
    speech.speak_ahead([*lines, ("A new line.", EN, "normal"), ("Another one.", GB, "normal")])
    assert set(speech._ahead) == {("A new line.", EN, "normal"), ("Another one.", GB, "normal")}
    speech.speak_ahead([("Third.", EN, "normal"), ("Fourth.", EN, "normal")])
    assert set(speech._ahead) == {("Third.", EN, "normal"), ("Fourth.", EN, "normal")}
    speech.forget_spoken()


def test_speak_keeps_a_bounded_number_of_lines(monkeypatch) -> None:
    from sora_cli.speech import engine as speech

    speech.forget_spoken()
    monkeypatch.setattr(speech, "SPOKEN_KEPT", 3)
    for word in ["One.", "Two.", "Three.", "One.", "Four."]:
        speak(word, EN, "normal")
    assert [line[0] for line in speech._spoken] == ["Three.", "One.", "Four."]  # (least recently asked first)
    speech.forget_spoken()


def test_a_line_that_cannot_be_spoken_beside_others_leaves_no_child_behind() -> None:
    from pathlib import Path

    from sora_cli.errors import SoraError
    from sora_cli.speech.engine import EspeakEngine

    def children() -> set[str]:
        me = os.getpid()
        return set(Path(f"/proc/{me}/task/{me}/children").read_text().split())

    before = children()
    bad = ResolvedVoice(engine="espeak", voice="zz-nowhere", pitch=50, rate=160, range=50)
    lines = [("One.", EN, "normal"), ("Two.", bad, "normal"), ("Three.", GB, "shout"), ("Four.", EN, "whisper")]
    with pytest.raises(SoraError, match=r"could not speak 'Two\.'"):
        EspeakEngine().synthesize_many(lines)
    assert children() == before


def test_a_speech_process_killed_from_outside_is_said_so_not_blamed_on_the_line(monkeypatch) -> None:
    import signal

    from sora_cli.errors import SoraError
    from sora_cli.speech.engine import EspeakEngine

    monkeypatch.setattr(EspeakEngine, "_speak_here", lambda self, *line: os.kill(os.getpid(), signal.SIGKILL))
    with pytest.raises(SoraError, match=r"^the speech process for 'Hello\.' was killed by SIGKILL$"):
        EspeakEngine().synthesize_many([("Hello.", EN, "normal"), ("There.", EN, "normal")])
