"""pyko: minimal multi-arch container images for static binaries."""

__version__ = "0.1.0"
