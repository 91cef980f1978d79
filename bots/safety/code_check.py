"""Static check of uploaded bot code with `ast`.

Defence in depth, not the boundary: Python cannot be made safe by inspecting its source (there are
always more ways to reach a dangerous object), so uploaded code only ever runs in the sandbox
(`bots.safety.sandbox`). This check rejects the obvious early, with line numbers an author can act on,
and keeps honest bots inside the small world the SDK supports.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

ALLOWED_MODULES = frozenset(
    {
        "__future__",
        "math",
        "statistics",
        "numpy",
        "pandas",
        "dataclasses",
        "typing",
        "collections",
        "itertools",
        "functools",
        "datetime",
        "decimal",
        "enum",
        "abc",
    }
)
ALLOWED_PACKAGE = "bots.sdk"  # and its submodules

# Calls that evaluate strings, reach the import system, files or the interpreter's internals.
FORBIDDEN_CALLS = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "__import__",
        "open",
        "input",
        "breakpoint",
        "globals",
        "locals",
        "vars",
        "help",
        "exit",
        "quit",
        "memoryview",
    }
)
# Modules that lead out of the sandbox's intended world: refused as names and as attributes
# (numpy and pandas re-export some of them, e.g. numpy.ctypeslib).
FORBIDDEN_NAMES = frozenset(
    {
        "os",
        "sys",
        "subprocess",
        "socket",
        "ctypes",
        "importlib",
        "pickle",
        "marshal",
        "shutil",
        "builtins",
    }
)
# Attributes of allowed modules that execute strings, load pickles or reach native code.
FORBIDDEN_ATTRIBUTES = FORBIDDEN_NAMES | {
    "ctypeslib",
    "f2py",
    "distutils",
    "read_pickle",
    "to_pickle",
    "eval",
    "system",
    "popen",
}
# Dunder attributes a bot legitimately touches; every other one is a classic escape hatch
# (__subclasses__, __globals__, __builtins__, __code__, __class__, __bases__, __dict__ ...).
ALLOWED_DUNDERS = frozenset({"__init__", "__name__", "__doc__", "__post_init__"})
_ATTR_CALLS = frozenset({"getattr", "setattr", "delattr", "hasattr"})


@dataclass(frozen=True)
class CodeReport:
    ok: bool
    class_name: str | None
    problems: list[str] = field(default_factory=list)


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__") and len(name) > 4


def _module_allowed(module: str) -> bool:
    parts = module.split(".")
    if any(part in FORBIDDEN_ATTRIBUTES or part.startswith("_") for part in parts[1:]):
        return False  # numpy.ctypeslib, pandas.io.pickle, private modules
    return parts[0] in ALLOWED_MODULES or module == ALLOWED_PACKAGE or module.startswith("bots.sdk.")


class _Checker(ast.NodeVisitor):
    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, node: ast.AST, message: str) -> None:
        self.problems.append(f"line {getattr(node, 'lineno', '?')}: {message}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not _module_allowed(alias.name):
                self.problem(node, f"import of '{alias.name}' is not allowed")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            self.problem(node, "relative imports are not allowed")
        elif module == "bots":
            # `from bots import sdk` is fine; nothing else of the platform is
            for alias in node.names:
                if alias.name != "sdk":
                    self.problem(node, f"import of 'bots.{alias.name}' is not allowed")
        elif not _module_allowed(module):
            self.problem(node, f"import from '{module}' is not allowed")
        for alias in node.names:
            if alias.name == "*":
                self.problem(node, "'import *' is not allowed")
            elif alias.name in FORBIDDEN_ATTRIBUTES or _is_dunder(alias.name):
                self.problem(node, f"importing '{alias.name}' is not allowed")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        # a forbidden callee (eval, open ...) is reported by visit_Name, called or merely referenced
        if isinstance(func, ast.Name) and func.id in _ATTR_CALLS and len(node.args) >= 2:
            name = node.args[1]
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self.problem(node, f"'{func.id}()' with a computed attribute name is not allowed")
            elif name.value.startswith("_") or name.value in FORBIDDEN_ATTRIBUTES:
                self.problem(node, f"'{func.id}()' of '{name.value}' is not allowed")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if _is_dunder(node.attr) and node.attr not in ALLOWED_DUNDERS:
            self.problem(node, f"access to '{node.attr}' is not allowed")
        elif node.attr in FORBIDDEN_ATTRIBUTES:
            self.problem(node, f"use of '.{node.attr}' is not allowed")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_CALLS and not isinstance(node.ctx, ast.Store):
            # referencing eval/open without calling it (f = eval; f(...)) is the same thing
            self.problem(node, f"'{node.id}' is not allowed")
        elif node.id in FORBIDDEN_NAMES or (_is_dunder(node.id) and node.id not in ALLOWED_DUNDERS):
            self.problem(node, f"use of '{node.id}' is not allowed")
        self.generic_visit(node)


def _is_custom_bot_base(base: ast.expr) -> bool:
    if isinstance(base, ast.Name):
        return base.id == "CustomBot"
    return isinstance(base, ast.Attribute) and base.attr == "CustomBot"


def check_code(source: str) -> CodeReport:
    """Parse `source` and report every problem found (with line numbers) and the bot class name."""
    try:
        tree = ast.parse(source, filename="bot.py")
    except SyntaxError as exc:
        return CodeReport(False, None, [f"line {exc.lineno}: syntax error: {exc.msg}"])
    except (RecursionError, MemoryError, ValueError):
        return CodeReport(False, None, ["the code is too deeply nested or not valid source"])
    checker = _Checker()
    try:
        checker.visit(tree)
    except RecursionError:
        return CodeReport(False, None, ["the code is too deeply nested"])
    problems = list(dict.fromkeys(checker.problems))

    bots = [
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef) and any(_is_custom_bot_base(base) for base in node.bases)
    ]
    class_name = bots[0].name if len(bots) == 1 else None
    if not bots:
        problems.append("the file must define one subclass of bots.sdk.CustomBot (none found)")
    elif len(bots) > 1:
        names = ", ".join(bot.name for bot in bots)
        problems.append(f"the file must define exactly one subclass of CustomBot (found {len(bots)}: {names})")
    return CodeReport(ok=not problems, class_name=class_name, problems=problems)
