"""The data dir holds every secret Kinko has (database, root key, secret key, TLS keys, queued messages, blobs): it is
0700 and every file in it 0600. Entry points set PRIVATE_UMASK, so what is created later is private too; `serve`
tightens what an older version or another tool left behind. Nothing here imports Django: settings use it."""

import os
import secrets
import shutil
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name


def restrict_umask() -> None:
    os.umask(PRIVATE_UMASK)


def ensure_private_dir(path: Path) -> None:
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def empty_private_dir(path: Path) -> Path:
    """`path` as a new, empty 0700 folder: whatever was there before is removed."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=DIR_MODE, parents=True)
    return path


def tighten(root: Path, *, skip_if_private: tuple[Path, ...] = ()) -> None:
    """chmod `root` and every folder under it 0700, every file 0600 (symlinks are left alone). A folder in
    `skip_if_private` that is already 0700 was made under the private umask and is not walked (the object store can
    hold millions of files)."""
    root.chmod(DIR_MODE)
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        for name in list(dirs):
            path = base / name
            if path.is_symlink():
                dirs.remove(name)
                continue
            if path in skip_if_private and (path.stat().st_mode & 0o777) == DIR_MODE:
                dirs.remove(name)
                continue
            path.chmod(DIR_MODE)
        for name in files:
            path = base / name
            if not path.is_symlink():
                path.chmod(FILE_MODE)


def secret_key(data_dir: Path) -> str:
    """The data dir's Django SECRET_KEY, generated once into a 0600 file. Several processes may start at once: the
    key is written to a temp file and linked into place, so every reader sees the one complete key that won."""
    path = data_dir / SECRET_KEY_FILE
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    tmp = data_dir / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race; its key is the one
    finally:
        tmp.unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it to generate a new secret key")
    return key
