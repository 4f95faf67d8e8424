"""A line in another script than its voice's language is spoken by a voice of that language, not spelled."""

from __future__ import annotations

import pytest

from sora_cli.speech.engine import engine, speak
from sora_cli.speech.scripts import dominant_script
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
