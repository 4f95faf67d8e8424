"""The ``sora`` console script: exit codes hold even before the CLI is imported.

Importing the CLI pulls in numpy, scipy, pydantic and rich (a second or more
on a cold start); a Ctrl-C in that window must be exit 130 with one line, not
a traceback. Anything that escapes the command itself (stdout on a full disk,
a closed pipe) is one line too.
"""

from __future__ import annotations

import os
import sys

from sora_cli.errors import STORAGE_ERRORS, internal_error


def _say(message: str) -> None:
    try:
        sys.stderr.write(f"sora: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # (no stderr at all: started with it closed)
        pass


def main() -> None:
    """Console-script entry point (``sora``)."""
    code: int | str | None = 0
    try:
        from sora_cli.cli import run

        try:
            run()
        except SystemExit as done:  # typer ends every command this way
            code = done.code
        if sys.stdout is not None:  # (None: started with its stdout closed)
            sys.stdout.flush()  # here, where a full disk is still ours to report
    except KeyboardInterrupt:
        _say("interrupted")
        sys.exit(130)
    except BrokenPipeError:
        # the reader went away (`sora plan x --json | head -1`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except OSError as exc:
        if "--debug" in sys.argv:
            raise
        what = os.strerror(exc.errno) if exc.errno else str(exc)
        _say(f"cannot write the output: {what}" if exc.errno in STORAGE_ERRORS else what)
        sys.exit(1)
    except Exception as exc:
        if "--debug" in sys.argv:
            raise
        _say(internal_error(exc))
        sys.exit(1)
    sys.exit(code)


def console() -> None:
    """The ``sora`` script and ``python -m sora_cli``: :func:`main`, then out without tearing the interpreter down.

    By the time a command returns, everything it wrote is closed and published
    and its worker pools are shut down; what is left is freeing numpy, scipy,
    Skia, PyAV and their modules object by object, a tenth of a second after
    every render. (:func:`main` itself exits normally, for callers in Python.)
    """
    try:
        main()
    except SystemExit as done:
        _leave(done.code)


def _leave(code: int | str | None) -> None:
    """Exit with ``code``, the streams flushed; under a tracer (coverage, a debugger), whose results are
    saved at exit, the normal way."""
    if sys.gettrace() is not None or "coverage" in sys.modules:
        sys.exit(code)
    if isinstance(code, str):
        _say(code)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code or 0)
