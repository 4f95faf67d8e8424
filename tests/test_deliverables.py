"""deliverables: one storyboard, a folder of masters (sizes, profiles, cut-downs), each checked by sora qc."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from sora_cli.provenance import media_digest
from tests.conftest import problems_of, run_cli

CAMPAIGN = """\
version: 1
title: Ritual
output: {width: 192, height: 108, fps: 12, subtitles: sidecar}
backend: {name: animatic, options: {slate: false, captions: false, name_tags: false}}
world:
  location: "a small coffee bar"
  characters:
    ann: {description: "barista in a brown apron"}
shots:
  - id: open
    duration: 1
    camera: {framing: wide, move: dolly_in}
    cast: [ann]
    set: {lighting: "bright morning light"}
  - id: talk
    continuity: continue
    camera: {framing: medium, move: pan_left}
    cast: [ann]
    dialogue:
      - {speaker: ann, line: "Good morning.", translations: {de: "Guten Morgen! Wie immer einen doppelten Espresso?"}}
  - id: end
    duration: 1
    transition: {type: fade_black, duration: 0.25}
    action: "End card: Ritual Coffee. Every morning, made right."
deliverables:
  - {name: wide}
  - {name: tall, width: 108, height: 192}
  - {name: square, width: 128, height: 128}
  - {name: short, shots: [talk, end]}
  - {name: wide-de, language: de}
"""


def _size(path: Path) -> tuple[int, int, int]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return s.codec_context.width, s.codec_context.height, sum(1 for _ in c.decode(s))


def test_all_deliverables_write_every_master_and_a_manifest(tmp_path: Path) -> None:
    sb = tmp_path / "ritual.yaml"
    sb.write_text(CAMPAIGN, encoding="utf-8")
    out = tmp_path / "masters"
    result = run_cli("render", str(sb), "--all-deliverables", "-o", str(out), "-q", "-j", "2")
    assert result.code == 0, result.stderr
    manifest = json.loads((out / "deliverables.json").read_text())
    # one soundtrack per language and cut (en, de, the short en), each drawn chain made once for all
    assert manifest["shared"]["soundtracks"] == 3
    entries = {e["name"]: e for e in manifest["deliverables"]}
    assert list(entries) == ["wide", "tall", "square", "short", "wide-de"]
    for name, (w, h) in {"wide": (192, 108), "tall": (108, 192), "square": (128, 128), "short": (192, 108)}.items():
        film = out / f"{name}.mp4"
        width, height, _ = _size(film)
        assert (width, height) == (w, h)
        assert entries[name]["bytes"] == film.stat().st_size
        assert entries[name]["qc"]["passed"] and entries[name]["qc"]["profile"] == "web"
        assert (out / f"{name}.report.json").is_file() and (out / f"{name}.srt").is_file()
    # the cut-down keeps two shots; its first was a continue and is now a cut; it is shorter
    assert entries["short"]["settings"]["shots"] == ["talk", "end"]
    assert _size(out / "short.mp4")[2] < _size(out / "wide.mp4")[2]
    # the same shots at the same size are drawn once: the cut-down's end card comes from the wide master
    assert "end" in entries["short"]["reused_shots"]
    # German: the translation is spoken and subtitled, and the shot without a duration grows with it
    assert "Guten Morgen!" in (out / "wide-de.srt").read_text() and "Good" not in (out / "wide-de.srt").read_text()
    assert entries["wide-de"]["settings"]["duration"] > entries["wide"]["settings"]["duration"] + 1
    assert entries["wide-de"]["qc"]["passed"]
    # one deliverable by name, from a cold cache: the same bytes as in the matrix (outside the C2PA box)
    for name in ("square", "short", "wide-de"):
        alone = tmp_path / f"alone-{name}"
        cache = str(tmp_path / f"cache-{name}")
        again = run_cli(
            "render", str(sb), "--deliverable", name, "-o", str(alone), "-q", "-j", "1", "--cache-dir", cache
        )
        assert again.code == 0, again.stderr
        assert media_digest(alone / f"{name}.mp4") == media_digest(out / f"{name}.mp4"), name
        assert (alone / f"{name}.srt").read_bytes() == (out / f"{name}.srt").read_bytes()
    assert _size(tmp_path / "alone-square" / "square.mp4")[:2] == (128, 128)
    # sora qc on a master by itself: --plan with --deliverable gives it that master's plan and profile
    checked = run_cli("qc", str(out / "wide-de.mp4"), "--plan", str(sb), "--deliverable", "wide-de", "--json")
    assert checked.code == 0, checked.stdout
    assert json.loads(checked.stdout)["passed"]
    mismatched = run_cli("qc", str(out / "wide-de.mp4"), "--plan", str(sb), "--deliverable", "wide", "--json")
    assert mismatched.code == 3  # the English plan: another length, other captions
    assert run_cli("qc", str(out / "wide.mp4"), "--deliverable", "wide").code == 2


def test_a_matrix_prunes_once_after_its_last_master(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache bound far below what a matrix needs: no master evicts what the shared step drew for another
    (a prune after each master would make the second draw its shots again)."""
    import os
    import time

    from sora_cli import masters
    from sora_cli.digests import RECORD
    from sora_cli.film import RenderRequest

    sb = tmp_path / "ritual.yaml"
    sb.write_text(CAMPAIGN, encoding="utf-8")
    cache = tmp_path / "cache"
    shared_step = masters.make_shared_work

    def long_ago(*args: object, **kwargs: object) -> masters.Shared:
        """The shared step as if it had taken an hour: what it drew is older than any master's start."""
        done = shared_step(*args, **kwargs)  # type: ignore[arg-type]
        for record in cache.rglob(f"*{RECORD}"):
            os.utime(record, (time.time() - 3600, time.time() - 3600))
        return done

    monkeypatch.setattr(masters, "make_shared_work", long_ago)
    request = RenderRequest(storyboard=sb, jobs=1, qc=False, cache_dir=cache, cache_size="1")
    masters.render_masters(request, ["wide", "tall"], tmp_path / "masters")
    for name in ("wide", "tall"):
        report = json.loads((tmp_path / "masters" / f"{name}.report.json").read_text())
        assert report["rendered"] == [] and report["reused"] == [s["id"] for s in report["shots"]], name
    # the one prune at the end keeps what the matrix used; the next render's prune may evict it
    assert any((cache / "shots").rglob("*.mp4"))


