"""Provenance: every film carries a signed C2PA manifest saying it was generated.

The manifest states the action ``c2pa.created`` with the IPTC digital source
type (``trainedAlgorithmicMedia`` for generative backends, ``algorithmicMedia``
for the animatic) and a ``org.sora.render`` assertion with the storyboard's
hash, the backend, model and seed, and the hashes (never the data) of the
cameos used. It is signed fully offline with an EC P-256 key and a
certificate chain that sora creates on first use in its config folder, or
that the user supplies (``SORA_C2PA_KEY`` and ``SORA_C2PA_CERTS``).

Signatures are deterministic (RFC 6979) and the manifest label is derived from
the content, but C2PA requires random salts in the manifest: two renders of
the same storyboard differ only inside the C2PA box. :func:`media_digest`
hashes a film without it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sora_cli import __version__, faults
from sora_cli.atomic import atomic_path, sweep_stale
from sora_cli.bmff import top_level_boxes
from sora_cli.errors import SoraError, UsageError

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
#: the UUID of the top-level BMFF box that holds a C2PA manifest store
C2PA_BOX_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")


def config_dir() -> Path:
    root = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(os.environ.get("SORA_CONFIG_DIR") or Path(root) / "sora")


@dataclass(frozen=True)
class Credentials:
    key_pem: bytes
    chain_pem: bytes
    root_pem: bytes | None  # the local CA, when sora made the chain (a trust anchor for verify)


KEY_VAR, CERTS_VAR = "SORA_C2PA_KEY", "SORA_C2PA_CERTS"


def credentials() -> Credentials:
    """The user's key and chain (checked: :func:`user_credentials`), or sora's own, created on first use."""
    if os.environ.get(KEY_VAR) or os.environ.get(CERTS_VAR):
        return user_credentials()
    folder = config_dir() / "c2pa"
    key, chain, root = folder / "signer.key", folder / "chain.pem", folder / "root.pem"
    if not (key.is_file() and chain.is_file() and root.is_file()):
        _make_local_chain(folder)
    return Credentials(key.read_bytes(), chain.read_bytes(), root.read_bytes())


def _read_pem(var: str, what: str, problems: list[str]) -> bytes | None:
    """The file ``$var`` names, or None with the problem said (the variable, the path, what is wrong)."""
    path = os.environ.get(var)
    if not path:
        problems.append(f"{var} is not set: set it to {what} too (or unset both to use sora's local key)")
        return None
    try:
        return Path(path).expanduser().read_bytes()
    except FileNotFoundError:
        problems.append(f"{var}={path}: no such file (it must name {what})")
    except IsADirectoryError:
        problems.append(f"{var}={path}: is a folder, not {what}")
    except OSError as exc:
        problems.append(f"{var}={path}: cannot be read ({exc.strerror or exc})")
    return None


def user_credentials() -> Credentials:
    """The key and chain named by ``SORA_C2PA_KEY`` and ``SORA_C2PA_CERTS``, checked before anything renders.

    A signature is made only after the whole film is drawn; a key that cannot sign must be a usage error
    (exit 2) up front, naming the variable and what is wrong: both set, each file readable PEM, the key an
    unencrypted EC P-256 private key, the chain's first certificate the key's own.
    """
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    problems: list[str] = []
    key_pem = _read_pem(KEY_VAR, "an EC P-256 private key in PEM", problems)
    chain_pem = _read_pem(CERTS_VAR, "the PEM certificate chain, the signer's certificate first", problems)
    key = certs = None
    if key_pem is not None:
        where = f"{KEY_VAR}={os.environ[KEY_VAR]}"
        try:
            key = serialization.load_pem_private_key(key_pem, password=None)
        except TypeError:
            problems.append(f"{where}: the key is encrypted; give an unencrypted PEM private key")
        except (ValueError, UnsupportedAlgorithm):
            problems.append(
                f"{where}: not a PEM private key (expected a -----BEGIN PRIVATE KEY----- or "
                "-----BEGIN EC PRIVATE KEY----- block)"
            )
        if key is not None and not (isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"):
            kind = (
                f"an EC {key.curve.name} key"
                if isinstance(key, ec.EllipticCurvePrivateKey)
                else f"a key of type {type(key).__name__.lstrip('_').removesuffix('PrivateKey')}"
            )
            problems.append(f"{where}: {kind}; C2PA signing (ES256) needs an EC P-256 (secp256r1) key")
            key = None
    if chain_pem is not None:
        try:
            certs = x509.load_pem_x509_certificates(chain_pem)
        except ValueError:
            problems.append(
                f"{CERTS_VAR}={os.environ[CERTS_VAR]}: no PEM certificate in it "
                "(expected -----BEGIN CERTIFICATE----- blocks, the signer's first)"
            )
    if key is not None and certs:
        der, spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        if key.public_key().public_bytes(der, spki) != certs[0].public_key().public_bytes(der, spki):
            problems.append(
                f"{KEY_VAR} does not match the first certificate of {CERTS_VAR} "
                "(the chain must start with the certificate of this key)"
            )
    if problems:
        raise UsageError("; ".join(problems))
    assert key_pem is not None and chain_pem is not None
    return Credentials(key_pem, chain_pem, None)


def check_signing() -> None:
    """What a render checks before it draws: the credentials it will sign with (made now when they are sora's
    own), and that c2pa-rs signs with the user's own: its checks of a chain (self-signed, expired, not yet
    valid, a certificate it rejects) run only when something is signed, so a one-pixel image is, once here
    rather than beside every signature."""
    creds = credentials()
    if creds.root_pem is None and (refused := _trial_signing(creds)):
        raise UsageError(f"{KEY_VAR} and {CERTS_VAR} cannot sign: {refused}")


def _make_local_chain(folder: Path) -> None:
    """Create the local signing chain as a unit: written aside, then renamed into place.

    Two renders starting at once on a fresh machine must not end up with one's
    key beside the other's certificate: the first rename wins, the other's
    folder is discarded.
    """
    import shutil
    import tempfile

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".c2pa.", dir=folder.parent))
    try:
        _write_local_chain(staging)
        try:
            staging.rename(folder)
        except OSError:  # another process made it first (or a partial folder is in the way)
            if not (folder / "chain.pem").is_file():
                shutil.rmtree(folder, ignore_errors=True)
                staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_local_chain(folder: Path) -> None:
    """A local CA and a signing certificate for it (EC P-256), as C2PA validators expect them."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sora (local)"),
            ]
        )

    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    years = dt.timedelta(days=3650)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("sora local root"))
        .issuer_name(name("sora local root"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + years)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("sora film signer"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + years)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_path = folder / "signer.key"
    key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_path.chmod(0o600)
    (folder / "root.pem").write_bytes(ca.public_bytes(pem))
    (folder / "chain.pem").write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))


