"""Sound samples stored compactly and losslessly: the sound cache's mix blocks and limiter headroom.

The mix's blocks (stereo float32) and their limiter headroom (mono float32) are kept by
content so that an edit re-mixes only the blocks it touched. Raw, they cost 0.58 MB per
second of film. Stored here as the float32 bytes regrouped by significance (all first
bytes, then all second bytes...: the "shuffle" filter of HDF5 and Blosc), each of the
four planes deflated, or kept as it is where a probe of it does not deflate (the mix's
three low planes are noise: deflating them cost seven eighths of the packing time and
saved 0.03%): the bytes come back bit for bit, so the film made from them is the same
byte for byte. The headroom (a smooth envelope) shrinks ~50x; the mix ~15-30%: its noise
floor (the procedural ambience) fills the low mantissa bits, and no lossless coder gets
under that.
A ground-floor service (digests and atomic writes only), so sound need not import render.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sora_cli.atomic import atomic_write_bytes
from sora_cli.digests import discard, seal, verified

SAMPLES_MAGIC = b"sorapcm2"  # planes deflated one by one, or kept
WHOLE_MAGIC = b"sorapcm1"  # the four planes deflated as one (still read)
_PROBE = 1 << 15  # bytes of a plane deflated first, to see whether the whole plane is worth it
_WORTH = 0.9  # deflate a plane whose probe shrinks under this fraction
#: deflate level per kind: the mix is mostly noise (level 1 gets within 2% of 9 at a fifth of the time)
SAMPLES_LEVEL = 1


def pack_samples(samples: np.ndarray, level: int = SAMPLES_LEVEL) -> bytes:
    """float32 samples (frames x channels) -> header, plane table and the byte-shuffled planes (little-endian)."""
    import zlib

    data = np.ascontiguousarray(samples, dtype="<f4")
    frames, channels = (data.shape[0], 1) if data.ndim == 1 else data.shape
    blobs: list[bytes] = []
    table: list[tuple[int, int]] = []
    for plane in data.view(np.uint8).reshape(-1, 4).T:
        raw = plane.tobytes()
        probe = raw[:_PROBE]
        packed = zlib.compress(raw, level) if len(zlib.compress(probe, level)) < _WORTH * len(probe) else raw
        deflated = len(packed) < len(raw)
        blobs.append(packed if deflated else raw)
        table.append((int(deflated), len(blobs[-1])))
    header = SAMPLES_MAGIC + np.array([frames, channels], dtype="<u4").tobytes()
    return header + np.array(table, dtype="<u4").tobytes() + b"".join(blobs)


def unpack_samples(blob: bytes) -> np.ndarray:
    """The samples :func:`pack_samples` stored, bit for bit (frames x channels float32); ValueError if damaged."""
    import zlib

    magic = blob[: len(SAMPLES_MAGIC)]
    if magic not in (SAMPLES_MAGIC, WHOLE_MAGIC) or len(blob) < len(SAMPLES_MAGIC) + 8:
        raise ValueError("not a sora sample block")
    frames, channels = (int(v) for v in np.frombuffer(blob[8:16], dtype="<u4"))
    size = frames * channels
    try:
        if magic == WHOLE_MAGIC:
            shuffled = zlib.decompress(blob[16:])
        else:
            if len(blob) < 48:
                raise ValueError("sample block cut short")
            table = np.frombuffer(blob[16:48], dtype="<u4").reshape(4, 2)
            parts, at = [], 48
            for deflated, length in table:
                part = blob[at : at + int(length)]
                parts.append(zlib.decompress(part) if deflated else part)
                at += int(length)
            if at != len(blob) or any(len(part) != size for part in parts):
                raise ValueError("sample block of the wrong length")
            shuffled = b"".join(parts)
    except zlib.error as exc:
        raise ValueError(f"damaged sample block ({exc})") from None
    if len(shuffled) != size * 4:
        raise ValueError("sample block of the wrong length")
    planes = np.frombuffer(shuffled, dtype=np.uint8).reshape(4, -1)
    return planes.T.copy().view("<f4").reshape(frames, channels).astype(np.float32, copy=False)


def store_samples(path: Path, samples: np.ndarray, level: int = SAMPLES_LEVEL) -> None:
    """Write a sample block as a cache entry (atomically, then its digest record); a failed write names ``path``."""
    atomic_write_bytes(path, pack_samples(samples, level))
    seal(path)


def load_samples(path: Path) -> np.ndarray | None:
    """A stored sample block, or None when it is missing, fails its check or cannot be unpacked."""
    if not verified(path):
        return None
    try:
        return unpack_samples(path.read_bytes())
    except (OSError, ValueError) as exc:
        discard(path, f"cannot be read ({exc})")
        return None
