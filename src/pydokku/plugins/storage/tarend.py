"""Whether a tar stream reached its end-of-archive marker: GNU tar exits 0 on a stream that stops at a
member boundary, so a cut-short archive would otherwise extract "successfully" with members missing.

The stream is followed header by header (data is skipped by offset, never parsed): GNU and POSIX
(ustar, pax) headers, GNU long names, old-GNU sparse members with their extension blocks, and pax
`size` overrides. The archive is complete when two zero blocks follow a whole member.
"""

from __future__ import annotations

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
# Types whose size field says how much data follows (everything else GNU tar and Python's tarfile
# read as header-only: links, devices, directories, fifos).
_NO_DATA = frozenset(b"123456")


class TarEnd:
    __slots__ = ("_block", "_collect", "_extensions", "_pax", "_pax_size", "_skip", "_zeros", "ended", "malformed")

    def __init__(self) -> None:
        self._block = bytearray()  # the header (or extension) block being gathered
        self._skip = 0  # data bytes (and padding) to pass before the next header
        self._collect: bytearray | None = None  # a pax header's data, read for its `size`
        self._pax = 0  # bytes of pax data still to collect
        self._pax_size: int | None = None  # the next member's size, from its pax header
        self._extensions = False  # old-GNU sparse extension blocks follow
        self._zeros = 0
        self.ended = False
        self.malformed = ""

    def feed(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view and not self.ended and not self.malformed:
            if self._skip:
                taken = min(self._skip, len(view))
                if self._collect is not None and self._pax:
                    wanted = min(self._pax, taken)
                    self._collect += view[:wanted]
                    self._pax -= wanted
                    if not self._pax:
                        self._pax_size = _pax_size(bytes(self._collect))
                        self._collect = None
                self._skip -= taken
                view = view[taken:]
                continue
            wanted = BLOCK - len(self._block)
            self._block += view[:wanted]
            view = view[wanted:]
            if len(self._block) == BLOCK:
                block = bytes(self._block)
                self._block.clear()
                self._header(block)

    def _header(self, block: bytes) -> None:
        if self._extensions:  # an old-GNU sparse map continued; its last byte but 7 says whether more follow
            self._extensions = block[504] != 0
            return
        if block == ZERO_BLOCK:
            self._zeros += 1
            self.ended = self._zeros == 2
            return
        if self._zeros:
            self.malformed = "a lone zero block inside the archive"
            return
        size = _number(block[124:136])
        if size is None:
            self.malformed = "a member header with an unreadable size"
            return
        kind = block[156]
        if self._pax_size is not None and kind not in b"xg":
            size, self._pax_size = self._pax_size, None
        if kind in _NO_DATA:
            size = 0
        elif kind == ord("S"):
            self._extensions = block[482] != 0
        elif kind == ord("x"):
            self._collect, self._pax = bytearray(), size
        self._skip = -(-size // BLOCK) * BLOCK

    @property
    def state(self) -> str:
        """Why the stream is not a whole archive ("" when it is)."""
        if self.malformed:
            return self.malformed
        return "" if self.ended else "it ends before its end-of-archive marker (cut short?)"


def _number(field: bytes) -> int | None:
    """A numeric header field: octal text, or GNU's base-256 when its first byte has the high bit."""
    if field[0] & 0x80:
        return int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
    text = field.replace(b"\0", b" ").strip()
    try:
        return int(text, 8) if text else 0
    except ValueError:
        return None


def _pax_size(records: bytes) -> int | None:
    """The `size` record of pax extended-header data (`<length> size=<n>\\n` …)."""
    found = None
    while records:
        length_text = records.partition(b" ")[0]
        try:
            length = int(length_text)
        except ValueError:
            return found
        record, records = records[:length], records[length:]
        key, _, value = record.partition(b" ")[2].partition(b"=")
        if key == b"size":
            try:
                found = int(value.strip())
            except ValueError:
                return None
        if length <= 0:
            break
    return found
