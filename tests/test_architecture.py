"""The house as drawn: imports follow the flow, and no module imports itself round a cycle.

Every module of ``sora_cli`` is read with :mod:`ast` (imports inside functions
included, since a lazy import is still a dependency) and placed in a group; the
groups are ranked. A module may import its own group and any group of a lower
rank; groups of the same rank are siblings that never import each other:

    rank 0  ground     services every stage may use (errors and hints, atomic files,
                       digests, progress, worker pools, fonts and text fitting, ffmpeg,
                       delivery profiles, provenance, the speech engine and voices,
                       the sound catalogue, audio files, packed samples, the output set switch)
    rank 1  cameo      the cameo library and consent (read by the storyboard's rules)
    rank 2  storyboard load and check (``storyboard/policy/``, the content policy, is one of its rule sets)
    rank 3  plan       resolve a storyboard into the Plan
    rank 4  render | sound | screenplay     picture, sound, and Fountain in and out
    rank 5  qc         measuring a film against a delivery profile (and the plan)
    rank 6  assemble   the film from its parts (it checks burned captions with qc)
    rank 7  conductor  the pipeline, its preflight, the API and the other commands' work
    rank 8  cli        parsing arguments and printing; it reaches the rest through
                       ``sora_cli.api`` (and the ground floor) only

Cycles are found over every import edge between modules (Tarjan's strongly
connected components): a cycle is reported even inside one group. Importing
``sora_cli.a.b`` from outside package ``a`` runs ``a/__init__.py`` first, so that
edge counts too (a package whose ``__init__`` imports its own importer is a cycle).

Imports are read wherever they stand: ``import`` statements, and
``importlib.import_module("sora_cli...")`` / ``__import__("sora_cli...")`` with a
literal name. Imports stand at the top of a module: a function-level import of a
``sora_cli`` module fails, except in the front door (``api.py``) and ``cli.py``,
which import the stages where they are used for start-up latency (see
``tests/test_startup.py``), and the short commented ``LAZY_ALLOWED`` list. The
ground floor is an explicit list: a new module belongs to no group until it is
placed. The entry points in ``pyproject.toml`` are checked against the layers
too (the console script is the CLI's, a backend plugin lives in ``render/``).
"""

from __future__ import annotations

import ast
import tomllib
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sora_cli"
PYPROJECT = PACKAGE.parent / "pyproject.toml"

#: group -> (rank, module prefixes); a module belongs to the group of its longest matching prefix
#: (``sora_cli`` itself matches only the package's ``__init__``: the ground floor is listed module by module)
GROUPS: dict[str, tuple[int, tuple[str, ...]]] = {
    "ground": (0, (
        "sora_cli", "sora_cli.errors", "sora_cli.atomic", "sora_cli.scratch", "sora_cli.faults", "sora_cli.ffmpeg",
        "sora_cli.fonts", "sora_cli.textfit", "sora_cli.portable", "sora_cli.bmff", "sora_cli.outputs",
        "sora_cli.provenance", "sora_cli.progress", "sora_cli.progress_ui", "sora_cli.digests", "sora_cli.workers",
        "sora_cli.profiles", "sora_cli.speech", "sora_cli.sound_catalog", "sora_cli.audio_files", "sora_cli.packed_samples",
        "sora_cli.npz", "sora_cli.dsp",
        "sora_cli.json_text", "sora_cli.temp_names",
    )),
    "cameo": (1, ("sora_cli.cameo",)),
    "storyboard": (2, ("sora_cli.storyboard",)),
    "plan": (3, ("sora_cli.plan",)),
    "render": (4, ("sora_cli.render",)),
    "sound": (4, ("sora_cli.sound",)),
    "screenplay": (4, ("sora_cli.screenplay",)),
    "qc": (5, ("sora_cli.qc",)),
    "assemble": (6, ("sora_cli.assemble",)),
    "conductor": (7, (
        "sora_cli.film", "sora_cli.masters", "sora_cli.preflight", "sora_cli.board", "sora_cli.doctor",
        "sora_cli.api", "sora_cli.schema", "sora_cli.testing", "sora_cli.watch",
    )),
    "cli": (8, ("sora_cli.cli", "sora_cli.entry", "sora_cli.__main__")),
}  # fmt: skip

#: what the command line may reach directly: the front door and the ground floor
CLI_MAY_IMPORT = ("sora_cli.api", "sora_cli.cli", "sora_cli.entry")

#: (importer, imported) edges tolerated for now, each with the reason; keep it short and shrinking.
ALLOWED: dict[tuple[str, str], str] = {}


#: cycles tolerated for now (their modules, sorted), each with the reason; keep it empty.
ALLOWED_CYCLES: dict[tuple[str, ...], str] = {}

