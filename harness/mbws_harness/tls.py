"""TLS for a run: the options (--ca-file, --insecure, --tls) and a test CA
with a server certificate for 127.0.0.1 and localhost, made at run time with
the `openssl` command into the run directory (never kept in the repository)."""

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .targets import TargetError


@dataclass
class TlsSetup:
    ca_file: str = None     # --ca-file: verify wss:// brokers against this CA
    insecure: bool = False  # --insecure: no certificate check (stated in the reports)
    serve: bool = False     # --tls: the bundled broker and every client get wss://
    cert: str = None        # the made certificate and key (serve)
    key: str = None
    made_ca: str = None     # the CA that signed them: MBWS_CA_FILE, and trusted for the bundled broker

    def broker_args(self, url, bundled):
        """The engine's TLS options against a broker URL."""
        if not url.startswith("wss://"):
            return []
        if self.insecure:
            return ["--insecure"]
        ca = self.made_ca if bundled and self.made_ca else self.ca_file
        return ["--ca-file", ca] if ca else []

    def client_args(self):
        """The engine's options to serve wss:// to a client under test."""
        if not self.serve:
            return []
        return ["--cert", self.cert, "--key", self.key, "--ca-file", self.made_ca]


def _openssl(args, cwd):
    proc = subprocess.run(["openssl"] + args, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise TargetError(f"--tls: openssl {' '.join(args[:2])} failed: {proc.stderr.strip()}")


P256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]


def make_certificates(directory, san="DNS:localhost,IP:127.0.0.1"):
    """A throw-away CA and a server certificate it signed, valid for the
    names of san for two days, with P-256 keys (quick to make, and quick
    handshakes even under valgrind). Returns (ca, cert, key) paths."""
    if not shutil.which("openssl"):
        raise TargetError("--tls needs the openssl command (Debian package openssl; "
                          "ci/install-deps.sh installs it)")
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    (d / "san.cnf").write_text(f"[ext]\nsubjectAltName={san}\n"
                               "basicConstraints=CA:FALSE\n")
    _openssl(["req", "-x509", *P256, "-nodes", "-keyout", "ca.key",
              "-out", "ca.pem", "-days", "2", "-subj", "/CN=MBWS suite test CA"], d)
    _openssl(["req", *P256, "-nodes", "-keyout", "server.key",
              "-out", "server.csr", "-subj", "/CN=localhost"], d)
    _openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
              "-CAcreateserial", "-out", "server.pem", "-days", "2",
              "-extfile", "san.cnf", "-extensions", "ext"], d)
    (d / "ca.key").unlink()  # nothing more to sign
    return str(d / "ca.pem"), str(d / "server.pem"), str(d / "server.key")


def forget_key(setup):
    """The run's private key is not kept with the reports."""
    if setup.key:
        Path(setup.key).unlink(missing_ok=True)


def setup_from_options(opt):
    """Checks the TLS options; certificates are made later (make())."""
    if opt.ca_file and opt.insecure:
        raise TargetError("--ca-file and --insecure contradict each other: give one")
    if opt.ca_file and not Path(opt.ca_file).is_file():
        raise TargetError(f"--ca-file: {opt.ca_file} is not a file")
    return TlsSetup(ca_file=str(Path(opt.ca_file).resolve()) if opt.ca_file else None,
                    insecure=bool(opt.insecure), serve=bool(opt.tls))


def make(setup, run_dir):
    """Makes the run's certificate when --tls asked for one."""
    if setup.serve and not setup.cert:
        setup.made_ca, setup.cert, setup.key = make_certificates(Path(run_dir) / "tls")
