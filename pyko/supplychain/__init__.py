"""What pyko signs, attaches and verifies: cosign-compatible keys and signatures (cosign.py,
sign.py), DSSE statements and Sigstore bundles (dsse.py, bundles.py), SBOMs and SLSA provenance
(sbom.py, provenance.py) and their attestations (attestations.py, attach.py), verification with a
key or keyless (verify.py, keyless/) and base policies (policy.py). Independent of the toolchains."""
