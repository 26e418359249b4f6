"""One repository in a registry: manifests and blobs, each operation retried as a whole.

Every operation is one call to the retry policy around an attempt that makes
its request(s) and reads what it needs, so a truncated or corrupted body is
fetched again exactly like a 503. Every read is bounded: manifests by
MAX_MANIFEST, small blobs by their declared size (and a cap), blobs streamed
to disk by their declared size. Every digest that goes into a URL has been
validated; every body is checked against the digest it was asked for.
"""
from __future__ import annotations

import contextlib
import time
import urllib.parse
from typing import BinaryIO, Callable, Iterator, Optional, Tuple, TypeVar

import requests

from ...errors import MalformedInput, NotFound, RegistryError
from ...image import Blob, Descriptor, mediatypes
from ...image.digest import check_digest, digest_of, hasher_for, is_digest
from ...image.documents import media_type_of
from ...util.atomic import atomic_file
from .client import Registry
from .http import CHUNK, _raw_chunks, describe, read_bounded
from .retry import Transient

ACCEPT = ", ".join([mediatypes.OCI_INDEX, mediatypes.OCI_MANIFEST, mediatypes.DOCKER_LIST,
                    mediatypes.DOCKER_MANIFEST])
MAX_MANIFEST = 4 << 20
MAX_SMALL_BLOB = 16 << 20     # signature payloads, SBOMs, configs read into memory
#: Blobs at least this big get a byte bar on a terminal and a line each in CI logs.
LARGE_BLOB = 8 << 20
# A manifest refused for naming a blob the registry does not know, although pyko pushed it first, is
# tried again this many times: another process may be rewriting that blob's link (distribution does,
# on every upload: two split-build runners attaching to one repository), or the storage may be
# eventually consistent. Then the refusal is the answer.
BLOB_UNKNOWN_RETRIES = 2

Progress = Optional[Callable[[int], None]]

T = TypeVar("T")


def _short(digest: str) -> str:
    return digest[:19]


