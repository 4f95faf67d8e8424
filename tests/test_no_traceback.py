"""No traceback anywhere: start-up interrupts, output errors, damaged manifests and cameo records."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from sora_cli.cameo.consent import sign_record
from sora_cli.provenance import C2PA_BOX_UUID, verify
from tests.conftest import EXAMPLES, MINIMAL, ROOT, problems_of, render, run_cli

INTERRUPT_AT_IMPORT = """
import sys

class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, Interrupt())
sys.argv = ["sora", "validate", "polar.yaml"]
from sora_cli.entry import main
main()
"""


def _sora(*args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.run([sys.executable, *args], text=True, env=env, cwd=EXAMPLES, **kw)


@pytest.mark.parametrize("module", ["typer", "sora_cli.plan.resolve", "sora_cli.storyboard.policy"])
def test_ctrl_c_during_start_up_is_exit_130_without_a_traceback(module: str):
    # the interrupt is raised exactly while that module is imported: no race with a real signal
    done = _sora("-c", INTERRUPT_AT_IMPORT.format(module=module))
    assert done.returncode == 130, done.stderr
    assert done.stderr == "sora: interrupted\n"


def test_a_full_disk_on_stdout_is_one_line_exit_1():
    with open("/dev/full", "w") as full:
        done = _sora("-m", "sora_cli", "plan", "polar.yaml", "--json", stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["sora: cannot write the output: No space left on device"]


@pytest.mark.parametrize(
    "args", [["plan", "polar.yaml"], ["plan", "polar.yaml", "--json"], ["export", "fountain", "polar.yaml"], ["schema"]]
)
def test_a_reader_that_closes_stdout_early_is_exit_141_and_silent(args: list[str]):
    """`sora plan x --json | head -1`: the reader went away; exit 141 as SIGPIPE would give, nothing on stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sora_cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=EXAMPLES
    )
    proc.stdout.close()  # before sora writes a byte: every write finds the pipe closed
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert err == ""


# --- sora verify on damaged manifests ------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_film(tmp_path_factory) -> Path:
    from tests.test_render import SIX

    folder = tmp_path_factory.mktemp("signed")
    (folder / "six.yaml").write_text(SIX)
    return Path(render(folder / "six.yaml")["output"]["file"])


def _manifest_box(data: bytes) -> int:
    offset = 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"uuid" and data[offset + 8 : offset + 24] == C2PA_BOX_UUID:
            return offset
        offset += size
    raise AssertionError("no C2PA box")


def test_flipped_bits_in_the_manifest_are_invalid_never_an_error(signed_film: Path, tmp_path: Path):
    data = signed_film.read_bytes()
    box = _manifest_box(data)
    states = set()
    # the claim and its label: flips here made c2pa-python raise KeyError ("internal error" before)
    for offset in range(box + 440, box + 620, 2):
        damaged = bytearray(data)
        damaged[offset] ^= 0x80
        path = tmp_path / "damaged.mp4"
        path.write_bytes(bytes(damaged))
        result = verify(path)
        assert result.state in ("Invalid", "Valid", "Trusted"), (offset - box, result)
        states.add(result.state)
    assert "Invalid" in states
    cli = run_cli("verify", str(path))
    assert cli.code in (0, 1) and "internal error" not in cli.stderr


def test_a_damaged_manifest_store_says_invalid_on_the_command_line(signed_film: Path, tmp_path: Path):
    data = bytearray(signed_film.read_bytes())
    box = _manifest_box(bytes(data))
    data[box + 488 + 7] ^= 0x80  # a position where the store is found but its active manifest is not
    path = tmp_path / "damaged.mp4"
    path.write_bytes(bytes(data))
    assert verify(path).state == "Invalid"
    cli = run_cli("verify", str(path))
    assert cli.code == 1
    assert cli.stdout.startswith("Invalid")
    assert "Traceback" not in cli.stdout + cli.stderr and "internal error" not in cli.stderr


# --- cameo records --------------------------------------------------------------------------------

GOOD = {
    "format": 1,
    "name": "ada",
    "consent": {"by": "Ada L", "on": "2026-01-01", "expires": None},
    "likeness": [],
    "revoked_on": None,
}


