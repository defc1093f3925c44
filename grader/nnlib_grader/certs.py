"""``python -m nnlib_grader certs DIR``: a private CA and the TLS certificates of a Dask grading cluster.

Dask's TLS is mutual: the scheduler, every worker and the grader's client each present a certificate signed by
the course's CA and accept only peers whose certificate it signed (``distributed.security.Security``).  The CA's
key (``ca-key.pem``) is the shared secret that decides who may join: keep it on the instructor's machine only;
copy ``ca.pem`` with ``scheduler*.pem`` to the scheduler, ``ca.pem`` with ``worker*.pem`` to each worker.  Made
with ``cryptography`` (the library ``ssl``-level tools such as distributed rely on); keys are ECDSA P-256,
written mode 0600 in a folder of mode 0700.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

ROLES = ("scheduler", "worker", "client")


def _name(common: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "nnlib grading"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _cert(subject: str, key, issuer: str, issuer_key, days: int, ca: bool):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = dt.datetime.now(dt.UTC)
    b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True))
    if not ca:
        from cryptography.x509.oid import ExtendedKeyUsageOID

        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                   ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, mode)


def make(folder: str | os.PathLike, days: int = 365, force: bool = False) -> list[Path]:
    """Write ``ca.pem``, ``ca-key.pem`` and ``<role>.pem``/``<role>-key.pem`` for scheduler, worker and client
    into ``folder``; returns the written paths.  Refuses to overwrite a CA unless ``force``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if days < 1:
        raise ValueError(f"certs: --days must be at least 1, not {days}")
    folder = Path(folder)
    if (folder / "ca-key.pem").exists() and not force:
        raise FileExistsError(f"{folder / 'ca-key.pem'} exists: a new CA would lock out every certificate it "
                              "signed (use --force to replace it)")
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)

    def pem_key(key) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("nnlib grading CA", ca_key, "nnlib grading CA", ca_key, days, ca=True)
    written = [folder / "ca.pem", folder / "ca-key.pem"]
    _write(written[0], ca.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(written[1], pem_key(ca_key), 0o600)
    for role in ROLES:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(f"nnlib-{role}", key, "nnlib grading CA", ca_key, days, ca=False)
        _write(folder / f"{role}.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)
        _write(folder / f"{role}-key.pem", pem_key(key), 0o600)
        written += [folder / f"{role}.pem", folder / f"{role}-key.pem"]
    return written
