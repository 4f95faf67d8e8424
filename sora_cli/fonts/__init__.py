"""Fonts shipped with sora, so text never depends on what a machine has installed.

DejaVu Sans (Latin, Greek, Cyrillic, Arabic, Hebrew and many symbols) under the
DejaVu/Bitstream Vera licence in ``LICENSE_DEJAVU``.
"""

from __future__ import annotations

from pathlib import Path

FONTS_DIR = Path(__file__).resolve().parent
REGULAR = FONTS_DIR / "DejaVuSans.ttf"
BOLD = FONTS_DIR / "DejaVuSans-Bold.ttf"
MONO = FONTS_DIR / "DejaVuSansMono.ttf"
