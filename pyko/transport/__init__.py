"""Where images are stored and read: OCI layouts, docker-load tarballs and
registries (registry/), local engines, the attachment stores and OCI 1.1
referrers beside them, and the Destination interface that pyko.commands
writes through (destinations/).

Below the toolchains and the supply chain: nothing here imports them, the plan
or the commands (import-linter's contract in pyproject.toml)."""
