"""JSONL derived from the state store: each record version appended once, fsynced per batch, reconciled after a crash."""

from __future__ import annotations

import json
import os
from pathlib import Path

from newscrawler.state.store import SQLState


class JsonlExport:
    """Keeps one JSONL file equal to the store's record versions, in store order, each exactly once.

    The store remembers the last version written and the file's size then; a run killed between a write and that
    note leaves lines the store does not know about, so `reconcile` reads them back instead of writing them twice.
    """

    def __init__(self, state: SQLState, path: Path) -> None:
        self.state = state
        self.path = path.resolve()
        self.key = str(self.path)
        self.last_seq = 0

    def reset(self) -> None:
        """Start the file over: the next flush writes every version in the store."""
        self.path.write_bytes(b"")
        self.state.set_export_position(self.key, 0, 0)
        self.last_seq = 0

    def reconcile(self) -> None:
        last_seq, size = self.state.export_position(self.key)
        if not self.path.exists():
            self.path.touch()
            last_seq = size = 0
        elif self.path.stat().st_size < size:  # truncated or replaced behind our back: read it all
            last_seq = size = 0
        with self.path.open("rb+") as file:
            file.seek(size)
            tail = file.read()
            complete = tail[: tail.rfind(b"\n") + 1]
            if len(complete) < len(tail):  # a line cut short by the crash: drop it, it is written again below
                file.truncate(size + len(complete))
            for line in complete.splitlines():
                last_seq = max(last_seq, self._seq_of(line))
        self.last_seq = last_seq
        self.state.set_export_position(self.key, last_seq, size + len(complete))

    def _seq_of(self, line: bytes) -> int:
        record = json.loads(line)
        return self.state.seq_of(record["id"], record.get("version", 1)) or 0

    def flush(self) -> int:
        """Append the versions the file lacks, fsync, then note the position; the number of lines written."""
        lines = self.state.lines_after(self.last_seq)
        if not lines:
            return 0
        with self.path.open("ab") as file:
            file.write("".join(line + "\n" for _, line in lines).encode("utf-8"))
            file.flush()
            os.fsync(file.fileno())
            size = file.tell()
        self.last_seq = lines[-1][0]
        self.state.set_export_position(self.key, self.last_seq, size)
        return len(lines)