#: modules that import other sora modules inside functions on purpose: start-up latency (every command
#: imports them, and ``sora --version`` must not load scipy, OpenCV, Skia or PyAV; tests/test_startup.py)
LAZY_MODULES = ("sora_cli.api", "sora_cli.cli")

#: other function-level imports of sora modules, each with the reason (a cycle or a heavy dependency); keep it short.
LAZY_ALLOWED: dict[tuple[str, str], str] = {
    ("sora_cli.entry", "sora_cli.cli"): "exit codes hold before the CLI is imported (a Ctrl-C in that second is 130)",
    ("sora_cli.render.animatic", "sora_cli.render.animatic.backend"): "the old import path of AnimaticBackend, "
    "resolved on first use: at package import the backend would import its parts through this package (a cycle)",
}

#: entry-point group in pyproject.toml -> the layer its targets must live in
ENTRY_POINT_GROUPS = {"scripts": "cli", "sora_cli.backends": "render"}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    file: str  # relative to the folder holding the package
    line: int
    through_package: bool = False  # the package ``__init__`` that importing a module inside it runs first
    in_function: bool = False  # inside a function (a lazy import), not at the module's top


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


def _statements(tree: ast.AST) -> list[tuple[ast.AST, bool]]:
    """Every node with whether it stands inside a function (at any depth)."""
    out: list[tuple[ast.AST, bool]] = []
    work: deque[tuple[ast.AST, bool]] = deque([(tree, False)])
    while work:
        node, inside = work.popleft()
        out.append((node, inside))
        nested = inside or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        work.extend((child, nested) for child in ast.iter_child_nodes(node))
    return out