def manifest(title: str, generative: bool, facts: dict[str, Any], content_id: str) -> dict[str, Any]:
    source = "trainedAlgorithmicMedia" if generative else "algorithmicMedia"
    return {
        "label": f"urn:c2pa:{uuid.UUID(hex=content_id[:32], version=4)}",  # a valid v4 UUID, derived from the content
        "title": title,
        "claim_generator_info": [{"name": "sora", "version": __version__}],
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": IPTC + source}]},
            },
            {"label": "org.sora.render", "data": facts},
        ],
    }


#: c2pa-rs builds the signed film in a backing store that stays in memory up to this many MB (512 by
#: default), then spills to a temporary file (unnamed, in ``$TMPDIR``): see :func:`sign_film`
SPILL_MB = 16


def prepare_signing() -> None:
    """Import what signing a film needs (c2pa-rs and the key's cryptography, ~0.1 s), ahead of the signing.

    A render calls this from its thread that works while the picture is drawn, so that
    the signing at its end, which runs beside the checks, does not pay for the imports then.
    """
    import c2pa  # noqa: F401
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: F401
    from cryptography.hazmat.primitives.asymmetric import ec, utils  # noqa: F401


def _signer(creds: Credentials) -> Any:
    """A c2pa signer for ``creds`` (ES256; the signature made here with ``cryptography``, deterministically)."""
    import c2pa
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    key = serialization.load_pem_private_key(creds.key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SoraError("the C2PA signing key must be an EC P-256 key (ES256)")

    def sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    return c2pa.Signer.from_callback(sign, c2pa.C2paSigningAlg.ES256, creds.chain_pem.decode(), None)


def _trial_signing(creds: Credentials) -> str | None:
    """What c2pa-rs says when ``creds`` sign a one-pixel image (None: they sign)."""
    import io

    import c2pa
    from PIL import Image

    image = io.BytesIO()
    Image.new("RGB", (1, 1)).save(image, format="PNG")
    image.seek(0)
    try:
        check = manifest("sora key check", False, {}, hashlib.sha256(b"key check").hexdigest())
        with c2pa.Builder(json.dumps(check)) as builder:
            builder.sign(_signer(creds), "image/png", image, io.BytesIO())
    except c2pa.C2paError as exc:
        return str(exc)
    return None


def sign_film(path: Path, title: str, generative: bool, facts: dict[str, Any], spill: bool = False) -> None:
    """Embed a signed manifest in ``path`` (replaced atomically).

    ``spill``: c2pa-rs keeps the signed film it builds on disk past :data:`SPILL_MB` instead of
    in memory (a film under 512 MB is otherwise held whole while it is written out): the signing
    child of a large film uses it. Only where the bytes wait changes, not the bytes.
    """
    import c2pa

    content_id = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()
    try:
        signer = _signer(credentials())
        definition = json.dumps(manifest(title, generative, facts, content_id))
        context = None
        if spill:
            settings = {"core": {"backing_store_memory_threshold_in_mb": SPILL_MB}}
            context = c2pa.Context(c2pa.Settings.from_json(json.dumps(settings)))
        with (
            c2pa.Builder(definition, context=context) as builder,
            atomic_path(path) as tmp,
            open(path, "rb") as source,
            open(tmp, "w+b") as dest,
        ):
            faults.checkpoint("signing")
            builder.sign(signer, "video/mp4", source, dest)
    except c2pa.C2paError as exc:
        raise SoraError(f"signing the C2PA manifest failed: {exc}") from None


#: films at least this large are signed and read back in a fresh interpreter (see :func:`sign_and_verify`)
APART_BYTES = 48 * 2**20


def sign_and_verify(path: Path, title: str, generative: bool, facts: dict[str, Any]) -> str:
    """Sign ``path``, then read its manifest back; the verification state ("Trusted", "Valid", ...).

    c2pa-rs holds about two copies of an MP4 while it signs one (the signed film
    it builds, and a buffer of up to 256 MB it hashes in) and one copy while it
    validates it (that buffer again), so in the render's own process the peak
    would grow with the film's length. A large film is signed in a fresh, small
    interpreter instead, where the film being built spills to disk beside the film
    (``spill``): the render's peak stays flat, the signer's holds one hashing buffer
    (at most 256 MB, whatever the length), and it lasts a few seconds.
    """
    if path.stat().st_size < APART_BYTES:
        sign_film(path, title, generative, facts)
        return verify(path).state
    job = json.dumps({"path": str(path), "title": title, "generative": generative, "facts": facts})
    code = "from sora_cli.provenance import _sign_and_verify_job; _sign_and_verify_job()"
    # what spills goes beside the film, on the disk checked for its room (never a /tmp that may be memory)
    env = {**os.environ, "TMPDIR": str(path.resolve().parent)}
    # -P: the working directory is not put on sys.path (a stray c2pa.py there must not be imported)
    done = subprocess.run([sys.executable, "-P", "-c", code], input=job, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sweep_stale(path.parent)  # (a signer killed mid-way left its half-written film beside ``path``)
        if done.stderr.strip():
            raise SoraError(done.stderr.strip().splitlines()[-1])
        how = f"killed by signal {-done.returncode}" if done.returncode < 0 else f"exit {done.returncode}"
        raise SoraError(f"signing the film failed: its signing process ended ({how}) before it finished")
    return done.stdout.strip()


def _sign_and_verify_job() -> None:
    """The child's side of :func:`sign_and_verify`: the job on stdin, the state on stdout, a failure on stderr."""
    job = json.loads(sys.stdin.read())
    path = Path(job["path"])
    try:
        sign_film(path, job["title"], job["generative"], job["facts"], spill=True)
        print(verify(path).state)
    except (SoraError, UsageError) as exc:  # a key that cannot sign (checked before the render, but said here too)
        print(exc, file=sys.stderr)
        raise SystemExit(1) from None


@dataclass(frozen=True)
class Verification:
    state: str  # Trusted, Valid, Invalid, or "none" when there is no manifest
    manifest: dict[str, Any] | None
    failures: list[str]

    @property
    def ok(self) -> bool:
        return self.state in ("Valid", "Trusted")

    def summary(self) -> ManifestSummary | None:
        """What the manifest says in a few fields (None without a readable manifest)."""
        return None if self.manifest is None else summarize(self.manifest)


@dataclass
class ManifestSummary:
    """A manifest as a reader wants it: the title, what was done (action, source type), sora's render facts."""

    title: str
    actions: list[tuple[str, str]]  # (action, digital source type's last word)
    facts: dict[str, Any]  # the ``org.sora.render`` assertion: storyboard digest, backend, model, seed, cameos


def summarize(manifest: dict[str, Any]) -> ManifestSummary:
    """The :class:`ManifestSummary` of a manifest read by :func:`verify`."""
    assertions = manifest.get("assertions", [])
    facts = next((a["data"] for a in assertions if a.get("label") == "org.sora.render"), {})
    actions = next(
        (a["data"]["actions"] for a in assertions if a.get("label", "").startswith("c2pa.actions")),
        [],
    )
    return ManifestSummary(
        title=str(manifest.get("title", "")),
        actions=[(a.get("action", ""), a.get("digitalSourceType", "").rsplit("/", 1)[-1]) for a in actions],
        facts=facts,
    )


def verify(path: Path) -> Verification:
    """Read and validate a film's manifest; sora's own local root counts as a trust anchor.

    Whatever the bytes, the answer is a :class:`Verification`: a manifest box
    that is there but cannot be read (flipped bits) is Invalid, never an error.
    """
    import c2pa

    context = None
    root = config_dir() / "c2pa" / "root.pem"
    if root.is_file():
        settings = c2pa.Settings.from_json(
            json.dumps({"verify": {"verify_trust": True}, "trust": {"trust_anchors": root.read_text()}})
        )
        context = c2pa.Context(settings)
    try:
        reader = c2pa.Reader(str(path), context=context)
    except Exception as exc:  # c2pa raises C2paError, and others for some damaged stores
        text = str(exc) or type(exc).__name__
        missing = "ManifestNotFound" in text or "JumbfNotFound" in text or "not found" in text.lower()
        if missing and not has_manifest_box(path):
            return Verification("none", None, [])
        return Verification("Invalid", None, [f"the C2PA manifest cannot be read: {text}"])
    try:
        with reader:
            results = reader.get_validation_results() or {}
            failures = [
                f"{f.get('code')}: {f.get('explanation', '')}"
                for f in (results.get("activeManifest") or {}).get("failure", [])
            ]
            return Verification(reader.get_validation_state() or "Invalid", reader.get_active_manifest(), failures)
    except Exception as exc:  # e.g. KeyError "Active manifest not found" for a damaged store
        return Verification("Invalid", None, [f"the C2PA manifest cannot be read: {exc or type(exc).__name__}"])


def has_manifest_box(path: Path) -> bool:
    """Whether the file has a top-level C2PA box at all (damaged or not)."""
    try:
        with open(path, "rb") as fh:
            return any(box.usertype == C2PA_BOX_UUID for box in top_level_boxes(fh))
    except OSError:
        return False


def media_digest(path: Path) -> str:
    """sha256 of a film without its C2PA manifest box (whose salts are random by design)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for box in list(top_level_boxes(fh)):
            if box.usertype == C2PA_BOX_UUID:
                continue
            fh.seek(box.offset)
            left = box.size
            while left > 0 and (chunk := fh.read(min(left, 1 << 20))):
                h.update(chunk)
                left -= len(chunk)
    return h.hexdigest()
