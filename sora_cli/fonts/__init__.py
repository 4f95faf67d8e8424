"""Fonts shipped with sora, so text never depends on what a machine has installed.

DejaVu Sans (Latin, Greek, Cyrillic, Arabic, Hebrew and many symbols) under the
DejaVu/Bitstream Vera licence in ``LICENSE_DEJAVU``; Noto Sans CJK (Chinese,
Japanese, Korean) from the ``noto-cjk-sans-jp-regular`` wheel, under the SIL
Open Font License, as the fallback for what DejaVu lacks.
"""

from __future__ import annotations

import functools
from pathlib import Path

FONTS_DIR = Path(__file__).resolve().parent
#: our own fontconfig file (put in the environment by ``sora_cli/__init__.py``)
FONTCONFIG_FILE = FONTS_DIR / "fonts.conf"
REGULAR = FONTS_DIR / "DejaVuSans.ttf"
BOLD = FONTS_DIR / "DejaVuSans-Bold.ttf"
MONO = FONTS_DIR / "DejaVuSansMono.ttf"


@functools.cache
def fallback_chain() -> tuple[tuple[str, Path], ...]:
    """(family, file) in the order text falls back through them."""
    chain = [("DejaVu Sans", REGULAR)]
    try:
        import noto_cjk_sans_jp_regular

        chain.append(("Noto Sans CJK JP", Path(str(noto_cjk_sans_jp_regular.FONT_PATH))))
    except ImportError:  # pragma: no cover - a broken install; CJK would show as boxes
        pass
    return tuple(chain)


@functools.cache
def _typefaces() -> tuple:
    import skia

    quiet_fontconfig()
    return tuple(skia.Typeface.MakeFromFile(str(path)) for _, path in fallback_chain())


@functools.lru_cache(maxsize=4096)
def family_for(char: str) -> str:
    """The first font in :func:`fallback_chain` with a glyph for ``char`` (the first font if none has)."""
    import skia

    for (family, _), typeface in zip(fallback_chain(), _typefaces(), strict=True):
        if char.isspace() or skia.Font(typeface).textToGlyphs(char)[0] != 0:
            return family
    return fallback_chain()[0][0]


@functools.cache
@functools.cache
def quiet_fontconfig() -> None:
    """Initialise the drawing library's fontconfig now, with its start-up chatter discarded.

    skia's bundled fontconfig reads our ``fonts.conf`` (see ``sora_cli/__init__.py``)
    but also parses the machine's template folder, whose newer syntax it warns
    about on stderr on every render. Those lines are not about the film and
    ``--quiet`` must print nothing, so the one initialisation runs with fd 2
    pointed at /dev/null; every later message reaches stderr as usual.
    """
    import os

    try:
        import skia
    except ImportError:  # pragma: no cover - a broken install
        return
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        skia.FontMgr.RefDefault().countFamilies()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
