"""Named points where a test can make sora die exactly as ``kill -9`` would.

``SORA_FAULT=NAME`` (or ``NAME:N`` for the N-th time that point is reached in
the process) sends SIGKILL to the process at that point; ``NAME[:N]@TERM``
sends SIGTERM instead (a CI job cancelled, ``timeout``). This is how the
suite proves, deterministically, what a killed render leaves behind: no sleep,
no race with the render's speed. Unset (always, outside tests) it costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "SORA_FAULT"
_reached: dict[str, int] = {}


def checkpoint(name: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    spec, _, how = spec.partition("@")
    target, _, nth = spec.partition(":")
    if target != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGTERM if how == "TERM" else signal.SIGKILL)
