"""The storyboard sheet: one key frame per shot in a grid, as agencies send for approval.

Any backend can make it: it asks each shot for one key frame only. Each panel
carries the shot's id, start and duration, camera, cast, action and dialogue.
Written as PNG or PDF (by the output's extension), atomically.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sora_cli.atomic import SYMLINK_LOOP, atomic_path, naming, symlink_loop
from sora_cli.errors import UsageError
from sora_cli.fonts import BOLD, REGULAR
from sora_cli.plan.model import Plan
from sora_cli.render.backend import FilmSettings
from sora_cli.render.registry import backend_class

PANEL_W = 480
COLUMNS = 3


def make_board(plan: Plan, backend_name: str, out: Path) -> Path:
    if out.suffix.lower() not in (".png", ".pdf"):
        raise UsageError(f"the board is written as .png or .pdf, not {out.suffix or 'no extension'!r}")
    if symlink_loop(out):
        raise UsageError(f"-o {out}: {SYMLINK_LOOP}")
    width = PANEL_W
    height = round(width * plan.height / plan.width / 2) * 2
    backend = backend_class(backend_name)()
    backend.open(FilmSettings.from_plan(plan, width=width, height=height))
    try:
        frames = _key_frames(plan, backend)
    finally:
        backend.close()
    title_font = ImageFont.truetype(str(BOLD), 26)
    head = ImageFont.truetype(str(BOLD), 15)
    body = ImageFont.truetype(str(REGULAR), 13)
    text_h = 150
    pad = 18
    rows = math.ceil(len(frames) / COLUMNS)
    cols = min(COLUMNS, len(frames))
    sheet = Image.new("RGB", (pad + cols * (width + pad), 70 + rows * (height + text_h + pad)), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text(
        (pad, 20), f"{plan.title}  ·  {len(plan.shots)} shots  ·  {plan.duration:.1f} s", font=title_font, fill="black"
    )
    for i, (shot, frame) in enumerate(zip(plan.shots, frames, strict=True)):
        x = pad + (i % COLUMNS) * (width + pad)
        y = 70 + (i // COLUMNS) * (height + text_h + pad)
        sheet.paste(Image.fromarray(np.ascontiguousarray(frame[:, :, :3])), (x, y))
        draw.rectangle((x, y, x + width - 1, y + height - 1), outline=(60, 60, 60))
        ty = y + height + 6
        draw.text(
            (x, ty), f"{shot.index + 1}. {shot.id}   {shot.start:.2f}s +{shot.duration:.2f}s", font=head, fill="black"
        )
        enters = "continues" if shot.continuity == "continue" else shot.transition.type
        meta = f"{shot.camera.framing.replace('_', ' ')}, {shot.camera.move.replace('_', ' ')} · {enters} · cast: {', '.join(shot.cast) or '-'}"
        lines = [meta, *textwrap.wrap(shot.action, 62)[:2]]
        lines += [f'{d.speaker}: "{d.line}"' for d in shot.dialogue]
        for k, line in enumerate(lines[:6]):
            draw.text(
                (x, ty + 22 + k * 18), textwrap.shorten(line, 70, placeholder="..."), font=body, fill=(40, 40, 40)
            )
    with naming(out), atomic_path(out) as tmp:  # (PIL's failed write names no file)
        sheet.save(tmp, format="PDF" if out.suffix.lower() == ".pdf" else "PNG", resolution=150)
    return out


def _key_frames(plan: Plan, backend: Any) -> list[np.ndarray]:
    """One key frame per shot; a ``continue`` shot's is the film's own, from the chain's carried state.

    Backends that can step a shot without drawing it offer ``key_frame_after(shot,
    carry) -> (frame, carry)``; the others are asked for ``key_frame(shot)`` alone.
    """
    chained = getattr(backend, "key_frame_after", None)
    if chained is None:
        return [backend.key_frame(shot) for shot in plan.shots]
    frames, carry = [], None
    for shot in plan.shots:
        frame, carry = chained(shot, carry if shot.continuity == "continue" else None)
        frames.append(frame)
    return frames