@pytest.mark.parametrize(
    "record,why",
    [
        ("[1, 2]", "a cameo record is a JSON object"),
        ("{not json", "not valid JSON"),
        (json.dumps({**GOOD, "consent": {"by": "Ada", "expires": "someday"}}), "consent.expires"),
        (json.dumps({**GOOD, "consent": "yes"}), "consent"),
        (json.dumps({**GOOD, "revoked_on": 12}), "revoked_on"),
        (json.dumps({**GOOD, "likeness": ["../../secret.png"]}), "likeness.0"),
        (json.dumps({**GOOD, "likeness": "face.png"}), "likeness"),
    ],
)
def test_broken_cameo_records_are_exit_2_with_the_file_and_listed_as_not_usable(tmp_path: Path, record, why):
    folder = tmp_path / "cameos" / "ada"
    folder.mkdir(parents=True)
    (folder / "cameo.json").write_text(record)
    text = MINIMAL.replace('ann: {description: "baker in white"}', "ann: {cameo: ada}")
    [problem] = problems_of(text, base_dir=tmp_path)
    assert problem.startswith("sb.yaml:7:")
    assert "world.characters.ann.cameo: cameo 'ada' cannot be used: its record is broken" in problem
    assert f"{folder / 'cameo.json'}: {why}" in problem
    listing = run_cli("cameo", "list", "--library", str(tmp_path / "cameos"), "--json")
    assert listing.code == 0, listing.stderr
    [entry] = json.loads(listing.stdout)
    assert entry["usable"] is False and entry["state"] == "broken" and why in entry["error"]
    table = run_cli("cameo", "list", "--library", str(tmp_path / "cameos"))
    assert table.code == 0 and "not usable" in table.stdout


def test_cameo_list_shows_expired_and_revoked_records_as_not_usable(tmp_path: Path):
    library = tmp_path / "cameos"
    for name, changes in {
        "good": {},
        "old": {"consent": {"by": "Old", "on": "2020-01-01", "expires": "2021-01-01"}},
        "gone": {"revoked_on": "2026-01-02"},
    }.items():
        (library / name).mkdir(parents=True)
        (library / name / "cameo.json").write_text(json.dumps(sign_record({**GOOD, "name": name, **changes})))
    listing = json.loads(run_cli("cameo", "list", "--library", str(library), "--json").stdout)
    assert {c["name"]: (c["usable"], c["state"]) for c in listing} == {
        "good": (True, "usable"),
        "old": (False, "expired on 2021-01-01"),
        "gone": (False, "revoked on 2026-01-02"),
    }


@pytest.mark.parametrize("args", [["validate", "polar.yaml"], ["--version"]])
def test_a_command_started_with_stdout_closed_does_its_work_without_a_traceback(args: list[str]):
    """`sora validate x >&-`: Python has no stdout at all (None); the command still succeeds and says so on
    stderr, where the exit used to report an internal error (and, after it, a chain of tracebacks)."""
    done = _sora("-m", "sora_cli", *args, stdout=None, stdin=subprocess.DEVNULL, close_fds=True, pass_fds=(),
                 preexec_fn=lambda: os.close(1))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


def test_the_bundled_ffmpeg_is_the_one_imageio_ffmpeg_finds_and_is_found_without_running_it(monkeypatch):
    import imageio_ffmpeg

    from sora_cli import ffmpeg

    ran: list[object] = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: ran.append(a))
    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE", raising=False)
    ffmpeg.ffmpeg_exe.cache_clear()
    try:
        found = ffmpeg.ffmpeg_exe()
    finally:
        ffmpeg.ffmpeg_exe.cache_clear()
    assert not ran
    monkeypatch.undo()
    assert os.path.samefile(found, imageio_ffmpeg.get_ffmpeg_exe())


@pytest.mark.parametrize("args", [["render", "product_ad.yaml", "-q", "--no-cache", "-o", "{tmp}/x.mp4"], ["doctor", "--json"]])
def test_an_ffmpeg_that_cannot_run_is_named_in_one_line(tmp_path: Path, args: list[str], monkeypatch):
    broken = tmp_path / "ffmpeg"
    broken.write_text("not a program\n")  # (not executable)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(broken))
    out = _sora("-m", "sora_cli", *(a.format(tmp=tmp_path) for a in args))
    said = out.stdout + out.stderr
    assert "Traceback" not in said and "internal error" not in said, said
    assert out.returncode == 1, said
    if args[0] == "render":
        assert out.stderr == f"sora: cannot run ffmpeg ({broken}): Permission denied\n"
        assert not (tmp_path / "x.mp4").exists()
    else:
        report = json.loads(out.stdout)
        ffmpeg = next(p for p in report["parts"] if p["part"] == "ffmpeg")
        assert not report["ok"] and ffmpeg == {
            "part": "ffmpeg", "status": "missing", "details": f"cannot run ffmpeg ({broken}): Permission denied"
        }