def test_the_campaign_cut_down_lasts_what_its_name_says() -> None:
    from sora_cli.plan.resolve import make_plan
    from sora_cli.storyboard import load_storyboard
    from sora_cli.storyboard.deliverables import for_deliverable
    from tests.conftest import EXAMPLES

    sb = load_storyboard(EXAMPLES / "campaign.yaml")
    plan = make_plan(for_deliverable(sb, "cutdown-6s"))
    assert plan.frames == 6 * plan.fps and abs(plan.duration - 6.0) < 1e-9
    assert [s.id for s in plan.shots] == ["open", "sip", "end-card"]  # greeting, reaction, end card


def test_unknown_deliverable_is_exit_2(tmp_path: Path) -> None:
    sb = tmp_path / "ritual.yaml"
    sb.write_text(CAMPAIGN, encoding="utf-8")
    result = run_cli("render", str(sb), "--deliverable", "squar", "-o", str(tmp_path / "x"))
    assert result.code == 2 and "'square'" in result.stderr and not (tmp_path / "x").exists()


def test_deliverable_mistakes_are_located() -> None:
    text = CAMPAIGN.replace("[talk, end]", "[talk, ending]").replace("{name: square,", "{name: tall,")
    problems = problems_of(text)
    assert any("deliverables[3].shots[1]" in p and "'ending'" in p and "'end'" in p for p in problems)
    assert any("deliverables[2].name" in p and "twice" in p for p in problems)


def test_a_card_too_long_for_one_deliverable_names_it() -> None:
    long = " ".join(["Ritual Coffee, every morning made right."] * 12)
    text = CAMPAIGN.replace("Ritual Coffee. Every morning, made right.", long)
    text = text.replace("output: {width: 192, height: 108", "output: {width: 1280, height: 720")
    text = text.replace("{name: tall, width: 108, height: 192}", "{name: tall, width: 72, height: 128}")
    problems = problems_of(text)
    assert len(problems) >= 1 and all("shots[2].action" in p for p in problems)
    assert any("deliverable 'tall'" in p and "72x128" in p for p in problems)
    assert not any("1280x720" in p for p in problems)


