"""Signing: `generate-key-pair`, `sign`, `verify` and `verify-attestation`, as cosign does them."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Tuple

import click

from ..plan.environment import cache_dir, process_environment, sigstore_offline
from .options import F, apply_options, keyless_options, open_signing_from, registries_from_flags, registry_options

if TYPE_CHECKING:
    from ..commands.signing import Located
    from ..supplychain.sign import Signing


@click.command("generate-key-pair")
@click.option("--output-key-prefix", default="cosign", show_default=True,
              help="Writes PREFIX.key (encrypted, cosign's format) and PREFIX.pub.")
def generate_key_pair(output_key_prefix: str) -> None:
    """Make an ECDSA P-256 key pair for signing (password from COSIGN_PASSWORD or a prompt)."""
    from ..commands.signing import write_key_pair

    key_path, pub_path = write_key_pair(output_key_prefix, process_environment())
    click.echo(f"Private key written to {key_path}", err=True)
    click.echo(f"Public key written to {pub_path}", err=True)


def keyless_flags(func: F) -> F:
    return apply_options(func, keyless_options())


def _located(image: str, oci_layout: str, insecure: bool, ca_file: str, timeout: Optional[float]) -> Located:
    """IMAGE in its registry (reached as the flags say) or in an OCI layout."""
    from ..commands.signing import located

    return located(image, oci_layout, registries_from_flags(insecure, ca_file, timeout, process_environment()))



def _signing(signing: Optional[Signing]) -> Signing:
    """sign and attest always ask for a signer (a key, else keyless): open_signing gives one."""
    if signing is None:
        raise RuntimeError("open_signing gave no signer for a key or keyless request")
    return signing


@click.command()
@click.argument("image")
@click.option("--key", "key_path", default="", type=click.Path(),
              help="The private key (cosign.key). Without it, pyko signs keylessly, as cosign does: a short-lived "
                   "Fulcio certificate for the CI's OIDC identity, the signature logged in Rekor.")
@keyless_flags
@click.option("-a", "--annotation", "annotations", multiple=True, metavar="KEY=VALUE",
              help="Annotation to put in the signature payload (repeatable).")
@click.option("--recursive", is_flag=True, help="For an index, also sign each platform's manifest.")
@click.option("--signature-format", type=click.Choice(["legacy", "bundle"]), default="legacy", show_default=True,
              help="legacy: the .sig tag (cosign v2 and v3 read it); bundle: a Sigstore bundle referrer (v3's).")
@click.option("--oci-layout", default="", type=click.Path(), help="Sign an image in this OCI layout.")
@registry_options
def sign(image: str, key_path: str, annotations: Tuple[str, ...], recursive: bool, signature_format: str,
         oci_layout: str, insecure_registry: bool, registry_ca_file: str, registry_timeout: Optional[float],
         **keyless: Any) -> None:
    """Sign IMAGE (by tag or digest) the way cosign does, and store the signature beside it."""
    from ..commands.signing import sign_stored
    from ..plan.metadata import key_values
    from ..util.timestamps import source_date_epoch

    environ = process_environment()
    signing = _signing(open_signing_from({**keyless, "signature_format": signature_format}, environ, key=key_path,
                                         keyless=not key_path, recursive=recursive,
                                         annotations=key_values(annotations, "--annotation"),
                                         epoch=source_date_epoch(environ)))
    where = _located(image, oci_layout, insecure_registry, registry_ca_file, registry_timeout)
    _, stored = sign_stored(where, signing)
    click.echo(f"signed {len(stored)} manifest(s) of {where.name} ({signing.form} format) as "
               f"{signing.signer.description}", err=True)
    for item in stored:
        click.echo(f"{where.name}@{item.subject}")


@click.command()
@click.argument("image")
@click.option("--predicate", required=True, type=click.Path(), help="The predicate: a JSON file (an SBOM, ...).")
@click.option("--type", "kind", default="custom", show_default=True,
              help="The predicate type: spdxjson, slsaprovenance1, cyclonedx, ... (cosign's names) or a URI.")
@click.option("--key", "key_path", default="", type=click.Path(),
              help="The private key (cosign.key). Without it, pyko signs keylessly, as cosign does.")
@keyless_flags
@click.option("--signature-format", type=click.Choice(["legacy", "bundle"]), default="legacy", show_default=True,
              help="legacy: the .att tag (cosign v2 and v3 read it); bundle: a Sigstore bundle referrer (v3's).")
@click.option("--oci-layout", default="", type=click.Path(), help="Attest an image in this OCI layout.")
@registry_options
def attest(image: str, predicate: str, kind: str, key_path: str, signature_format: str, oci_layout: str,
           insecure_registry: bool, registry_ca_file: str, registry_timeout: Optional[float], **keyless: Any) -> None:
    """Sign PREDICATE as an in-toto attestation about IMAGE and store it beside it (cosign attest)."""
    from ..commands.signing import attest_stored, read_predicate
    from ..supplychain.attestations import predicate_type
    from ..util.timestamps import source_date_epoch

    environ = process_environment()
    wanted, document = predicate_type(kind), read_predicate(predicate)
    signing = _signing(open_signing_from({**keyless, "signature_format": signature_format}, environ, key=key_path,
                                         keyless=not key_path, epoch=source_date_epoch(environ)))
    where = _located(image, oci_layout, insecure_registry, registry_ca_file, registry_timeout)
    digest, _ = attest_stored(where, signing, wanted, document)
    click.echo(f"attested {wanted} about {where.name}@{digest} ({signing.form} format) as "
               f"{signing.signer.description}", err=True)
    click.echo(f"{where.name}@{digest}")


@click.command()
@click.argument("image")
@click.option("--key", "key_path", default="", type=click.Path(), help="The public key (cosign.pub).")
@click.option("--certificate-identity", default="", help="Keyless: the signer's identity, exactly.")
@click.option("--certificate-identity-regexp", default="", help="Keyless: a regular expression for the identity.")
@click.option("--certificate-oidc-issuer", default="", help="Keyless: the OIDC issuer, exactly.")
@click.option("--certificate-oidc-issuer-regexp", default="", help="Keyless: a regular expression for the issuer.")
@click.option("--trusted-root", default="", type=click.Path(),
              help="Keyless: Sigstore's trusted root file (default: the public-good one).")
@click.option("-a", "--annotation", "annotations", multiple=True, metavar="KEY=VALUE",
              help="Require this annotation in the signed payload (repeatable).")
@click.option("--oci-layout", default="", type=click.Path(), help="Verify an image in this OCI layout.")
@registry_options
def verify(image: str, key_path: str, certificate_identity: str, certificate_identity_regexp: str,
           certificate_oidc_issuer: str, certificate_oidc_issuer_regexp: str, trusted_root: str,
           annotations: Tuple[str, ...], oci_layout: str, insecure_registry: bool, registry_ca_file: str,
           registry_timeout: Optional[float]) -> None:
    """Check IMAGE's signatures with a public key, or keyless (cosign's flags); print what verifies."""
    from ..commands.signing import verifier_from_flags
    from ..plan.metadata import key_values
    from ..supplychain.verify import verify_signatures

    environ = process_environment()
    verifier = verifier_from_flags(key_path, certificate_identity, certificate_identity_regexp,
                                   certificate_oidc_issuer, certificate_oidc_issuer_regexp, trusted_root,
                                   sigstore_offline(environ), cache_dir(environ))
    where = _located(image, oci_layout, insecure_registry, registry_ca_file, registry_timeout)
    store, name = where.store, where.name
    digest, _ = store.resolve(where.ident)
    if verifier.note:
        click.echo(f"pyko: warning: {verifier.note}", err=True)
    verified = verify_signatures(store, digest, verifier, dict(key_values(annotations, "--annotation")), image)
    click.echo(f"Verified {len(verified)} signature(s) of {name}@{digest}"
               + (", with the required annotations" if annotations else "") + ":", err=True)
    for signature in verified:
        click.echo(f"  {signature.where}: {signature.checks}", err=True)
    for signature in verified:
        click.echo(signature.payload.decode())


@click.command("verify-attestation")
@click.argument("image")
@click.option("--key", "key_path", required=True, type=click.Path(), help="The public key (cosign.pub).")
@click.option("--type", "kind", default="custom", show_default=True,
              help="The predicate: spdxjson, slsaprovenance1, cyclonedx, ... (cosign's names) or a URI.")
@click.option("--oci-layout", default="", type=click.Path(), help="Verify an image in this OCI layout.")
@registry_options
def verify_attestation(image: str, key_path: str, kind: str, oci_layout: str, insecure_registry: bool,
                       registry_ca_file: str, registry_timeout: Optional[float]) -> None:
    """Check IMAGE's attestations of one type with a public key; print the statements that verify.

    Reads both forms: cosign's .att tag and Sigstore bundle referrers (cosign v3's).
    """
    from ..supplychain.attestations import predicate_type, verify_attestations
    from ..supplychain.cosign import load_public_key

    wanted = predicate_type(kind)
    key = load_public_key(key_path)
    where = _located(image, oci_layout, insecure_registry, registry_ca_file, registry_timeout)
    store, name = where.store, where.name
    digest, _ = store.resolve(where.ident)
    statements = verify_attestations(store, digest, key, wanted, image)
    click.echo(f"Verified {len(statements)} {wanted} attestation(s) of {name}@{digest}: the signature, and "
               "that the statement's subject is this digest", err=True)
    for statement in statements:
        click.echo(statement.raw.decode())


COMMANDS = (generate_key_pair, sign, attest, verify, verify_attestation)
