"""The ELF check: refuse what cannot run on a static base, before packing it.

Reads only the ELF header, the program headers and the dynamic section:
- a PT_INTERP (program interpreter) or any DT_NEEDED (shared library) means
  the binary needs a libc the static base does not have;
- machine, class (32/64-bit) and byte order must match the platform, so an
  arm64 binary can never be packed as amd64, nor big-endian ppc64 as ppc64le.
A static PIE (ET_DYN with a dynamic section but no interpreter and no
DT_NEEDED) is fine.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO, List, Tuple

from ..errors import BuildError
from ..platforms import Platform

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB = 0, 1, 5
ET_EXEC, ET_DYN = 2, 3

# e_machine values (from the ELF spec / Linux elf-em.h)
MACHINES = {3: "x86 (386)", 62: "x86-64 (amd64)", 183: "AArch64 (arm64)", 40: "ARM (32-bit arm)",
            21: "PowerPC64", 243: "RISC-V", 22: "s390", 8: "MIPS", 20: "PowerPC (32-bit)"}

# What each OCI architecture must be: (e_machine, 64-bit?, little-endian?)
EXPECTED = {
    "386": (3, False, True), "amd64": (62, True, True), "arm64": (183, True, True),
    "arm": (40, False, True), "ppc64le": (21, True, True), "riscv64": (243, True, True),
    "s390x": (22, True, False),
}


@dataclass(frozen=True)
class ElfInfo:
    machine: int
    is64: bool
    little: bool
    elf_type: int
    interpreter: str
    needed: Tuple[str, ...]

    def describe(self) -> str:
        name = MACHINES.get(self.machine, f"machine {self.machine}")
        return f"{name}, {'64' if self.is64 else '32'}-bit {'little' if self.little else 'big'}-endian"


def describe_expected(arch: str) -> str:
    machine, is64, little = EXPECTED[arch]
    return ElfInfo(machine, is64, little, ET_EXEC, "", ()).describe()


def read_elf(path: str) -> ElfInfo:
    try:
        with open(path, "rb") as f:
            return _parse(f, path)
    except OSError as err:
        raise BuildError(f"cannot read binary {path}: {err.strerror}") from None
    except struct.error:
        raise BuildError(f"{path} is a truncated or corrupt ELF file") from None


def _parse(f: BinaryIO, path: str) -> ElfInfo:
    ident = f.read(16)
    if len(ident) < 16 or ident[:4] != b"\x7fELF":
        raise BuildError(f"{path} is not an ELF executable: pyko packs Linux binaries "
                         "(built for the target platform), not scripts or other files")
    is64, little = ident[4] == 2, ident[5] == 1
    order = "<" if little else ">"
    header = order + ("HHIQQQIHHH" if is64 else "HHIIIIIHHH")
    e_type, e_machine, _, _, e_phoff, _, _, _, e_phentsize, e_phnum = struct.unpack(
        header, f.read(struct.calcsize(header)))
    segments = []
    for i in range(e_phnum):
        f.seek(e_phoff + i * e_phentsize)
        if is64:
            p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = struct.unpack(order + "IIQQQQQQ", f.read(56))
        else:
            p_type, p_offset, p_vaddr, _, p_filesz, _, _, _ = struct.unpack(order + "IIIIIIII", f.read(32))
        segments.append((p_type, p_offset, p_vaddr, p_filesz))
    interpreter = ""
    for p_type, offset, _, size in segments:
        if p_type == PT_INTERP:
            f.seek(offset)
            interpreter = f.read(size).split(b"\0", 1)[0].decode("utf-8", "replace")
    needed = tuple(_needed(f, [tuple(s) for s in segments], is64, order))
    return ElfInfo(e_machine, is64, little, e_type, interpreter, needed)


def _needed(f: BinaryIO, segments: List[Tuple[int, ...]], is64: bool, order: str) -> List[str]:
    """DT_NEEDED names: read the dynamic section, find the string table by address."""
    dynamic = next((s for s in segments if s[0] == PT_DYNAMIC), None)
    if dynamic is None:
        return []
    _, offset, _, size = dynamic
    f.seek(offset)
    entry = struct.Struct(order + ("qQ" if is64 else "iI"))
    raw = f.read(size)
    tags = [entry.unpack_from(raw, i) for i in range(0, len(raw) - entry.size + 1, entry.size)]
    strtab = next((v for t, v in tags if t == DT_STRTAB), None)
    needed_offsets = []
    for tag, value in tags:
        if tag == DT_NULL:
            break
        if tag == DT_NEEDED:
            needed_offsets.append(value)
    if not needed_offsets:
        return []
    if strtab is None:
        return ["<unnamed library>"] * len(needed_offsets)
    base = _file_offset(segments, strtab)
    names = []
    for rel in needed_offsets:
        f.seek(base + rel)
        names.append(f.read(256).split(b"\0", 1)[0].decode("utf-8", "replace"))
    return names


def _file_offset(segments: List[Tuple[int, ...]], vaddr: int) -> int:
    for p_type, offset, seg_vaddr, size in segments:
        if p_type == PT_LOAD and seg_vaddr <= vaddr < seg_vaddr + size:
            return offset + (vaddr - seg_vaddr)
    return vaddr  # unmapped: some linkers leave file offsets here


def check_static_for(path: str, platform: Platform, shown: str = "") -> ElfInfo:
    """Refuse `path` unless it is a static executable for `platform`."""
    shown = shown or path
    info = read_elf(path)
    if info.elf_type not in (ET_EXEC, ET_DYN):
        raise BuildError(f"{shown} is an ELF object or core file, not an executable")
    if info.interpreter or info.needed:
        parts = []
        if info.interpreter:
            parts.append(f"interpreter {info.interpreter}")
        if info.needed:
            parts.append("libraries " + ", ".join(info.needed))
        raise BuildError(
            f"{shown} is dynamically linked ({'; '.join(parts)}), but a static base has no libc: "
            "build it statically (Go: CGO_ENABLED=0; Rust: a musl target or -C target-feature=+crt-static; "
            "C: cc -static)"
        )
    expected = EXPECTED.get(platform.architecture)
    if expected and (info.machine, info.is64, info.little) != expected:
        raise BuildError(f"{shown} is built for {info.describe()}, but it is packed for {platform}, "
                         f"which needs {describe_expected(platform.architecture)}")
    return info


MAX_SECTION = 8 << 20


def read_section(path: str, wanted: str) -> bytes:
    """The bytes of the section named `wanted` (e.g. `.dep-v0`), or b"" when there is none.
    Bounded: a section over MAX_SECTION, or a malformed table, counts as none."""
    try:
        with open(path, "rb") as f:
            return _section(f, wanted.encode())
    except (OSError, struct.error, ValueError):
        return b""


def _section(f: BinaryIO, wanted: bytes) -> bytes:
    ident = f.read(16)
    if len(ident) < 16 or ident[:4] != b"\x7fELF":
        return b""
    is64, order = ident[4] == 2, "<" if ident[5] == 1 else ">"
    if is64:
        f.seek(0x28)
        e_shoff, = struct.unpack(order + "Q", f.read(8))
        f.seek(0x3A)
    else:
        f.seek(0x20)
        e_shoff, = struct.unpack(order + "I", f.read(4))
        f.seek(0x2E)
    e_shentsize, e_shnum, e_shstrndx = struct.unpack(order + "HHH", f.read(6))
    if not e_shoff or e_shnum > 4096 or e_shstrndx >= e_shnum:
        return b""

    def header(i: int) -> Tuple[int, int, int]:
        f.seek(e_shoff + i * e_shentsize)
        if is64:
            name, _, _, _, offset, size = struct.unpack(order + "IIQQQQ", f.read(40))
        else:
            name, _, _, _, offset, size = struct.unpack(order + "IIIIII", f.read(24))
        return name, offset, size

    _, names_at, names_size = header(e_shstrndx)
    if names_size > MAX_SECTION:
        return b""
    f.seek(names_at)
    names = f.read(names_size)
    for i in range(e_shnum):
        name, offset, size = header(i)
        if names[name:name + len(wanted) + 1] == wanted + b"\0":
            if size > MAX_SECTION:
                return b""
            f.seek(offset)
            return f.read(size)
    return b""