def test_without_deliverables_nothing_changes(tmp_path: Path) -> None:
    text = CAMPAIGN.split("deliverables:")[0]
    assert problems_of(text) == []
    sb = tmp_path / "plain.yaml"
    sb.write_text(text, encoding="utf-8")
    result = run_cli("render", str(sb), "--all-deliverables", "-o", str(tmp_path / "m"))
    assert result.code == 2 and "no deliverables" in result.stderr


def test_a_missing_translation_is_located() -> None:
    text = CAMPAIGN.replace("{name: wide-de, language: de}", "{name: wide-fr, language: fr}")
    problems = problems_of(text)
    assert len(problems) == 1
    assert "shots[1].dialogue[0]" in problems[0] and "'wide-fr'" in problems[0] and "translations.fr" in problems[0]


def test_a_language_without_a_voice_is_located() -> None:
    text = CAMPAIGN.replace("translations: {de:", "translations: {xx:").replace("language: de}", "language: xx}")
    problems = problems_of(text)
    assert problems and all("deliverables[4].language" in p for p in problems)


def test_each_language_speaks_with_its_voice() -> None:
    from sora_cli.storyboard import parse_storyboard
    from sora_cli.storyboard.deliverables import for_deliverable
    from tests.conftest import EXAMPLES

    text = CAMPAIGN.replace(
        'ann: {description: "barista in a brown apron"}',
        'ann: {description: "barista", voice: {pitch: 60}, voices: {fr: {voice: fr-fr, pitch: 20}}}',
    )
    sb = parse_storyboard(text, "sb.yaml", EXAMPLES)
    de = for_deliverable(sb, "wide-de")
    assert de.world.characters["ann"].voice.voice == "de" and de.world.characters["ann"].voice.pitch == 60
    from sora_cli.storyboard.deliverables import language_voice, voice_in

    assert voice_in(sb.world.characters["ann"], "fr").voice == "fr-fr"  # its own voice for French
    assert voice_in(sb.world.characters["ann"], "fr").pitch == 20
    assert language_voice("en") == "en-us" and language_voice("ar") == "ar"
    assert de.shots[1].dialogue[0].line.startswith("Guten Morgen")


def test_otio_per_master_is_portable_with_fades_and_burned_media(tmp_path: Path) -> None:
    import shutil

    import opentimelineio as otio

    text = CAMPAIGN.replace(
        "  - id: open\n    duration: 1\n",
        "  - id: open\n    duration: 1\n    transition: {type: fade_black, duration: 0.5}\n",
    )
    text = text.replace(
        "{name: square, width: 128, height: 128}", "{name: square, width: 128, height: 128, subtitles: burn}"
    )
    sb = tmp_path / "ritual.yaml"
    sb.write_text(text, encoding="utf-8")
    out = tmp_path / "masters"
    result = run_cli("render", str(sb), "--deliverable", "square", "-o", str(out), "--otio", "-q", "-j", "1")
    assert result.code == 0, result.stderr
    moved = shutil.move(str(out), str(tmp_path / "sent"))  # the export folder travels whole
    timeline = otio.adapters.read_from_file(str(Path(moved) / "square.otio"))
    picture, _, burned = timeline.tracks
    assert isinstance(picture[0], otio.schema.Transition) and picture[0].name == "fade_black"
    assert picture[0].out_offset.to_frames() == 6  # 0.5 s at 12 fps
    assert [c.media_reference.target_url for c in burned.find_clips()] == ["square.mp4"]
    for clip in timeline.find_clips():
        url = clip.media_reference.target_url
        assert not url.startswith(("/", "file:")) and (Path(moved) / url).is_file()


def test_masters_of_one_soundtrack_share_a_worker() -> None:
    """Each worker meters a soundtrack once for all its masters: masters of one language go together,
    the workers' shares about equal in frames; one soundtrack is split only to keep every worker busy."""
    from sora_cli.masters import worker_groups

    names = ["w", "t", "s", "f", "w-de", "t-de", "s-de", "f-de", "cut"]
    sound = dict(zip(names, ["en"] * 4 + ["de"] * 4 + ["cut"], strict=True))
    frames = dict(zip(names, [245] * 4 + [257] * 4 + [144], strict=True))
    groups = worker_groups(names, sound, frames, 2)
    assert sorted(map(sorted, groups)) == [
        sorted(["w", "t", "s", "f", "cut"]),
        sorted(["w-de", "t-de", "s-de", "f-de"]),
    ]
    assert worker_groups(["a", "b", "c", "d"], dict.fromkeys("abcd", "en"), {}, 2) == [["a", "b"], ["c", "d"]]
    assert sorted(map(len, worker_groups(["a", "b", "c"], {}, {}, 3))) == [1, 1, 1]  # unkeyed: each alone