class Repository:
    def __init__(self, registry: Registry, name: str):
        self.registry, self.name = registry, name
        self.pull = [f"repository:{name}:pull"]
        self.push = [f"repository:{name}:pull,push"]

    def __repr__(self) -> str:
        return f"Repository({self.registry.registry}/{self.name})"

    def _run(self, what: str, attempt: Callable[[], T]) -> T:
        return self.registry.policy.run(what, attempt)

    @contextlib.contextmanager
    def _progress(self, verb: str, digest: str, size: int) -> Iterator[Progress]:
        """Byte progress for a big blob, from the client's reporter (nothing for small ones)."""
        transfer = self.registry.reporter.transfer(f"{verb} {_short(digest)}", size) if size >= LARGE_BLOB else None
        try:
            yield transfer
        finally:
            if transfer is not None:
                transfer.done()

    # --- manifests --------------------------------------------------------
    def get_manifest(self, ident: str) -> Tuple[bytes, str, str]:
        """(bytes, media type, digest). The digest is of the bytes received and,
        when `ident` is a digest, must equal it; so must Docker-Content-Digest."""
        by_digest = ":" in ident
        if by_digest:
            check_digest(ident, f"manifest reference for {self.name}")
        shown = f"manifest {self.name}@{ident}" if by_digest else f"manifest {self.name}:{ident}"

        def attempt() -> Tuple[bytes, str, str]:
            resp = self.registry.request("GET", f"/v2/{self.name}/manifests/{ident}", self.pull,
                                         headers={"Accept": ACCEPT})
            self.registry.check(resp, shown, self.name, [200])
            header_digest = resp.headers.get("Docker-Content-Digest", "")
            header_type = resp.headers.get("Content-Type", "").split(";", 1)[0].strip()
            data = read_bounded(resp, MAX_MANIFEST, f"{self.registry.registry}: {shown}", decode=False)
            digest = digest_of(data, ident.split(":", 1)[0] if by_digest else "sha256")
            expected = ident if by_digest else (header_digest if is_digest(header_digest) else "")
            if expected and digest_of(data, expected.split(":", 1)[0]) != expected:
                raise Transient(f"the bytes received have digest {_short(digest)}…, not {_short(expected)}…",
                                bad_body=digest_of(data))
            try:
                body_type = media_type_of(data, f"{self.registry.registry}: {shown}")
            except MalformedInput as err:
                if expected:
                    raise  # these are really the bytes the registry holds
                # a tag's bytes may have been damaged on the way
                raise Transient(str(err), bad_body=digest_of(data)) from None
            return data, body_type or header_type, digest

        data, media_type, digest = self._run(f"getting {shown} from {self.registry.registry}", attempt)
        return data, media_type, digest

    def find_manifest(self, ident: str) -> Optional[Tuple[bytes, str, str]]:
        """get_manifest, or None when the registry has no such manifest."""
        try:
            return self.get_manifest(ident)
        except NotFound:
            return None

    def head_manifest(self, ident: str, for_push: bool = False) -> Optional[str]:
        """The digest the registry holds under `ident`, or None if it holds nothing."""
        def attempt() -> Optional[str]:
            resp = self.registry.request("HEAD", f"/v2/{self.name}/manifests/{ident}",
                                         self.push if for_push else self.pull, headers={"Accept": ACCEPT})
            resp.close()
            if resp.status_code == 404:
                return None
            self.registry.check(resp, f"manifest {self.name}:{ident}", self.name, [200])
            found = resp.headers.get("Docker-Content-Digest", "")
            return found if is_digest(found) else ""

        return self._run(f"checking manifest {self.name}:{ident}", attempt)

    def put_manifest(self, ident: str, data: bytes, media_type: str) -> str:
        return self.put_manifest_answer(ident, data, media_type)[0]

    def put_manifest_answer(self, ident: str, data: bytes, media_type: str) -> Tuple[str, bool]:
        """Push a manifest; (its digest, whether the registry said it indexed its subject:
        the OCI-Subject header of a registry with the referrers API)."""
        local = digest_of(data)
        what = f"pushing manifest {self.name}:{ident}"
        unknown_blob = {"retries": 0}

        def attempt() -> bool:
            resp = self.registry.request("PUT", f"/v2/{self.name}/manifests/{ident}", self.push,
                                         headers={"Content-Type": media_type}, body=data)
            if resp.status_code == 400:
                refusal = self.registry.error(resp, what, self.name)
                if refusal.code == "MANIFEST_BLOB_UNKNOWN" and unknown_blob["retries"] < BLOB_UNKNOWN_RETRIES:
                    unknown_blob["retries"] += 1
                    raise Transient("the registry did not know a blob it names yet", 400)
                raise refusal
            self.registry.check(resp, what, self.name, [200, 201])
            resp.close()  # after check: an error's body says why
            remote = resp.headers.get("Docker-Content-Digest", "")
            if is_digest(remote) and remote.startswith("sha256:") and remote != local:
                raise RegistryError(f"{self.registry.registry}/{self.name}: the registry stored manifest "
                                    f"{ident} as {remote}, but pyko sent {local}")
            return is_digest(resp.headers.get("OCI-Subject", ""))

        indexed = self._run(what, attempt)
        return local, indexed

    def referrers(self, digest: str) -> Optional[bytes]:
        """The OCI 1.1 referrers index of `digest` (an image index's bytes), or None when the
        registry has no referrers API (404), so the sha256-<hex> tag scheme applies."""
        check_digest(digest)
        what = f"the referrers of {self.name}@{_short(digest)}"

        def attempt() -> Optional[bytes]:
            resp = self.registry.request("GET", f"/v2/{self.name}/referrers/{digest}", self.pull,
                                         headers={"Accept": mediatypes.OCI_INDEX})
            if resp.status_code == 404:
                resp.close()
                return None
            self.registry.check(resp, what, self.name, [200])
            data = read_bounded(resp, MAX_MANIFEST, f"{self.registry.registry}: {what}")
            media_type_of(data, f"{self.registry.registry}: {what}")
            return data

        return self._run(f"getting {what}", attempt)

    # --- blobs -------------------------------------------------------------
    def blob_exists(self, digest: str) -> bool:
        check_digest(digest)

        def attempt() -> bool:
            resp = self.registry.request("HEAD", f"/v2/{self.name}/blobs/{digest}", self.push)
            resp.close()
            if resp.status_code == 404:
                return False
            self.registry.check(resp, f"checking blob {_short(digest)}", self.name, [200])
            return True

        return self._run(f"checking blob {_short(digest)} in {self.name}", attempt)

    def fetch_blob(self, digest: str, size: int, dest: str, deadline: Optional[float] = None) -> None:
        """Stream a blob to `dest` (atomically), checking its size and digest; with a `deadline`
        (time.monotonic()), a transfer still running then is given up, however slowly bytes come."""
        check_digest(digest)
        what = f"blob {_short(digest)} of {self.registry.registry}/{self.name}"

        def attempt(progress: Progress) -> None:
            if deadline is not None and time.monotonic() > deadline:
                raise RegistryError(f"{what}: out of time before it could be downloaded")
            resp = self.registry.request("GET", f"/v2/{self.name}/blobs/{digest}", self.pull)
            self.registry.check(resp, what, self.name, [200])
            try:
                # Not synced: the blob cache checks the digest of every blob it serves.
                with atomic_file(dest, durable=False) as out:
                    _stream_checked(resp, digest, size, out, what, progress, deadline)
            finally:
                resp.close()

        with self._progress("downloading", digest, size) as progress:
            self._run(f"downloading {what}", lambda: attempt(progress))

    def stream_blob(self, digest: str, size: int) -> "BlobStream":
        """A blob's bytes as a stream (for copying it to another registry without holding
        it): at most `size` bytes, and a wrong digest at the end is an error, not data."""
        check_digest(digest)
        what = f"blob {_short(digest)} of {self.registry.registry}/{self.name}"

        def attempt() -> requests.Response:
            resp = self.registry.request("GET", f"/v2/{self.name}/blobs/{digest}", self.pull)
            self.registry.check(resp, what, self.name, [200])
            return resp

        return BlobStream(self._run(f"downloading {what}", attempt), digest, size, what)

    def read_blob(self, digest: str, size: int, limit: int = MAX_SMALL_BLOB) -> bytes:
        """A small blob (a config, a signature payload, an SBOM) into memory, checked."""
        check_digest(digest)
        what = f"blob {_short(digest)} of {self.registry.registry}/{self.name}"
        if size > limit:
            raise RegistryError(f"{what} is {size} bytes; more than the {limit} pyko reads into memory")

        def attempt() -> bytes:
            resp = self.registry.request("GET", f"/v2/{self.name}/blobs/{digest}", self.pull)
            self.registry.check(resp, what, self.name, [200])
            data = read_bounded(resp, size, what, decode=False)
            if len(data) != size or digest_of(data, digest.split(":", 1)[0]) != digest:
                raise Transient(f"wrong content arrived ({len(data)} of {size} bytes, digest mismatch)",
                                bad_body=digest_of(data))
            return data

        return self._run(f"downloading {what}", attempt)

    def mount_blob(self, digest: str, from_repo: str) -> Optional[str]:
        """Ask for a cross-repository mount: None when mounted, else the upload
        Location the registry opened instead (202)."""
        check_digest(digest)
        what = f"mounting blob {_short(digest)}"

        def attempt() -> Optional[str]:
            resp = self.registry.request("POST", f"/v2/{self.name}/blobs/uploads/",
                                         self.push + [f"repository:{from_repo}:pull"],
                                         params={"mount": digest, "from": from_repo},
                                         headers={"Content-Length": "0"})
            self.registry.check(resp, what, self.name, [201, 202])
            resp.close()  # after check: an error's body says why
            return None if resp.status_code == 201 else self._location(resp)

        return self._run(f"{what} into {self.name}", attempt)

    def _location(self, resp: requests.Response) -> str:
        location: str = resp.headers.get("Location", "")
        if not location:
            raise RegistryError(f"{self.registry.registry} opened an upload without a Location header")
        return location

    def upload_blob(self, blob: Blob, location: Optional[str] = None) -> None:
        """Monolithic upload: POST a session (or use `location`), then PUT the
        bytes streamed from the blob with ?digest=. A failed attempt starts a new
        session and streams the body again, after checking the blob did not land."""
        desc = blob.descriptor
        what = f"uploading blob {_short(desc.digest)} to {self.registry.registry}/{self.name}"
        pending, tries = location, 0

        def attempt(progress: Progress) -> None:
            nonlocal pending, tries
            tries += 1
            if tries > 1 and self.blob_exists(desc.digest):
                return  # the last attempt landed before its answer was lost
            session, pending = pending or self._start_upload(desc.digest), None
            url = urllib.parse.urljoin(self.registry.base_url + "/", session)
            query = urllib.parse.urlsplit(url).query
            url += ("&" if query else "?") + "digest=" + urllib.parse.quote(desc.digest)
            resp = self.registry.request("PUT", url, self.push, body=lambda: _Reader(blob, progress), headers={
                "Content-Type": "application/octet-stream", "Content-Length": str(desc.size)})
            self.registry.check(resp, f"uploading blob {_short(desc.digest)} (to {describe(url)})", self.name,
                                [201, 204])
            resp.close()

        with self._progress("uploading", desc.digest, desc.size) as progress:
            self._run(what, lambda: attempt(progress))

    def _start_upload(self, digest: str) -> str:
        """POST a new upload session (retried on its own: an orphaned session is harmless)."""
        what = f"starting upload of blob {_short(digest)}"

        def attempt() -> str:
            resp = self.registry.request("POST", f"/v2/{self.name}/blobs/uploads/", self.push,
                                         headers={"Content-Length": "0"})
            self.registry.check(resp, what, self.name, [202])
            resp.close()  # after check: an error's body says why
            return self._location(resp)

        return self._run(f"{what} in {self.registry.registry}/{self.name}", attempt)


