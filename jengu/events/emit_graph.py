"""Which function emits which event, read from the source code (never imported).

The catalogue (`manage.py events`) needs "what does this actor emit?". Events are
emitted by plain service functions that actors call, so the answer is a walk over a
call graph: every function of the project with the calls it makes and the event types
it passes to `emit()`/`emit_many()` as literals (or module constants). Calls are
resolved by name the way a reader would: a function of the same module, an imported
name or module, `self.method` of the same class. Calls through objects passed around
(`provider.send()`) are not followed; the catalogue lists every emit site separately,
so nothing emitted goes unlisted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

EMITTERS = frozenset(
    {"jengu.bus.emit", "jengu.bus.emit_many", "jengu.bus.emit.emit", "jengu.bus.emit.emit_many"}
)
SKIPPED_DIRS = frozenset({"migrations", "tests", "__pycache__", "testing"})


@dataclass
class Function:
    qualname: str  # module.function or module.Class.method
    calls: set[str] = field(default_factory=set)
    emits: set[str] = field(default_factory=set)
    line: int = 0


@dataclass
class Module:
    name: str
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> dotted target
    constants: dict[str, str] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)


def module_files(root: Path, packages: Iterable[str]) -> Iterator[tuple[str, Path]]:
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root)
            if SKIPPED_DIRS.intersection(relative.parts):
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


class EmitGraph:
    """The project's functions, the calls between them and the events they emit."""

    def __init__(self, root: Path, packages: Iterable[str]) -> None:
        self.modules: dict[str, Module] = {}
        for name, path in module_files(root, packages):
            self.modules[name] = _read_module(name, path)
        self.functions = {
            f.qualname: f for module in self.modules.values() for f in module.functions.values()
        }
        # Building an object can lead to any of its methods: a call of a class reaches
        # them all (the graph errs towards listing an event that may be emitted).
        self.classes: dict[str, list[str]] = {}
        for qualname in self.functions:
            owner = qualname.rpartition(".")[0]
            if owner.rpartition(".")[0] in self.modules and owner not in self.modules:
                self.classes.setdefault(owner, []).append(qualname)
        for module in self.modules.values():
            for function in module.functions.values():
                function.calls = {self.resolve(c) for c in function.calls}
                function.emits = {self._event_name(module, e) for e in function.emits}
                function.emits.discard("")

    def resolve(self, dotted: str) -> str:
        """Follow package re-exports (`from .x import f` in `__init__`) to the definition."""
        for _ in range(10):
            if dotted in self.functions or dotted in self.classes or "." not in dotted:
                return dotted
            owner, _, name = dotted.rpartition(".")
            module = self.modules.get(owner)
            if module is None or name not in module.aliases:
                return dotted
            dotted = module.aliases[name]
        return dotted

    def _event_name(self, module: Module, argument: str) -> str:
        if argument.startswith("'"):
            return argument[1:]
        if argument in module.constants:
            return module.constants[argument]
        target = module.aliases.get(argument, "")
        owner, _, name = target.rpartition(".")
        return self.modules[owner].constants.get(name, "") if owner in self.modules else ""

    def emitted_by(self, qualname: str) -> set[str]:
        """Every event type `qualname` can emit, through the calls it makes."""
        seen: set[str] = set()
        found: set[str] = set()
        stack = [qualname]
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            stack.extend(self.classes.get(name, ()))
            function = self.functions.get(name)
            if function is not None:
                found |= function.emits
                stack.extend(function.calls)
        return found

    def emit_sites(self) -> dict[str, list[str]]:
        """Event type -> the functions that emit it by name."""
        sites: dict[str, list[str]] = {}
        for function in self.functions.values():
            for event in function.emits:
                sites.setdefault(event, []).append(function.qualname)
        return {event: sorted(names) for event, names in sorted(sites.items())}


def _read_module(name: str, path: Path) -> Module:
    tree = ast.parse(path.read_text(), filename=str(path))
    module = Module(name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            module.aliases.update(_aliases(node, package))
        elif isinstance(node, ast.Assign) and _is_str(node.value):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    module.constants[target.id] = node.value.value
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            _add_function(module, node, f"{name}.{node.name}", class_name=None)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    qualname = f"{name}.{node.name}.{item.name}"
                    _add_function(module, item, qualname, class_name=node.name)
    return module


def _aliases(node: ast.Import | ast.ImportFrom, package: str) -> dict[str, str]:
    if isinstance(node, ast.Import):
        return {
            (a.asname or a.name.split(".")[0]): (a.name if a.asname else a.name.split(".")[0])
            for a in node.names
        }
    base = node.module or ""
    if node.level:
        parent = package.split(".")
        parent = parent[: len(parent) - (node.level - 1)] if node.level > 1 else parent
        base = ".".join([*parent, base] if base else parent)
    return {(a.asname or a.name): f"{base}.{a.name}" for a in node.names}


def _add_function(module: Module, node: ast.FunctionDef, qualname: str, class_name: str | None):
    function = Function(qualname, line=node.lineno)
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        target = _call_target(module, call.func, class_name)
        if not target:
            continue
        if target in EMITTERS and call.args:
            function.emits.add(_literal_or_name(call.args[0]))
        function.calls.add(target)
    module.functions[qualname.removeprefix(module.name + ".")] = function


def _call_target(module: Module, func: ast.expr, class_name: str | None) -> str:
    if isinstance(func, ast.Name):
        if func.id in module.aliases:
            return module.aliases[func.id]
        return f"{module.name}.{func.id}"
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        owner = func.value.id
        if owner in ("self", "cls") and class_name:
            return f"{module.name}.{class_name}.{func.attr}"
        if owner in module.aliases:
            return f"{module.aliases[owner]}.{func.attr}"
    return ""


def _literal_or_name(node: ast.expr) -> str:
    if _is_str(node):
        return "'" + node.value
    return node.id if isinstance(node, ast.Name) else ""


def _is_str(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)
