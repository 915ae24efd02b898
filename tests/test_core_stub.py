"""mt2kd_edge/_core.pyi describes the whole `_core` module: every public name the bindings define
is in the stub, and the stub names nothing the bindings lack, module level and class by class."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from mt2kd_edge import _core

STUB = Path(__file__).resolve().parents[1] / "mt2kd_edge" / "_core.pyi"


def public(names) -> set[str]:
    return {n for n in names if not n.startswith("_")}


def stub_names() -> tuple[set[str], dict[str, set[str]]]:
    """-> (module-level names, {class: its member names}) of the stub; `_` names are its own aliases."""
    tree = ast.parse(STUB.read_text())

    def names(body) -> set[str]:
        out = set()
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                out.add(node.name)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                out.add(node.target.id)
            elif isinstance(node, ast.Assign):
                out |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        return out

    classes = {n.name: public(names(n.body)) for n in tree.body if isinstance(n, ast.ClassDef)}
    return public(names(tree.body)) | ({"__version__"} & names(tree.body)), classes


def core_names() -> tuple[set[str], dict[str, set[str]]]:
    module = public(vars(_core)) | {"__version__"}
    classes = {n: public(vars(c)) for n, c in vars(_core).items() if inspect.isclass(c) and not n.startswith("_")}
    return module, classes


def test_the_stub_names_exactly_what_the_module_binds():
    (stub, stub_classes), (core, core_classes) = stub_names(), core_names()
    assert core - stub == set(), "bound but missing from mt2kd_edge/_core.pyi"
    assert stub - core == set(), "in mt2kd_edge/_core.pyi but not bound"
    for name, members in core_classes.items():
        assert members == stub_classes[name], f"_core.{name}: bound {sorted(members - stub_classes[name])} " \
                                              f"missing, stub-only {sorted(stub_classes[name] - members)}"


def test_the_stub_is_shipped_with_the_package():
    """scikit-build-core puts every file of mt2kd_edge/ that git does not ignore into the wheel."""
    import shutil
    import subprocess

    root = Path(__file__).resolve().parents[1]
    files = [root / "mt2kd_edge" / "_core.pyi", root / "mt2kd_edge" / "py.typed"]  # PEP 561: checkers read the stub
    assert all(f.is_file() for f in files)
    if shutil.which("git") and (root / ".git").exists():
        ignored = subprocess.run(["git", "-C", str(root), "check-ignore", *map(str, files)], capture_output=True, text=True)
        assert ignored.stdout == "", f"git ignores {ignored.stdout.split()}: they would not ship"