def _stream_checked(resp: requests.Response, digest: str, size: int, out: BinaryIO, what: str, progress: Progress,
                    deadline: Optional[float] = None) -> None:
    """Copy the body to `out`, refusing more than `size` bytes; a short or wrong body is Transient,
    a body still arriving at `deadline` an error (a registry dripping bytes is not waited for)."""
    import requests

    hasher = hasher_for(digest)
    got = 0
    try:
        for chunk in _raw_chunks(resp):
            if deadline is not None and time.monotonic() > deadline:
                raise RegistryError(f"{what} was still arriving ({got} of {size} bytes) when its time ran out")
            got += len(chunk)
            if got > size:
                raise RegistryError(f"{what} is larger than its descriptor says ({size} bytes); refusing it")
            hasher.update(chunk)
            out.write(chunk)
            if progress:
                progress(len(chunk))
    except requests.exceptions.ChunkedEncodingError as err:
        raise Transient(f"the body was cut off ({err})") from None
    if got != size or f"{digest.split(':', 1)[0]}:{hasher.hexdigest()}" != digest:
        raise Transient(f"wrong content arrived ({got} of {size} bytes, digest mismatch)",
                        bad_body=f"{digest.split(':', 1)[0]}:{hasher.hexdigest()}")


class RepositoryBlob:
    """A blob that lives in a registry repository, read (streamed) only when opened:
    what `pyko index create` copies between registries."""

    def __init__(self, repository: "Repository", descriptor: Descriptor):
        self.repository, self.descriptor = repository, descriptor

    def open(self) -> "BlobStream":
        return self.repository.stream_blob(self.descriptor.digest, self.descriptor.size)