SMALL = """\
version: 1
title: S
output: {width: 128, height: 72, fps: 6, subtitles: sidecar}
backend: {name: animatic, options: {slate: false, captions: false, name_tags: false}}
world:
  location: "a room"
  characters:
    ana: {description: "a woman"}
shots:
  - id: a
    duration: 1
    cast: [ana]
    dialogue: [{speaker: ana, line: "Hi.", translations: {de: "Hallo."}}]
deliverables:
  - {name: one}
  - {name: two, width: 72, height: 128, language: de}
"""


def test_all_deliverables_from_stdin_and_a_subset_rerun_keeps_the_listing_true(tmp_path: Path) -> None:
    out = tmp_path / "m"
    result = run_cli("render", "-", "--all-deliverables", "-o", str(out), "-q", "-j", "1", stdin=SMALL)
    assert result.code == 0, result.stderr  # stdin read once, not once per step
    assert sorted(p.name for p in out.glob("*.mp4")) == ["one.mp4", "two.mp4"]
    result = run_cli("render", "-", "--deliverable", "two", "-o", str(out), "-q", "-j", "1", stdin=SMALL)
    assert result.code == 0, result.stderr
    manifest = json.loads((out / "deliverables.json").read_text())
    assert [e["name"] for e in manifest["deliverables"]] == ["one", "two"]  # one is still in the folder
    assert manifest["rendered"] == ["two"]
    for e in manifest["deliverables"]:
        assert (out / e["file"]).stat().st_size == e["bytes"]
    (out / "one.mp4").unlink()  # a master gone from the folder leaves the listing
    result = run_cli("render", "-", "--deliverable", "two", "-o", str(out), "-q", "-j", "1", stdin=SMALL)
    assert result.code == 0, result.stderr
    assert [e["name"] for e in json.loads((out / "deliverables.json").read_text())["deliverables"]] == ["two"]


def test_an_unusable_output_folder_is_a_usage_error(tmp_path: Path) -> None:
    sb = tmp_path / "s.yaml"
    sb.write_text(SMALL, encoding="utf-8")
    afile = tmp_path / "afile"
    afile.write_text("mine", encoding="utf-8")
    for target in (afile / "sub", afile, Path("/proc/sora-not-here")):
        result = run_cli("render", str(sb), "--all-deliverables", "-o", str(target), "-q")
        assert result.code == 2, (target, result.stderr)
        assert "internal error" not in result.stderr and str(target) in result.stderr
    assert afile.read_text(encoding="utf-8") == "mine"


def test_one_deliverable_and_all_deliverables_together_are_refused(tmp_path: Path) -> None:
    sb = tmp_path / "s.yaml"
    sb.write_text(SMALL, encoding="utf-8")
    result = run_cli("render", str(sb), "--deliverable", "one", "--all-deliverables", "-o", str(tmp_path / "m"))
    assert result.code == 2 and "--all-deliverables" in result.stderr and not (tmp_path / "m").exists()


def test_validate_plans_every_deliverable_and_names_the_one_that_overruns(tmp_path: Path) -> None:
    long = "Guten Morgen, meine sehr verehrten Damen und Herren, willkommen in unserem Café."
    sb = tmp_path / "s.yaml"
    sb.write_text(SMALL.replace('"Hallo."', f'"{long}"'), encoding="utf-8")
    for args in (("validate", str(sb)), ("validate", "-")):
        result = run_cli(*args, stdin=sb.read_text(encoding="utf-8"))
        assert result.code == 2, result.stderr
        lines = [line for line in result.stderr.splitlines() if "dialogue[0]" in line]
        assert len(lines) == 1 and "deliverable 'two'" in lines[0] and ":13:" in lines[0]
        assert "past the end of shot 'a'" in lines[0]
    sb.write_text(SMALL, encoding="utf-8")
    assert run_cli("validate", str(sb)).code == 0  # the same storyboard with a line that fits


