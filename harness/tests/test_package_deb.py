"""The Debian package: `cpack -G DEB` builds mbws-conformance_<ver>_<arch>.deb
with runtime dependencies only; unpacked into a throwaway prefix (dpkg -x),
its /usr/bin/mbws-suite certifies the reference broker from the installed
files, not from the source tree."""
import json
import os
import shutil
import socket
import subprocess

import pytest

from harness_support import REPO

pytestmark = pytest.mark.skipif(not shutil.which("cpack") or not shutil.which("dpkg-deb"),
                                reason="needs cmake's cpack and dpkg-deb")


def sh(*argv, **kw):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=kw.pop("timeout", 900), **kw)
    assert proc.returncode == 0, f"{' '.join(argv)}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    build = tmp_path_factory.mktemp("pkg-build")
    # Only what the package holds is built (not the unit tests): install skips "all".
    sh("cmake", "-S", str(REPO), "-B", str(build), "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
       "-DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON")
    sh("cmake", "--build", str(build), "-j2", "--target", "mbws-peer", "mbws-suite-commit")
    sh("cpack", "-G", "DEB", cwd=str(build))
    debs = list(build.glob("mbws-conformance_*.deb"))
    assert len(debs) == 1, os.listdir(build)
    return debs[0]


def test_package_name_contents_and_runtime_depends(package):
    arch = sh("dpkg", "--print-architecture").stdout.strip()
    assert package.name == f"mbws-conformance_0.1.0_{arch}.deb"
    files = sh("dpkg-deb", "-c", str(package)).stdout
    for path in ("./usr/bin/mbws-peer", "./usr/bin/mbws-suite -> ../share/mbws-conformance/harness/mbws-suite",
                 "./usr/share/mbws-conformance/cases/schema.json",
                 "./usr/share/mbws-conformance/cases/requirements.json",
                 "./usr/share/mbws-conformance/harness/mbws_harness/plugin.py",
                 "./usr/share/mbws-conformance/harness/templates/index.html.j2",
                 "./usr/share/mbws-conformance/harness/schemas/results.schema.json",
                 "./usr/share/mbws-conformance/docs/protocol.md",
                 "./usr/share/mbws-conformance/suite-commit.txt"):
        assert path in files, path
    assert "harness/tests" not in files and "__pycache__" not in files
    depends = sh("dpkg-deb", "-f", str(package), "Depends").stdout
    for need in ("libwebsockets", "libcjson1", "python3-pytest", "python3-pytest-xdist",
                 "python3-jsonschema", "python3-jinja2",
                 "libwebsockets-evlib-ev", "libwebsockets-evlib-uv"):  # dlopened plugins
        assert need in depends, depends
    assert "openssl" in sh("dpkg-deb", "-f", str(package), "Recommends").stdout  # --tls
    for dev_only in ("-dev", "clang", "valgrind", "chromium", "cmake"):
        assert dev_only not in depends, depends


def test_unpacked_package_certifies_the_reference_broker(package, tmp_path):
    root = tmp_path / "root"
    sh("dpkg", "-x", str(package), str(root))
    peer = root / "usr" / "bin" / "mbws-peer"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    work = tmp_path / "work"  # a user's directory: reports land in ./reports
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MBWS_", "PYTHONPATH"))}
    proc = subprocess.run(
        [str(root / "usr" / "bin" / "mbws-suite"), "--target-url", f"ws://127.0.0.1:{port}/",
         "--target-name", "reference-from-deb", "--run-id", "deb",
         "--start", f"exec {peer} broker --listen 127.0.0.1:{port}", "--section", "flow", "-q"],
        cwd=str(work), env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads((work / "reports" / "deb" / "results.json").read_text())
    assert doc["engine"]["path"] == str(peer)  # the installed engine, found without --peer
    assert doc["summary"]["pass"] > 0 and doc["summary"]["fail"] == 0
    assert doc["targets"][0]["broker_url"] == f"ws://127.0.0.1:{port}/"
    share = root / "usr" / "share" / "mbws-conformance"
    assert all((share / r["file"]).is_file() for r in doc["results"]), "cases not from the package"
    assert (work / "reports" / "deb" / "index.html").stat().st_size > 0
