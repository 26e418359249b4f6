"""Where images are stored and read: OCI layouts, docker-load tarballs and
registries (registry/), the attachment stores beside them, and the
Destination interface that publish writes through (destinations/).

Nothing here imports pyko.publish, pyko.plan or the toolchains."""
