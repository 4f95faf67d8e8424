"""Everything a render checks before it draws, in one place: `validate`, `plan` and `render` all call it.

The storyboard's own rules are checked when it is loaded; this adds what needs
the outside world: the backend (installed, its options, its model) and every
asset it names (each decodes, within the documented limits). A problem is
located at the field that names the thing, exit 2, before anything renders,
so a film never fails after its shots are drawn because a file was bad.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

from sora_cli.audio_files import check_audio
from sora_cli.cameo.consent import revoked_likeness
from sora_cli.cameo.library import CameoRefused, find_cameo, library_dirs
from sora_cli.digests import file_version
from sora_cli.errors import Problem, StoryboardError, UsageError
from sora_cli.render.registry import backend_class, checked_pairs, origin
from sora_cli.sound_catalog import EFFECTS
from sora_cli.storyboard import Storyboard
from sora_cli.storyboard.limits import MAX_AUDIO_SECONDS, MAX_IMAGE_PIXELS
from sora_cli.storyboard.source import FieldPath


def check_image(path: Path) -> str | None:
    """Why ``path`` is not a usable image, or None: the header's size first, then a full decode.

    Pillow's own bomb guard (a warning, then an error at twice its limit) is
    replaced by :data:`MAX_IMAGE_PIXELS`, checked from the header before any
    pixel is decoded, so the message can give the size.
    """
    from PIL import Image

    guard, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path) as img:
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS:
                return f"is {width}x{height} ({width * height:,} pixels); images may have at most {MAX_IMAGE_PIXELS:,}"
            img.load()
    except Exception as exc:  # Pillow raises OSError, ValueError, SyntaxError... for bad files
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"is not an image Pillow can decode ({text.replace(str(path), 'the file')})"
    finally:
        Image.MAX_IMAGE_PIXELS = guard
    return None


def _assets(sb: Storyboard, cameo_dirs: Path | None) -> Iterator[tuple[FieldPath, str, Path, str]]:
    """(where it is named, what it is, the file, image | audio) for every asset of the film."""
    for cid, char in sb.world.characters.items():
        base: FieldPath = ("world", "characters", cid)
        if char.cameo:
            try:
                cameo = find_cameo(char.cameo, library_dirs(sb.source.base_dir, cameo_dirs))
            except CameoRefused:
                continue  # the storyboard rules report it
            for p in cameo.likeness:
                yield base + ("cameo",), f"cameo {char.cameo!r} likeness", p, "image"
        for i, ref in enumerate(char.reference):
            yield base + ("reference", i), "likeness image", sb.source.resolve_asset(ref), "image"
    if sb.audio.music:
        yield ("audio", "music", "file"), "music file", sb.source.resolve_asset(sb.audio.music.file), "audio"
    if sb.audio.ambience not in ("auto", "none"):
        yield ("audio", "ambience"), "ambience file", sb.source.resolve_asset(sb.audio.ambience), "audio"
    for i, shot in enumerate(sb.shots):
        for j, line in enumerate(shot.dialogue):
            if line.audio:
                where = ("shots", i, "dialogue", j, "audio")
                yield where, "recorded take", sb.source.resolve_asset(line.audio), "audio"
        for j, sfx in enumerate(shot.sfx):
            if sfx.sound not in EFFECTS:
                yield ("shots", i, "sfx", j, "sound"), "sound file", sb.source.resolve_asset(sfx.sound), "audio"


def asset_files(sb: Storyboard, cameo_dirs: Path | None = None) -> list[Path]:
    """Every file the film draws from (likeness images, cameo likenesses, music, ambience, takes, sounds)."""
    return list(dict.fromkeys(path for _, _, path, _ in _assets(sb, cameo_dirs)))


def check_assets(sb: Storyboard, cameo_dirs: Path | None = None) -> list[Problem]:
    """Every asset decodes and is within the limits; each file is checked once."""
    problems: list[Problem] = []
    verdicts: dict[tuple[Path, str], str | None] = {}
    for where, what, path, kind in _assets(sb, cameo_dirs):
        if not path.is_file():
            continue  # the storyboard rules already said "not found"
        key = (path, kind)
        if key not in verdicts:
            verdicts[key] = _verdict(str(path.resolve()), kind, file_version(path.stat()))
        if why := verdicts[key]:
            problems.append(sb.source.problem(where, f"{what} {path.name!r} {why}"))
        elif what == "likeness image" and (revoked := revoked_likeness(path)):
            problems.append(
                sb.source.problem(
                    where, f"{what} {path.name!r} shows revoked cameo {revoked!r} (its face crop); it cannot be used"
                )
            )
    return problems


@functools.lru_cache(maxsize=256)
def _verdict(path: str, kind: str, version: tuple[int, ...]) -> str | None:
    """One decode per file version in a process (``validate`` of many storyboards sharing assets)."""
    return check_image(Path(path)) if kind == "image" else check_audio(path, MAX_AUDIO_SECONDS)


def check_backend(sb: Storyboard, backend: str | type | None = None) -> list[Problem]:
    """The backend exists (listing the installed ones) and accepts ``backend.model`` and ``backend.options``.

    ``backend`` overrides the storyboard's (``--backend``); an unknown override
    is a usage error, an unknown ``backend.name`` a located problem.
    """
    name = backend or sb.backend.name
    try:
        cls = backend_class(name)
    except UsageError as exc:
        if backend is not None:
            raise
        return [sb.source.problem(("backend", "name"), str(exc))]
    problems: list[Problem] = []
    if why := cls.check_model(sb.backend.model, sb.source.base_dir):
        if not isinstance(why, str):
            raise UsageError(f"{origin(cls)}: check_model returned {type(why).__name__}, not a message or None")
        problems.append(sb.source.problem(("backend", "model"), why))
    problems += [
        sb.source.problem(("backend", "options", key), message, key=True)
        for key, message in checked_pairs(cls, cls.check_options(sb.backend.options), "check_options")
    ]
    if not problems:  # what the model itself allows (read from its configs)
        out = sb.output
        durations = [shot.duration for shot in sb.shots]  # the longest shot bounds a call (None: timed by speech)
        longest = None if None in durations else max(durations, default=None)
        found = cls.check_film(
            sb.backend.model, sb.source.base_dir, sb.backend.options, out.width, out.height, out.fps, longest=longest
        )
        problems += [sb.source.problem(path, message) for path, message in checked_pairs(cls, found, "check_film")]
    return problems


def preflight(sb: Storyboard, cameo_dirs: Path | None = None, backend: str | type | None = None) -> None:
    """Raise :class:`StoryboardError` with every problem of the backend and the assets.

    Runs after the storyboard's rules and before planning (which reads the
    recorded takes to time the lines), and before anything is drawn.
    """
    problems = check_backend(sb, backend) + check_assets(sb, cameo_dirs)
    if problems:
        raise StoryboardError(problems)
