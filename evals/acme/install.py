"""Install what the Acme Corp apps need beyond the venv; idempotent and fast when done.

``python -m evals.acme.install`` (the Makefile's ``acme-deps`` target) checks, and only
when something is missing installs:

* Debian packages for mail (Dovecot, Roundcube on PHP with SQLite) and chat (Prosody),
  with ``apt-get`` (``DEBIAN_FRONTEND=noninteractive``); installs start no services here;
* ``setuptools<81`` in a private folder that only Trac's processes see, because Trac 1.6
  imports ``pkg_resources``, which newer setuptools no longer ship; and ``multipart`` there
  too, because ``python-multipart`` (a dependency of ``mcp``) installs a ``multipart``
  module of its own that lacks the ``parse_options_header`` Trac calls;
* converse.js (``npm pack converse.js@14.0.0``) unpacked into the cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from evals.acme.paths import CONVERSE_VERSION, cache_dir, converse_dist, trac_pylib

APT_PACKAGES: tuple[str, ...] = (
    "dovecot-imapd",
    "php-cli",
    "php-sqlite3",
    "roundcube-core",
    "roundcube-sqlite3",
    "prosody",
)
APT_LOG = Path(tempfile.gettempdir()) / "journeyman-acme-apt.log"


def missing_apt_packages(packages: tuple[str, ...] = APT_PACKAGES) -> list[str]:
    """The packages of ``packages`` that dpkg does not report as installed."""
    if shutil.which("dpkg-query") is None:
        return list(packages)
    missing = []
    for pkg in packages:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True
        )
        if out.returncode != 0 or "install ok installed" not in out.stdout:
            missing.append(pkg)
    return missing


def _apt_install(packages: list[str]) -> None:
    if os.geteuid() != 0:
        sys.exit(
            "acme: missing Debian packages "
            + " ".join(packages)
            + ": run `sudo apt-get install -y --no-install-recommends "
            + " ".join(packages)
            + "`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=300"]
    cmd += ["--no-install-recommends", *packages]
    print(f"acme: installing Debian packages: {' '.join(packages)} (log: {APT_LOG})", flush=True)
    with APT_LOG.open("a") as log:
        ok = subprocess.run(cmd, env=env, stdout=log, stderr=log).returncode == 0
        if not ok:
            subprocess.run(["apt-get", "update", "-q"], env=env, stdout=log, stderr=log)
            ok = subprocess.run(cmd, env=env, stdout=log, stderr=log).returncode == 0
    if not ok:
        sys.exit(f"acme: apt-get install failed: see {APT_LOG}")


def _trac_pkg_resources() -> None:
    target = trac_pylib()
    if (target / "pkg_resources" / "__init__.py").exists() and (target / "multipart.py").exists():
        return
    print(f"acme: installing setuptools<81 and multipart for Trac into {target}", flush=True)
    target.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target)]
    res = subprocess.run([*cmd, "setuptools<81", "multipart>=1,<2"], capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"acme: could not install setuptools<81 for Trac: {res.stderr.strip()[-500:]}")


def _converse() -> None:
    dist = converse_dist()
    if (dist / "converse.min.js").exists():
        return
    if shutil.which("npm") is None:
        sys.exit("acme: npm is missing: run `apt-get install -y npm` (needed for converse.js)")
    print(f"acme: fetching converse.js {CONVERSE_VERSION} with npm pack", flush=True)
    root = dist.parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        res = subprocess.run(
            ["npm", "pack", f"converse.js@{CONVERSE_VERSION}", "--silent"],
            cwd=tmp,
            capture_output=True,
            text=True,
        )
        tarballs = list(Path(tmp).glob("converse.js-*.tgz"))
        if res.returncode != 0 or not tarballs:
            sys.exit(f"acme: npm pack converse.js failed: {res.stderr.strip()[-500:]}")
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        with tarfile.open(tarballs[0]) as tar:
            tar.extractall(root, filter="data")
    if not (dist / "converse.min.js").exists():
        sys.exit(f"acme: converse.js unpacked into {root} but dist/converse.min.js is absent")


def main() -> None:
    """Check everything and install what is missing; print one line when all is present."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    missing = missing_apt_packages()
    if missing:
        _apt_install(missing)
    _trac_pkg_resources()
    _converse()
    print("acme: system packages, Trac's pkg_resources and converse.js are present")


if __name__ == "__main__":
    main()