def _dynamic_target(node: ast.Call) -> str | None:
    """The literal name of ``importlib.import_module("x")``, ``import_module("x")`` or ``__import__("x")``."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def imports_of(name: str, path: Path, known: set[str], package: Path = PACKAGE) -> list[Import]:
    """Every import of a sora module in ``path``, wherever it stands (module level or inside a function)."""
    out: list[Import] = []
    home = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node, inside in _statements(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = home.split(".")[: len(home.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import module`` depends on the module; ``from module import name`` on the module
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        elif isinstance(node, ast.Call) and (dynamic := _dynamic_target(node)) is not None:
            targets = [dynamic]
        else:
            continue
        for target in targets:
            if target == "sora_cli" or target.startswith("sora_cli."):
                while target not in known and "." in target:  # ``import sora_cli.x.y`` of a name, not a module
                    target = target.rpartition(".")[0]
                where = path.relative_to(package.parent).as_posix()
                if target != name:
                    out.append(Import(name, target, where, node.lineno, in_function=inside))
                # importing ``a.b.c`` first runs the packages ``a.b`` and ``a`` that do not hold the importer
                parent = target.rpartition(".")[0]
                while parent and parent != "sora_cli" and not (name == parent or name.startswith(parent + ".")):
                    out.append(Import(name, parent, where, node.lineno, through_package=True, in_function=inside))
                    parent = parent.rpartition(".")[0]
    return out


def all_imports(package: Path = PACKAGE) -> list[Import]:
    found = modules(package)
    return [imp for name, path in found.items() for imp in imports_of(name, path, set(found), package)]


def group_of(module: str) -> str:
    best, length = "", -1
    for group, (_, prefixes) in GROUPS.items():
        for prefix in prefixes:
            covers = module == prefix or (prefix != "sora_cli" and module.startswith(prefix + "."))
            if covers and len(prefix) > length:
                best, length = group, len(prefix)
    return best


def where(imp: Import) -> str:
    return f"{imp.file}:{imp.line}"


def backward(imports: list[Import]) -> list[str]:
    """The imports that break the ranking, each as ``FILE:LINE: importer -> imported: the rule``."""
    problems = []
    for imp in imports:
        if imp.through_package or (imp.importer, imp.imported) in ALLOWED:
            continue
        mine, theirs = group_of(imp.importer), group_of(imp.imported)
        rank, other = GROUPS[mine][0], GROUPS[theirs][0]
        if mine == theirs:
            continue
        if other > rank:
            rule = f"{mine} (rank {rank}) never imports the later {theirs} (rank {other})"
        elif other == rank:
            rule = f"{mine} and {theirs} are siblings (rank {rank}): neither imports the other"
        elif mine == "cli" and theirs != "ground" and imp.imported not in CLI_MAY_IMPORT:
            rule = "the CLI reaches the rest through sora_cli.api (and the ground floor) only"
        else:
            continue
        problems.append(f"{where(imp)}: {imp.importer} -> {imp.imported}: {rule}")
    return problems


def cycles(imports: list[Import]) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    graph: dict[str, list[str]] = {}
    for imp in imports:
        graph.setdefault(imp.importer, []).append(imp.imported)
        graph.setdefault(imp.imported, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(graph[child])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def describe_cycle(component: list[str], imports: list[Import]) -> str:
    members = set(component)
    edges = sorted(
        {
            f"{where(i)}: {i.importer} -> {i.imported}"
            for i in imports
            if i.importer in members and i.imported in members
        }
    )
    return "import cycle between " + ", ".join(component) + ":\n    " + "\n    ".join(edges)


def unplaced(names: list[str]) -> list[str]:
    """Modules in no group, each with where to put it."""
    return [
        f"{m} belongs to no group: add it to GROUPS in tests/test_architecture.py (to the ground floor's list if "
        "every stage may use it, else to the stage that owns it)"
        for m in names
        if not group_of(m)
    ]


def lazy(imports: list[Import]) -> list[str]:
    """Function-level imports of sora modules outside the front door, the CLI and ``LAZY_ALLOWED``."""
    return [
        f"{where(i)}: {i.importer} -> {i.imported}: imports stand at the top of the module "
        "(unless a cycle or a heavy optional dependency forces it: then LAZY_ALLOWED, with the reason)"
        for i in imports
        if i.in_function
        and not i.through_package
        and i.importer not in LAZY_MODULES
        and (i.importer, i.imported) not in LAZY_ALLOWED
    ]


def entry_point_problems(pyproject: dict, known: set[str]) -> list[str]:
    """Entry points that name a missing module or one outside the layer their group belongs to."""
    project = pyproject.get("project", {})
    tables = {"scripts": project.get("scripts", {}), **project.get("entry-points", {})}
    problems = []
    for table, points in tables.items():
        for label, target in points.items():
            module = target.partition(":")[0].strip()
            if not module.startswith("sora_cli"):
                continue
            if module not in known:
                problems.append(f"pyproject.toml: [{table}] {label} = {target!r}: no module {module}")
            elif table in ENTRY_POINT_GROUPS and group_of(module) != ENTRY_POINT_GROUPS[table]:
                problems.append(
                    f"pyproject.toml: [{table}] {label} = {target!r}: {module} is in {group_of(module) or 'no group'},"
                    f" but a [{table}] entry point lives in {ENTRY_POINT_GROUPS[table]}"
                )
    return problems


def test_every_module_has_a_group():
    assert unplaced(list(modules())) == []


def test_imports_stand_at_the_top():
    problems = lazy(all_imports())
    assert not problems, "function-level imports of sora modules:\n" + "\n".join(problems)


def test_entry_points_follow_the_layers():
    pyproject = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert entry_point_problems(pyproject, set(modules())) == []


def test_imports_follow_the_flow():
    problems = backward(all_imports())
    assert not problems, "imports against the flow (see tests/test_architecture.py):\n" + "\n".join(problems)


def test_no_import_cycles():
    imports = all_imports()
    found = [c for c in cycles(imports) if tuple(c) not in ALLOWED_CYCLES]
    assert not found, "\n".join(describe_cycle(c, imports) for c in found)


def test_allowed_entries_are_still_needed():
    """A tolerated import that no longer exists is deleted from the list, so the list only shrinks."""
    imports = all_imports()
    present = {(i.importer, i.imported) for i in imports}
    assert [edge for edge in ALLOWED if edge not in present] == []
    found = {tuple(c) for c in cycles(imports)}
    assert [cycle for cycle in ALLOWED_CYCLES if cycle not in found] == []
    lazy_edges = {(i.importer, i.imported) for i in imports if i.in_function}
    assert [edge for edge in LAZY_ALLOWED if edge not in lazy_edges] == []


def _fake(tmp_path: Path, files: dict[str, str]) -> list[Import]:
    root = tmp_path / "sora_cli"
    for rel, text in {"__init__.py": "", **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return all_imports(root)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"storyboard/__init__.py": "", "storyboard/rules.py": "def f():\n    from sora_cli.sound import effects\n",
          "sound/__init__.py": "", "sound/effects.py": ""},
         "sora_cli/storyboard/rules.py:2: sora_cli.storyboard.rules -> sora_cli.sound.effects: storyboard (rank 2) never imports the later sound (rank 4)"),
        ({"sound/__init__.py": "", "sound/mix.py": "from sora_cli.render.cache import seal\n",
          "render/__init__.py": "", "render/cache.py": ""},
         "sora_cli/sound/mix.py:1: sora_cli.sound.mix -> sora_cli.render.cache: sound and render are siblings (rank 4): neither imports the other"),
    ],
)  # fmt: skip
def test_a_backward_import_is_named_with_file_line_and_rule(tmp_path: Path, files: dict[str, str], expected: str):
    problems = backward(_fake(tmp_path, files))
    assert problems == [expected]


def test_a_cycle_is_found_even_through_a_function_level_import(tmp_path: Path):
    imports = _fake(tmp_path, {
        "render/__init__.py": "",
        "render/shots.py": "def run():\n    from sora_cli.render.ray_executor import go\n",
        "render/ray_executor.py": "from sora_cli.render.shots import ShotFile\n",
    })  # fmt: skip
    assert cycles(imports) == [["sora_cli.render.ray_executor", "sora_cli.render.shots"]]


# --- each check fails on a planted violation -------------------------------------------------------------------


def test_a_function_level_import_outside_the_front_door_is_named(tmp_path: Path):
    imports = _fake(tmp_path, {
        "render/__init__.py": "",
        "render/cache.py": "",
        "render/shots.py": "def run():\n    from sora_cli.render.cache import seal\n",
        "api.py": "def render():\n    from sora_cli.render.shots import run\n",
    })  # fmt: skip
    assert lazy(imports) == [
        "sora_cli/render/shots.py:2: sora_cli.render.shots -> sora_cli.render.cache: imports stand at the top of the"
        " module (unless a cycle or a heavy optional dependency forces it: then LAZY_ALLOWED, with the reason)"
    ]


@pytest.mark.parametrize(
    "call",
    ['importlib.import_module("sora_cli.sound.effects")', '__import__("sora_cli.sound.effects")',
     'import_module("sora_cli.sound.effects")'],
)  # fmt: skip
def test_a_dynamic_import_with_a_literal_name_is_read(tmp_path: Path, call: str):
    imports = _fake(tmp_path, {
        "storyboard/__init__.py": "", "storyboard/rules.py": f"import importlib\nEFFECTS = {call}\n",
        "sound/__init__.py": "", "sound/effects.py": "",
    })  # fmt: skip
    assert backward(imports) == [
        "sora_cli/storyboard/rules.py:2: sora_cli.storyboard.rules -> sora_cli.sound.effects:"
        " storyboard (rank 2) never imports the later sound (rank 4)",
    ]


def test_importing_a_package_counts_as_importing_its_init(tmp_path: Path):
    imports = _fake(tmp_path, {
        "storyboard/__init__.py": "", "storyboard/rules.py": "import sora_cli.sound\nfrom sora_cli import render\n",
        "sound/__init__.py": "from sora_cli.sound.effects import EFFECTS\n", "sound/effects.py": "",
        "render/__init__.py": "",
    })  # fmt: skip
    assert backward(imports) == [
        "sora_cli/storyboard/rules.py:1: sora_cli.storyboard.rules -> sora_cli.sound:"
        " storyboard (rank 2) never imports the later sound (rank 4)",
        "sora_cli/storyboard/rules.py:2: sora_cli.storyboard.rules -> sora_cli.render:"
        " storyboard (rank 2) never imports the later render (rank 4)",
    ]


def test_an_unlisted_module_says_where_to_put_it(tmp_path: Path):
    root = tmp_path / "sora_cli"
    root.mkdir()
    for rel in ("__init__.py", "errors.py", "gadget.py"):
        (root / rel).write_text("", encoding="utf-8")
    assert unplaced(list(modules(root))) == [
        "sora_cli.gadget belongs to no group: add it to GROUPS in tests/test_architecture.py (to the ground floor's"
        " list if every stage may use it, else to the stage that owns it)"
    ]


def test_an_entry_point_outside_its_layer_or_missing_is_named():
    known = {"sora_cli", "sora_cli.cli", "sora_cli.entry", "sora_cli.sound.mix", "sora_cli.render.solid"}
    pyproject = {"project": {
        "scripts": {"sora": "sora_cli.sound.mix:main"},
        "entry-points": {"sora_cli.backends": {"solid": "sora_cli.render.solid:Solid", "gone": "sora_cli.render.gone:G",
                                               "mixer": "sora_cli.sound.mix:Mixer"}},
    }}  # fmt: skip
    assert entry_point_problems(pyproject, known) == [
        "pyproject.toml: [scripts] sora = 'sora_cli.sound.mix:main': sora_cli.sound.mix is in sound,"
        " but a [scripts] entry point lives in cli",
        "pyproject.toml: [sora_cli.backends] gone = 'sora_cli.render.gone:G': no module sora_cli.render.gone",
        "pyproject.toml: [sora_cli.backends] mixer = 'sora_cli.sound.mix:Mixer': sora_cli.sound.mix is in sound,"
        " but a [sora_cli.backends] entry point lives in render",
    ]
