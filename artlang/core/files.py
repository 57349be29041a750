"""Files written whole or not at all: through a temporary name in the same folder, renamed into
place, with the mode a new file would get. Every file artlang writes (pictures, models, sidecars,
manifests) goes through `atomic_write`."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _new_file_mode() -> int:
    mask = os.umask(0)            # the only way to read the umask is to set it: done once, at import,
    os.umask(mask)                # never while another thread may be creating a file
    return 0o666 & ~mask


FILE_MODE = _new_file_mode()


def file_mode() -> int:
    """The mode a newly created file gets under the umask (mkstemp's files are 0600)."""
    return FILE_MODE


def atomic_write(path: Path, write) -> None:
    """Call `write(temporary_path)`, then rename the result over `path` (never a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, file_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_bytes(data: bytes, path: Path) -> None:
    """Write `data` to `path` atomically."""
    atomic_write(path, lambda temporary: Path(temporary).write_bytes(data))
