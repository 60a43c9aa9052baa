"""The embedded broker: kombu's filesystem transport, made safe for a worker that must never die of a message.

kombu's own transport writes a message file in place, so a reader that lists the folder meanwhile can read half a
message, and a message it cannot parse raises out of the consumer and stops the worker ("Unrecoverable error:
JSONDecodeError"). Here a message is written under a temp name the reader never picks up, fsynced, then renamed
into place: a reader sees a whole message or none. A reader takes a message by renaming it (only one reader can),
and a message that still does not parse is moved to <data dir>/broker/quarantine with one WARNING, never raised.

Registered as the `kinkofs://` transport alias (the default CELERY_BROKER_URL).
"""

import json
import logging
import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)

ALIAS = "kinkofs"
TEMP_SUFFIX = ".tmp"  # "<name>.<queue>.msg.tmp": the reader matches "<queue>.msg" exactly, never this
TAKEN_SUFFIX = ".taken"


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Channel(filesystem.Channel):
    """Atomic message files in, quarantine for what cannot be read."""

    @property
    def quarantine_folder(self) -> str:
        default = os.path.join(os.path.dirname(os.path.abspath(self.data_folder_in)), "quarantine")
        return self.transport_options.get("quarantine_folder", default)

    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        temp = final + TEMP_SUFFIX
        try:
            with open(temp, "xb", buffering=0) as f:
                f.write(str_to_bytes(dumps(payload)))
                os.fsync(f.fileno())
            os.replace(temp, final)
            _fsync_dir(self.data_folder_out)
        except OSError as exc:
            Path(temp).unlink(missing_ok=True)
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        wanted = f"{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.partition(".")[2] != wanted:
                continue
            source = os.path.join(self.data_folder_in, filename)
            taken = source + TAKEN_SUFFIX
            try:
                os.rename(source, taken)  # atomic: exactly one reader takes a message
            except OSError:
                continue  # another reader took it first
            try:
                with open(taken, "rb") as f:
                    payload = f.read()
            except OSError:
                continue
            try:
                message = loads(bytes_to_str(payload))
                if not isinstance(message, dict):
                    raise ValueError("a message is a JSON object")
            except (ValueError, UnicodeDecodeError) as exc:
                self._quarantine(taken, filename, exc)
                continue
            if self.store_processed:
                os.replace(taken, os.path.join(self.processed_folder, filename))
            else:
                Path(taken).unlink(missing_ok=True)
            return message
        raise Empty()

    def _quarantine(self, path: str, filename: str, exc: Exception) -> None:
        folder = self.quarantine_folder
        try:
            os.makedirs(folder, exist_ok=True)
            os.replace(path, os.path.join(folder, filename))
            where = folder
        except OSError:
            Path(path).unlink(missing_ok=True)
            where = "nowhere (could not move it; removed)"
        log.warning("broker: malformed message %s quarantined to %s: %s", filename, where, _reason(exc))


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg} at byte {exc.pos})"
    return type(exc).__name__


class Transport(filesystem.Transport):
    Channel = Channel
    driver_type = "filesystem"
    driver_name = "kinkofs"


TRANSPORT_ALIASES.setdefault(ALIAS, "console.broker:Transport")