class BlobStream:
    """A registry's blob body, read in pieces, checked against its size and digest as it goes."""

    def __init__(self, resp: requests.Response, digest: str, size: int, what: str):
        self._resp, self._chunks = resp, _raw_chunks(resp)
        self._hasher, self._digest, self._left, self._what = hasher_for(digest), digest, size, what
        self._buffer = b""

    def read(self, n: int = -1) -> bytes:
        while not self._buffer and self._left > 0:
            chunk = next(self._chunks, b"")
            if not chunk:
                raise Transient(f"{self._what}: the body ended {self._left} bytes early")
            if len(chunk) > self._left:
                raise RegistryError(f"{self._what} is larger than its descriptor says; refusing it")
            self._left -= len(chunk)
            self._hasher.update(chunk)
            self._buffer = chunk
        if self._left == 0 and not self._buffer:
            if f"{self._digest.split(':', 1)[0]}:{self._hasher.hexdigest()}" != self._digest:
                raise Transient(f"{self._what}: wrong content arrived (digest mismatch)",
                                bad_body=f"{self._digest.split(':', 1)[0]}:{self._hasher.hexdigest()}")
            return b""
        n = len(self._buffer) if n is None or n < 0 else n
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def close(self) -> None:
        self._resp.close()

    def __enter__(self) -> "BlobStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Reader:
    """A blob's bytes for an upload body, reporting progress; requests reads its length."""

    def __init__(self, blob: Blob, progress: Progress):
        self._file = blob.open()
        self._left = blob.descriptor.size
        self._progress = progress

    def __len__(self) -> int:
        return self._left

    def read(self, n: int = -1) -> bytes:
        data = self._file.read(CHUNK if n is None or n < 0 else n)
        self._left -= len(data)
        if self._progress and data:
            self._progress(len(data))
        return data

    def close(self) -> None:
        self._file.close()
