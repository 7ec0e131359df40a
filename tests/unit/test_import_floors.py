"""The floors of docs/ARCHITECTURE.md, read from the source: no module imports from a floor above its own.

Every import counts, a module's and a function's alike (a deferred import still runs back up),
and so do the ones only the type checker reads. Beside, on the same floor, is allowed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCANNED_TREES = ("warmline", "workers")
OUR_PACKAGES = ("warmline", "workers", "config")

# Lowest first. A module takes the floor of the longest prefix that names it.
FLOORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("domain", ("config", "warmline.domain")),
    ("foundation", (
        "warmline.clock", "warmline.epoch", "warmline.keys", "warmline.crypto", "warmline.logs",
        "warmline.queues", "warmline.catalogs", "warmline.wording", "warmline.db",
        "warmline.models", "warmline.migrations",
    )),
    ("state and adapters", (
        "warmline.routing", "warmline.roster", "warmline.config_cache", "warmline.redis_batch",
        "warmline.worker", "warmline.telephony", "warmline.voice", "warmline.texts",
    )),
    ("runtime", ("warmline.runtime", "warmline.jobs")),
    ("shared services", ("warmline.services",)),
    ("features", (
        "warmline.services.voice", "warmline.services.callbacks", "warmline.services.texts",
        "warmline.services.chat", "warmline.services.peers", "warmline.services.admin",
        "warmline.services.accounts", "warmline.services.upkeep", "warmline.planning",
    )),
    ("edges", ("warmline.web", "workers")),
    ("composition", ("warmline.app", "warmline.wiring", "workers.main", "workers.child")),
    ("commands", (
        "warmline.cli", "warmline.__main__", "warmline.simulate", "warmline.soak",
        "warmline.standin", "warmline.roster.commands", "warmline.telephony.configure",
        "warmline.planning.command", "warmline.planning.history_command",
        "warmline.planning.refine",
    )),
)
FLOOR_OF_PREFIX = {prefix: floor for floor, (_, prefixes) in enumerate(FLOORS)
                   for prefix in prefixes}
STANDIN = "warmline.standin"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    base = REPO_ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def floor_of(module: str) -> int:
    if module == "warmline":
        return 0  # the package's __init__: its docstring only
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        floor = FLOOR_OF_PREFIX.get(".".join(parts[:end]))
        if floor is not None:
            return floor
    raise AssertionError(f"{module} has no floor: add it to FLOORS and docs/ARCHITECTURE.md")


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for each of our modules that `path` imports, at any depth of the file."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1]
                                + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                # `from warmline.services import routing` imports the module, not the package
                yield node.lineno, (f"{base}.{alias.name}" if is_module(f"{base}.{alias.name}")
                                    else base)


def our_imports() -> Iterator[tuple[str, str, str]]:
    """(where, importer, imported) for every import of our own modules in the scanned trees."""
    for tree in SCANNED_TREES:
        for path in sorted((REPO_ROOT / tree).rglob("*.py")):
            for line, target in imported_modules(path):
                if target.split(".")[0] in OUR_PACKAGES:
                    yield f"{path.relative_to(REPO_ROOT)}:{line}", module_name(path), target


def test_every_module_has_a_floor() -> None:
    for tree in SCANNED_TREES:
        for path in (REPO_ROOT / tree).rglob("*.py"):
            floor_of(module_name(path))


def test_no_module_imports_from_a_floor_above_its_own() -> None:
    climbs = []
    for where, importer, target in our_imports():
        if floor_of(target) > floor_of(importer):
            climbs.append(f"{where}: {importer} ({FLOORS[floor_of(importer)][0]}) imports "
                          f"{target} ({FLOORS[floor_of(target)][0]})")
    assert not climbs, "imports that climb a floor:\n" + "\n".join(climbs)


def test_the_standin_imports_nothing_of_the_app() -> None:
    """The stand-in plays Twilio: it knows the app only by its webhooks, as Twilio does."""
    reaching = [f"{where}: {target}" for where, importer, target in our_imports()
                if importer.startswith(STANDIN) and not target.startswith(STANDIN)]
    assert not reaching


def test_the_floors_catch_a_climb() -> None:
    """The table is not so loose that it lets everything through."""
    assert floor_of("warmline.services.routing") < floor_of("warmline.services.upkeep.recovery")
    assert floor_of("warmline.runtime") < floor_of("warmline.services.contacts")
    assert floor_of("warmline.routing.engine") < floor_of("warmline.runtime")
    assert floor_of("warmline.domain.matching") < floor_of("warmline.models")
    assert floor_of("warmline.web.voice") < floor_of("warmline.wiring")
