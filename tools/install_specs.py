"""python_install's specifiers, read the way pip reads them: a URL, a path or a requirement.

pip (``install_req_from_line``) takes a line as a URL when it has a scheme
(``file:``, ``https:``, ``git+https:`` ...), as a path when it names something on disk
or looks like one (a separator, a leading dot, an archive suffix), and otherwise as a
PEP 508 requirement, which may itself carry a URL (``name @ url``). Only two kinds pass
here: requirements pip resolves through the package index, and files or folders inside
the workspace (a ``file:`` URL counts as its path). Everything else is refused with one
line, before pip runs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement

from tools.errors import ToolError
from tools.sandbox import Sandbox

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_ARCHIVES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")
_ONLY = "only package names from the index or files inside the workspace are installed"


def _file_url_path(url: str, shown: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() != "file":
        raise ToolError(f"{shown!r}: a {parts.scheme}: URL is not installed; {_ONLY}")
    if parts.netloc not in ("", "localhost"):
        raise ToolError(f"{shown!r}: a file: URL on another host is not installed; {_ONLY}")
    return unquote(parts.path)


def _workspace_path(sandbox: Sandbox, text: str, shown: str) -> str:
    real = sandbox.resolve(text)
    if not real.exists():
        raise ToolError(f"{shown!r}: no such file or folder in the workspace")
    return str(real)


def _looks_like_path(text: str) -> bool:
    return (
        "/" in text
        or "\\" in text
        or text.startswith((".", "~"))
        or text.lower().endswith(_ARCHIVES)
    )


def parse_install_spec(spec: str, sandbox: Sandbox) -> str:
    """The argument to give pip for ``spec``, or ToolError saying why it is refused."""
    text = spec.strip()
    if not text:
        raise ToolError("an empty package specifier")
    if text.startswith("-"):
        raise ToolError(f"{text!r}: pip options are not accepted, only package specifiers")
    if "#" in text.split("://", 1)[-1] and not _SCHEME.match(text):
        raise ToolError(f"{text!r}: comments and fragments are not accepted")
    if _SCHEME.match(text) and not re.match(r"^[A-Za-z]:[\\/]", text):
        path = _file_url_path(text.split("#", 1)[0], text)
        return _workspace_path(sandbox, path, text)
    name, at, _url = text.partition("@")
    direct = bool(at) and not _looks_like_path(name.strip())  # pip: a PEP 508 URL requirement
    if not direct and (
        _looks_like_path(text) or os.path.lexists(sandbox.root / text) or Path(text).is_absolute()
    ):
        return _workspace_path(sandbox, text, text)
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        raise ToolError(f"{text!r} is not a requirement pip can read: {reason}") from None
    if req.url is not None:
        path = _file_url_path(req.url.split("#", 1)[0], text)
        return f"{req.name} @ {Path(_workspace_path(sandbox, path, text)).as_uri()}"
    return text
