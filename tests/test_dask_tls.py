"""Dask only over mutual TLS (issue 24 item 7): ``python -m nnlib_grader certs DIR`` makes a CA and the
scheduler/worker/client certificates; a TLS scheduler and worker on 127.0.0.1 grade a tiny batch; a client
without a certificate, with one from another CA, or over plain tcp is refused; ``--dask tcp://…`` without
``--insecure`` is refused before any work, with a message that says what to do."""

from __future__ import annotations

import os
import socket
import ssl
import stat

import pytest

from nnlib_grader import executor as E
from nnlib_grader.cli import main as cli

distributed = pytest.importorskip("distributed")
pytest.importorskip("cryptography")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls") / "certs"
    assert cli(["certs", str(d)]) == 0
    return d


def test_certs_are_a_ca_and_private_keys(certs, capsys):
    from cryptography import x509

    names = {"ca.pem", "ca-key.pem"} | {f"{r}{s}.pem" for r in ("scheduler", "worker", "client") for s in ("", "-key")}
    assert {p.name for p in certs.iterdir()} == names
    assert stat.S_IMODE(os.stat(certs).st_mode) == 0o700
    assert all(stat.S_IMODE(os.stat(certs / n).st_mode) == 0o600 for n in names if n.endswith("-key.pem"))
    ca = x509.load_pem_x509_certificate((certs / "ca.pem").read_bytes())
    for role in ("scheduler", "worker", "client"):
        cert = x509.load_pem_x509_certificate((certs / f"{role}.pem").read_bytes())
        cert.verify_directly_issued_by(ca)
    assert cli(["certs", str(certs)]) == 1  # a second CA would lock out the first one's certificates
    assert "ca-key.pem exists" in capsys.readouterr().err


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "127.0.0.1:8786", "TCP://grader:1", "ws://h:1"])
def test_plain_addresses_are_refused_without_insecure(address, tmp_path, capsys):
    rc = cli(["grade", "--course", str(tmp_path), "--assignment", "a01", "--submissions", str(tmp_path),
              "--dask", address])
    err = capsys.readouterr().err
    assert rc == 2 and f"refusing --dask {address}" in err and "--insecure" in err and "tls://" in err, err
    assert not (tmp_path / "grading").exists()  # refused before any work
    assert E.security(address, None, insecure=True) is None


def test_tls_needs_the_client_certificates(tmp_path):
    with pytest.raises(E.DaskError, match="needs --dask-tls DIR"):
        E.security("tls://h:8786", None)
    with pytest.raises(E.DaskError, match="missing .*client-key.pem"):
        E.security("tls://h:8786", tmp_path)


def _security(d, *roles):
    from distributed.security import Security

    kw = {f"tls_{r}_{k}": str(d / f"{r}{s}.pem") for r in roles for k, s in (("cert", ""), ("key", "-key"))}
    return Security(tls_ca_file=str(d / "ca.pem"), require_encryption=True, **kw)


@pytest.mark.slow
def test_tls_cluster_on_loopback_grades_and_refuses_strangers(certs, tmp_path):
    from test_workflow import MAX, add_sub, make_course

    from nnlib_grader import batch

    course = make_course(tmp_path)
    add_sub(course / "subs", "t1", "good")
    add_sub(course / "subs", "t2", "wrong")
    rogue = tmp_path / "rogue"
    assert cli(["certs", str(rogue)]) == 0
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tls://",
                                  host="127.0.0.1", dashboard_address=None,
                                  security=_security(certs, "scheduler", "worker", "client")) as lc:
        address = lc.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        res = batch.grade(course, "a01_perceptron", course / "subs",
                          batch.Options(progress=False, feedback=False, dask=address, dask_tls=str(certs)))
        assert {r.student: (r.score, r.status) for r in res} == {"t1": (MAX, "ok"), "t2": (MAX - 3, "ok")}

        with pytest.raises(E.DaskError, match=f"no Dask scheduler answered at {address}"):  # another CA's
            E.DaskExecutor(address, rogue, timeout=5)                                          # certificate
        with pytest.raises(E.DaskError, match="no Dask scheduler answered at tcp://"):  # plain tcp to TLS
            E.DaskExecutor(address.replace("tls://", "tcp://"), None, insecure=True, timeout=5)
        host, port = address.removeprefix("tls://").rsplit(":", 1)
        ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))  # trusts the CA, shows no certificate
        ctx.check_hostname = False
        with socket.create_connection((host, int(port)), timeout=5) as raw, pytest.raises((ssl.SSLError, OSError)):
            s = ctx.wrap_socket(raw)
            s.sendall(b"\0" * 64)
            assert s.recv(16) == b"", "the scheduler answered a client without a certificate"
            raise OSError("closed without an answer")
