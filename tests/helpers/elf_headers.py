"""Crafted ELF headers: the smallest files pyko's ELF check accepts (or refuses) for a platform."""
import struct

#: (e_machine, 64-bit, little-endian) of each platform's binaries, from the ELF spec; arm/v6 and
#: arm/v7 share one machine (EM_ARM), so their binaries pass for each other, as Go's do.
HEADERS = {"linux/386": (3, False, True), "linux/amd64": (62, True, True), "linux/arm64": (183, True, True),
           "linux/arm/v6": (40, False, True), "linux/arm/v7": (40, False, True),
           "linux/ppc64le": (21, True, True), "linux/riscv64": (243, True, True), "linux/s390x": (22, True, False)}


def elf_header(machine, is64, little, elf_type=2):
    """An ELF header with no program headers: a static executable as far as the check can tell."""
    order = "<" if little else ">"
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 1 if little else 2, 1]) + bytes(9)
    if is64:
        rest = struct.pack(order + "HHIQQQIHHHHHH", elf_type, machine, 1, 0, 64, 0, 0, 64, 56, 0, 64, 0, 0)
    else:
        rest = struct.pack(order + "HHIIIIIHHHHHH", elf_type, machine, 1, 0, 52, 0, 0, 52, 32, 0, 40, 0, 0)
    return ident + rest


def static_binary_for(platform: str) -> bytes:
    return elf_header(*HEADERS[platform])
