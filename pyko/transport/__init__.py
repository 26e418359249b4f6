"""Where images go: an OCI layout directory, a docker-load tarball (and, later, registries)."""
