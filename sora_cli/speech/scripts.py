"""A line, or a run of words in it, in another script than its voice's language is spoken by a voice of
that script's language.

espeak-ng reads text it has no rules for letter by letter in the voice's own
language ("Arabic meem, Hebrew shin, ..."), so an English voice given Arabic
says nothing a listener understands. The text is NFKC-normalised first (Arabic
presentation forms, half-width kana and mathematical bold Latin become the
letters they stand for), then split into runs of one script (by Unicode
character names; spaces, digits and punctuation go with the run they are in).
Each run the voice's language cannot read is spoken by the same voice (pitch,
rate, range, variant) in the language of that run's script, so one speaker says
"Hello my friend, مرحبا" in English then Arabic.

Some text no espeak-ng voice reads: kanji in Japanese (espeak-ng's ``ja``
reads kana only, and says "Chinese letter" for each kanji; a Mandarin voice
would give the wrong words). :func:`unreadable` says so, and the plan refuses
such a line (write it in kana, or give a recorded take).
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
    "cmn": {"CJK"}, "yue": {"CJK"}, "zh": {"CJK"}, "ja": {"HIRAGANA", "KATAKANA"}, "ko": {"HANGUL"},
    "ru": {"CYRILLIC"}, "uk": {"CYRILLIC"}, "bg": {"CYRILLIC"}, "sr": {"CYRILLIC"}, "mk": {"CYRILLIC"},
    "be": {"CYRILLIC"}, "el": {"GREEK"}, "grc": {"GREEK"}, "hi": {"DEVANAGARI"}, "mr": {"DEVANAGARI"},
    "ne": {"DEVANAGARI"}, "th": {"THAI"}, "ka": {"GEORGIAN"}, "hy": {"ARMENIAN"}, "bn": {"BENGALI"},
    "ta": {"TAMIL"},
}  # fmt: skip


#: first words of Unicode names that belong to a listed script under another name
_SCRIPT_ALIASES = {"KATAKANA-HIRAGANA": "KATAKANA", "HALFWIDTH": "KATAKANA", "IDEOGRAPHIC": "CJK"}
KANA = frozenset({"HIRAGANA", "KATAKANA"})


def normalised(text: str) -> str:
    """NFKC: compatibility forms (presentation forms, full/half width, math alphanumerics) as plain letters."""
    return unicodedata.normalize("NFKC", text)


def script_of(char: str) -> str | None:
    """A letter's script ("LATIN", "ARABIC", "CJK", ...); None for what is not a letter."""
    if not char.isalpha():
        return None
    first = unicodedata.name(char, "UNKNOWN").split(" ")[0]
    return _SCRIPT_ALIASES.get(first, first)


def dominant_script(text: str) -> str | None:
    """The script most of the line's letters are written in ("LATIN", "ARABIC", ...); None without letters."""
    counts: Counter[str] = Counter(s for s in map(script_of, normalised(text)) if s)
    return counts.most_common(1)[0][0] if counts else None


def language_of(voice_name: str) -> str:
    """``en-gb+f3`` -> ``en``."""
    return voice_name.split("+")[0].split("-")[0].lower()


def _reads(language: str, script: str) -> bool:
    """Whether a voice of ``language`` reads ``script`` (Latin, and scripts sora has no voice for, stay
    with the voice as they were)."""
    return script not in SCRIPT_LANGUAGE or script in LANGUAGE_SCRIPTS.get(language, set())


def unreadable(text: str, voice_name: str) -> str | None:
    """Why no espeak-ng voice can speak ``text`` for a voice ``voice_name`` (None when one can)."""
    scripts = {s for s in map(script_of, normalised(text)) if s}
    if "CJK" in scripts and (language_of(voice_name) == "ja" or scripts & KANA):
        return (
            "espeak-ng cannot read kanji in Japanese (it says 'Chinese letter' for each): "
            "write the line in kana (hiragana or katakana), or give a recorded take (audio: FILE)"
        )
    return None


def _in_language(voice: ResolvedVoice, language: str) -> ResolvedVoice:
    """The same voice (pitch, rate, range, variant) speaking ``language``."""
    _, plus, variant = voice.voice.partition("+")
    return voice.model_copy(update={"voice": language + plus + variant})


def script_runs(text: str, voice: ResolvedVoice, known: set[str]) -> list[tuple[str, ResolvedVoice]]:
    """The normalised line as runs to speak in order, each with the voice that reads it: ``voice`` for
    what its language reads, the same voice in another language for a run of another script.

    ``known``: the engine's voice names (a script whose language the engine lacks stays with ``voice``)."""
    language = language_of(voice.voice)
    runs: list[tuple[str, ResolvedVoice]] = []
    current, current_voice = "", voice
    for char in normalised(text):
        script = script_of(char)
        if script is None:
            current += char  # spaces, digits, punctuation: with the run they are in
            continue
        wanted = voice
        if not _reads(language, script) and SCRIPT_LANGUAGE[script] in known:
            wanted = _in_language(voice, SCRIPT_LANGUAGE[script])
        if wanted != current_voice and any(c.isalpha() for c in current):
            runs.append((current, current_voice))
            current = ""
        current, current_voice = current + char, wanted
    if current or not runs:
        runs.append((current, current_voice))
    return runs


def voice_for_text(text: str, voice: ResolvedVoice, known: set[str]) -> ResolvedVoice:
    """``voice``, or the same voice speaking the language of the line's main script when its own cannot
    read it (for a whole line; :func:`script_runs` splits a line of several scripts)."""
    script = dominant_script(text)
    if script is None or _reads(language_of(voice.voice), script) or SCRIPT_LANGUAGE[script] not in known:
        return voice
    return _in_language(voice, SCRIPT_LANGUAGE[script])
