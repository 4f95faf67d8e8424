"""A line in another script than its voice's language is spoken by a voice of that script's language.

espeak-ng reads text it has no rules for letter by letter in the voice's own
language ("Arabic meem, Hebrew shin, ..."), so an English voice given Arabic
says nothing a listener understands. The line's dominant script (by Unicode
character names) picks the language that speaks it, keeping the character's
pitch, rate and range; a voice whose language writes that script is kept.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from sora_cli.speech.voice import ResolvedVoice

#: a script (the first word of its letters' Unicode names) -> the espeak-ng language that speaks it
SCRIPT_LANGUAGE = {
    "ARABIC": "ar",
    "HEBREW": "he",
    "CJK": "cmn",
    "HIRAGANA": "ja",
    "KATAKANA": "ja",
    "HANGUL": "ko",
    "CYRILLIC": "ru",
    "GREEK": "el",
    "DEVANAGARI": "hi",
    "THAI": "th",
    "GEORGIAN": "ka",
    "ARMENIAN": "hy",
    "BENGALI": "bn",
    "TAMIL": "ta",
}
#: language code prefixes that write a script other than Latin
LANGUAGE_SCRIPTS = {
    "ar": {"ARABIC"}, "fa": {"ARABIC"}, "ur": {"ARABIC"}, "he": {"HEBREW"},
    "cmn": {"CJK"}, "yue": {"CJK"}, "zh": {"CJK"}, "ja": {"CJK", "HIRAGANA", "KATAKANA"}, "ko": {"HANGUL"},
    "ru": {"CYRILLIC"}, "uk": {"CYRILLIC"}, "bg": {"CYRILLIC"}, "sr": {"CYRILLIC"}, "mk": {"CYRILLIC"},
    "be": {"CYRILLIC"}, "el": {"GREEK"}, "grc": {"GREEK"}, "hi": {"DEVANAGARI"}, "mr": {"DEVANAGARI"},
    "ne": {"DEVANAGARI"}, "th": {"THAI"}, "ka": {"GEORGIAN"}, "hy": {"ARMENIAN"}, "bn": {"BENGALI"},
    "ta": {"TAMIL"},
}  # fmt: skip


def dominant_script(text: str) -> str | None:
    """The script most of the line's letters are written in ("LATIN", "ARABIC", ...); None without letters."""
    counts: Counter[str] = Counter()
    for char in text:
        if char.isalpha():
            counts[unicodedata.name(char, "UNKNOWN").split(" ")[0]] += 1
    return counts.most_common(1)[0][0] if counts else None


def voice_for_text(text: str, voice: ResolvedVoice, known: set[str]) -> ResolvedVoice:
    """``voice``, or the same voice speaking the language of the line's script when its own cannot read it.

    ``known``: the engine's voice names (a language the engine lacks keeps the voice as it was)."""
    script = dominant_script(text)
    if script is None or script not in SCRIPT_LANGUAGE:
        return voice
    language = voice.voice.split("+")[0].split("-")[0].lower()
    if script in LANGUAGE_SCRIPTS.get(language, set()):
        return voice
    target = SCRIPT_LANGUAGE[script]
    if target not in known:
        return voice
    return voice.model_copy(update={"voice": target})
