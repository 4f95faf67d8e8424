"""``SORA_C2PA_KEY``/``SORA_C2PA_CERTS``: a key that cannot sign is exit 2 before anything renders, naming the
variable and what is wrong (it was an internal error once the film was drawn); a good pair signs the film."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from sora_cli.provenance import _write_local_chain, verify
from tests.conftest import run_cli

FILM = (
    "version: 1\ntitle: Signed\noutput: {width: 192, height: 108, fps: 12}\n"
    "world: {location: a field}\nshots: [{id: a, duration: 1, action: grass sways}]\n"
)
PEM, PKCS8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    chains = {}
    for name in ("mine", "other"):  # chains as C2PA validators want them, made the way sora makes its own
        (folder / name).mkdir()
        _write_local_chain(folder / name)
        chains[name] = folder / name
    mine = serialization.load_pem_private_key((chains["mine"] / "signer.key").read_bytes(), password=None)
    files = {
        "key": (chains["mine"] / "signer.key").read_bytes(),
        "certs": (chains["mine"] / "chain.pem").read_bytes(),
        "other_certs": (chains["other"] / "chain.pem").read_bytes(),
        "encrypted": mine.private_bytes(PEM, PKCS8, serialization.BestAvailableEncryption(b"secret")),
        "rsa": rsa.generate_private_key(65537, 2048).private_bytes(PEM, PKCS8, serialization.NoEncryption()),
        "p384": ec.generate_private_key(ec.SECP384R1()).private_bytes(PEM, PKCS8, serialization.NoEncryption()),
        "garbage": b"-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n",
        "self_signed": _self_signed(mine).public_bytes(PEM),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in files} | {"missing": folder / "missing.pem", "folder": folder}


CASES = {  # (key, certs) -> what the message must say
    "malformed key": (("garbage", "certs"), ["SORA_C2PA_KEY=", "garbage: not a PEM private key"]),
    "missing key": (("missing", "certs"), ["SORA_C2PA_KEY=", "missing.pem: no such file"]),
    "key is a folder": (("folder", "certs"), ["SORA_C2PA_KEY=", ": is a folder"]),
    "encrypted key": (("encrypted", "certs"), ["encrypted: the key is encrypted"]),
    "rsa key": (("rsa", "certs"), ["rsa: a key of type RSA; C2PA signing (ES256) needs an EC P-256"]),
    "p-384 key": (("p384", "certs"), ["p384: an EC secp384r1 key"]),
    "malformed certs": (("key", "garbage"), ["SORA_C2PA_CERTS=", "garbage: no PEM certificate in it"]),
    "missing certs": (("key", "missing"), ["SORA_C2PA_CERTS=", "missing.pem: no such file"]),
    "mismatch": (("key", "other_certs"), ["SORA_C2PA_KEY does not match the first certificate of SORA_C2PA_CERTS"]),
    "key alone": (("key", None), ["SORA_C2PA_CERTS is not set"]),
    "certs alone": ((None, "certs"), ["SORA_C2PA_KEY is not set"]),
    # the key's own certificate, but self-signed: only c2pa-rs signing something says it cannot be used
    "self-signed": (("key", "self_signed"), ["SORA_C2PA_KEY and SORA_C2PA_CERTS cannot sign:", "certificate"]),
}


def _self_signed(key):  # type: ignore[no-untyped-def]
    """A certificate for ``key`` signed by ``key`` itself (``openssl req -x509 -key``)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "self")])
    now = dt.datetime.now(dt.UTC)
    builder = x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
    builder = builder.serial_number(1).not_valid_before(now - dt.timedelta(days=1))
    return builder.not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256())


@pytest.mark.parametrize("case", CASES)
def test_a_signing_key_that_cannot_sign_is_exit_2_before_anything_renders(keys, tmp_path, monkeypatch, case):
    (key, certs), said = CASES[case]
    for var, name in (("SORA_C2PA_KEY", key), ("SORA_C2PA_CERTS", certs)):
        if name is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, str(keys[name]))
    sb = tmp_path / "film.yaml"
    sb.write_text(FILM)
    result = run_cli("render", str(sb), "--quiet", "--jobs", "1")
    assert result.code == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1 and "internal error" not in result.stderr, result.stderr
    assert all(s in result.stderr for s in said), result.stderr
    assert not (tmp_path / ".sora-cache").exists() and not (tmp_path / "film.mp4").exists()  # nothing drawn


def test_a_good_key_and_chain_sign_the_film(keys, tmp_path, monkeypatch):
    monkeypatch.setenv("SORA_C2PA_KEY", str(keys["key"]))
    monkeypatch.setenv("SORA_C2PA_CERTS", str(keys["certs"]))
    sb = tmp_path / "film.yaml"
    sb.write_text(FILM)
    result = run_cli("render", str(sb), "--quiet", "--jobs", "1", "--no-qc")
    assert result.code == 0, result.stderr
    checked = verify(tmp_path / "film.mp4")
    assert checked.manifest is not None and checked.summary().title == "Signed", checked