def test_a_profile_that_fixes_the_size_refuses_a_conflicting_size_at_validate(tmp_path: Path) -> None:
    sb = tmp_path / "s.yaml"
    text = SMALL.replace("fps: 6,", "fps: 24,").replace(
        "{name: one}", "{name: one, profile: social-9x16, width: 1920, height: 1080}"
    )
    sb.write_text(text, encoding="utf-8")
    result = run_cli("validate", str(sb))
    assert result.code == 2
    assert "deliverables[0].width" in result.stderr and "1080" in result.stderr
    assert "deliverables[0].height" in result.stderr and "1920" in result.stderr
    sb.write_text(text.replace(", width: 1920, height: 1080}", "}"), encoding="utf-8")
    assert run_cli("validate", str(sb)).code == 0, "the profile's own size is taken"


def test_a_draft_of_a_size_fixed_profile_skips_only_the_size_and_rate_checks(tmp_path: Path) -> None:
    sb = tmp_path / "s.yaml"
    text = SMALL.replace("fps: 6,", "fps: 24,").replace("{name: one}", "{name: one, profile: social-9x16}")
    sb.write_text(text, encoding="utf-8")
    out = tmp_path / "m"
    result = run_cli("render", str(sb), "--deliverable", "one", "--draft", "-o", str(out), "-q", "-j", "1")
    assert result.code == 0, result.stderr
    width, height, _ = _size(out / "one.mp4")
    assert (width, height) == (540, 960)  # a quarter of the pixels of 1080x1920: not the profile's size
    checks = {c["id"]: c for c in json.loads((out / "one.report.json").read_text())["qc"]["checks"]}
    assert checks["picture.size"]["value"] == "540x960" and "skipped for --draft" in checks["picture.size"]["note"]
    assert "skipped" in checks["picture.frame_rate"].get("note", "")
    assert sum("skipped" in c.get("note", "") for c in checks.values()) == 2  # every other check still applies


def test_otio_reruns_replace_one_media_folder_of_copies(tmp_path: Path) -> None:
    import opentimelineio as otio

    sb = tmp_path / "s.yaml"
    sb.write_text(SMALL, encoding="utf-8")
    film, cache = tmp_path / "out" / "film.mp4", tmp_path / "cache"
    args = ("render", str(sb), "-o", str(film), "--cache-dir", str(cache), "-q", "-j", "1", "--no-qc")
    for _ in range(2):
        result = run_cli(*args, "--otio")
        assert result.code == 0, result.stderr
    folder = film.parent
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["film.media"]  # no hidden temp folders
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
    timeline = otio.adapters.read_from_file(str(folder / "film.otio"))
    urls = [c.media_reference.target_url for c in timeline.tracks[0].find_clips()]
    assert urls == ["film.media/01-a.mp4"]
    cached = {(p.stat().st_dev, p.stat().st_ino) for p in cache.rglob("*") if p.is_file()}
    for clip in (folder / "film.media").iterdir():
        st = clip.stat()
        assert st.st_nlink == 1 and (st.st_dev, st.st_ino) not in cached  # a copy: editing it spares the cache
    result = run_cli(*args)  # without --otio: the timeline and its media leave with the old set
    assert result.code == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["film.mp4", "film.report.json", "film.srt", "film.vtt"]


def test_a_folder_that_is_not_sora_media_is_not_replaced(tmp_path: Path) -> None:
    sb = tmp_path / "s.yaml"
    sb.write_text(SMALL, encoding="utf-8")
    mine = tmp_path / "film.media"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")
    result = run_cli("render", str(sb), "-o", str(tmp_path / "film.mp4"), "--otio", "-q")
    assert result.code == 2 and "film.media" in result.stderr
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_zh_speaks_mandarin_and_a_subtitle_mode_listed_twice_is_located() -> None:
    from sora_cli.storyboard.deliverables import language_voice

    assert language_voice("zh") == "cmn"
    text = SMALL.replace('"Hallo."}', '"Hallo.", zh: "你好"}').replace(
        "{name: one}", "{name: one, language: zh, subtitles: [burn, burn]}"
    )
    problems = problems_of(text)
    assert len(problems) == 1 and "deliverables[0].subtitles[1]" in problems[0] and "'burn' is listed twice" in problems[0]
    assert problems_of(text.replace("[burn, burn]", "[burn]")) == []  # zh is a voice: espeak-ng's cmn
    assert "listed twice" in problems_of(SMALL.replace("subtitles: sidecar}", "subtitles: [soft, soft]}"))[0]
