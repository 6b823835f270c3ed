"""The documents' sha256 digests a sync may trust without reading the files, and how they
are kept with an index between processes.

A `Digest` is a file's sha256 with the stat it was read under. A running Collection keeps
them in memory from sync to sync; a FAISS index also keeps the last sync's in its folder
(`digests.json`, beside manifest.json), so that the first sync of a new process (`assistant
index`, `assistant ask`, the web chat's start, `Assistant.from_folder`) reads only the files
whose stat changed, not every byte of the folder.

The file is a cache, never the truth: what it says is used only for a file whose whole stat
key still matches, and a file that is damaged, cut short, written for another documents
folder, not ours in form, or larger than the folder's names could need is ignored as a whole
(every file is then read, and the next sync writes a good one). The format: one header line
of JSON, then one JSON list of entries; the header names the format, its version, the
documents folder, the number of entries and the sha256 of the rest of the file:

    {"format": "assistant-file-digests", "version": 1, "folder": "/docs", "count": 1,
     "sha256": "<sha256 of the next line>"}
    [["a.txt", 2049, 1234, 80, 1700000000000000000, 1700000000000000000, "9f86...08"]]

Names are written with JSON's ASCII escapes, so any file name (undecodable bytes kept as
surrogates by the scan) goes in and comes back as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DIGESTS_FORMAT", "Digest", "decode_digests", "digests_limit", "encode_digests"]

DIGESTS_FORMAT = "assistant-file-digests"
_VERSION = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Digest:
    """A file's sha256 with the stat it was read under (device, inode, size, mtime ns,
    ctime ns). While a file's stat is the same, so are its bytes, and a later scan takes
    the sha256 from here instead of reading the file: ctime is set by the kernel at every
    change to a file and no program can set it back (`touch -d`, `cp -p` and `rsync -t` set
    mtime only). A scan records one only for a file whose last change is more than
    sync._STABLE_NS before it was read: a change in the same clock tick as the one recorded
    would leave the stat as it was.

    Example: Digest((2049, 1234, 80, 1_700_000_000_000_000_000, 1_700_000_000_000_000_000),
             "9f86...") -> the next scan of a file with that stat reads none of it
    """

    stat: tuple[int, int, int, int, int]
    sha256: str


def encode_digests(folder: str, digests: Mapping[str, Digest]) -> bytes:
    """The file that keeps digests (by source name) of the documents folder `folder`
    (resolved, as the manifest records it); entries sorted by name.

    Example: encode_digests("/docs", {"a.txt": Digest((1, 2, 3, 4, 5), "ab" * 32)})
             -> b'{"format":"assistant-file-digests","version":1,"folder":"/docs","count":1,
                 "sha256":"..."}\\n[["a.txt",1,2,3,4,5,"abab..."]]\\n'
    """
    body = json.dumps(
        [[name, *d.stat, d.sha256] for name, d in sorted(digests.items())],
        separators=(",", ":"),
    ).encode("ascii")
    header = {
        "format": DIGESTS_FORMAT,
        "version": _VERSION,
        "folder": folder,
        "count": len(digests),
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    return json.dumps(header, separators=(",", ":")).encode("ascii") + b"\n" + body + b"\n"


def digests_limit(folder: str, names: Collection[str]) -> int:
    """The most bytes a digests file of this folder's files may take: a larger one is not
    read. An entry is at most 200 bytes and 12 a character of its name (an escaped
    character outside the BMP); twice the folder's needs, so that a file written before up
    to half the documents were removed is still read (their entries are dropped then).

    Example: digests_limit("/docs", ["a.txt"]) -> 1024 + 12 * 5 + 2 * (200 + 12 * 5) == 1604
    """
    return 1024 + 12 * len(folder) + 2 * sum(200 + 12 * len(name) for name in names)


def decode_digests(data: bytes, folder: str, names: Collection[str]) -> dict[str, Digest]:
    """The digests a file (encode_digests) keeps for the files now in the folder (names),
    or {} when anything about it is wrong: not this format or version, another folder, a
    count or checksum that does not match (cut short, damaged), a malformed or repeated
    entry, or more bytes than digests_limit allows. Never raises.

    Example: decode_digests(encode_digests("/docs", {"a.txt": d, "gone.txt": e}), "/docs",
             ["a.txt", "b.txt"]) -> {"a.txt": d}; the same bytes with "/other" -> {}
    """
    if len(data) > digests_limit(folder, names):
        return {}
    head, _, body = data.partition(b"\n")
    try:
        header = json.loads(head)
        if not (
            isinstance(header, dict)
            and header.get("format") == DIGESTS_FORMAT
            and header.get("version") == _VERSION
            and header.get("folder") == folder
            and hashlib.sha256(body.rstrip(b"\n")).hexdigest() == header.get("sha256")
        ):
            return {}
        entries = json.loads(body)
    except (ValueError, RecursionError):  # not JSON (UnicodeDecodeError is a ValueError)
        return {}
    count = header.get("count")
    if not (isinstance(entries, list) and type(count) is int and len(entries) == count):
        return {}
    wanted = set(names)
    out: dict[str, Digest] = {}
    seen: set[str] = set()
    for entry in entries:
        digest = _entry(entry)
        if digest is None or entry[0] in seen:
            return {}  # one bad entry and the file is not ours to trust
        seen.add(entry[0])
        if entry[0] in wanted:
            out[entry[0]] = digest
    return out


def _entry(entry: Any) -> Digest | None:
    """One entry, [name, device, inode, size, mtime ns, ctime ns, sha256], as a Digest; None
    when it is not one (booleans are not numbers here, times may be before 1970)."""
    if not (isinstance(entry, list) and len(entry) == 7 and isinstance(entry[0], str)):
        return None
    numbers, sha = entry[1:6], entry[6]
    if not all(type(n) is int for n in numbers) or min(numbers[:3]) < 0:
        return None
    if not (isinstance(sha, str) and _SHA256.fullmatch(sha)):
        return None
    dev, ino, size, mtime, ctime = numbers
    return Digest((dev, ino, size, mtime, ctime), sha)
