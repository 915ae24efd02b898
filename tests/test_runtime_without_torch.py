"""A runtime-only install has no torch: `import mt2kd_edge` must not need it."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True)


def test_import_works_with_torch_unavailable():
    # sys.modules[name] = None makes any `import torch` raise ImportError, as if not installed.
    out = run_python("""
        import sys
        sys.modules["torch"] = None
        import mt2kd_edge
        from mt2kd_edge import _core, spec, fileio
        c = _core.Chunker(_core.ChunkerConfig())
        print("ok", mt2kd_edge.__version__, mt2kd_edge.core_version)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok 0.1.0")


def test_import_does_not_load_torch():
    out = run_python("""
        import sys, mt2kd_edge
        print("torch" in sys.modules)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_the_model_package_says_it_needs_torch():
    out = run_python("""
        import sys
        sys.modules["torch"] = None
        import mt2kd_edge.model
    """)
    assert out.returncode != 0 and "needs torch" in out.stderr


def test_the_runtime_modules_import_with_torch_unavailable():
    out = run_python("""
        import sys
        sys.modules["torch"] = None
        import mt2kd_edge.bench, mt2kd_edge.cli, mt2kd_edge.engine, mt2kd_edge.live, mt2kd_edge.server, mt2kd_edge.soak
        print("ok")
    """)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_the_torch_commands_say_they_need_torch():
    out = run_python("""
        import sys
        sys.modules["torch"] = None
        from mt2kd_edge.cli import main
        main(["check"])
    """)
    assert out.returncode == 1 and out.stderr.strip() == "error: this command needs torch: pip install 'mt2kd-edge[train]'"
