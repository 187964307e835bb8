"""python_install's specifiers, read as pip reads them: what passes and what pip gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.errors import ToolError
from tools.install_specs import parse_install_spec
from tools.sandbox import Sandbox


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    ws = tmp_path / "ws"
    (ws / "dist").mkdir(parents=True)
    (ws / "dist" / "pkg-0.1-py3-none-any.whl").write_bytes(b"PK")
    (ws / "proj").mkdir()
    (tmp_path / "out.whl").write_bytes(b"PK")
    return Sandbox(ws)


@pytest.mark.parametrize(
    "spec",
    ["openpyxl", "pandas==2.2", "requests[socks]>=2; python_version >= '3.8'", "Foo.Bar_baz"],
)
def test_index_requirements_pass_unchanged(spec: str, sandbox: Sandbox) -> None:
    assert parse_install_spec(f"  {spec} ", sandbox) == spec


def test_workspace_files_pass_as_their_real_paths(sandbox: Sandbox) -> None:
    wheel = str(sandbox.root / "dist" / "pkg-0.1-py3-none-any.whl")
    assert parse_install_spec("dist/pkg-0.1-py3-none-any.whl", sandbox) == wheel
    assert parse_install_spec("./proj", sandbox) == str(sandbox.root / "proj")
    assert parse_install_spec("proj", sandbox) == str(sandbox.root / "proj")  # pip: a folder
    assert parse_install_spec(f"file://{wheel}", sandbox) == wheel
    assert parse_install_spec(f"pkg @ file://{wheel}", sandbox) == f"pkg @ file://{wheel}"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("file://OUT", "outside the workspace"),
        ("file://OUT#sha256=00", "outside the workspace"),
        ("pkg @ file://OUT", "outside the workspace"),
        ("file://otherhost/x.whl", "another host"),
        ("https://example.com/x.whl", "https: URL"),
        ("pkg @ https://example.com/x.whl", "https: URL"),
        ("git+https://example.com/x.git", "git+https: URL"),
        ("../out.whl", "outside the workspace"),
        ("missing.whl", "no such file"),
        ("-e .", "pip options"),
        ("--index-url=x", "pip options"),
        ("x.whl#frag", "fragments"),
        ("six;;;==", "not a requirement"),
        ("", "empty"),
    ],
)
def test_refused_with_one_line(spec: str, message: str, sandbox: Sandbox) -> None:
    spec = spec.replace("OUT", str(sandbox.root.parent / "out.whl"))
    with pytest.raises(ToolError) as err:
        parse_install_spec(spec, sandbox)
    assert message in str(err.value) and "\n" not in str(err.value)
