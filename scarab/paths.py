"""Paths layer: where the socket, lock, host sockets, database, config and logs live.

All locations come from platformdirs, so tests isolate everything by setting XDG_RUNTIME_DIR,
XDG_DATA_HOME and XDG_CONFIG_HOME. The runtime directory holds sockets and must be private.
"""

from __future__ import annotations

import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from scarab.errors import ScarabError

__all__ = ["Paths", "ensure_private_dir"]

# sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL.
_MAX_SOCKET_PATH = 107


@dataclass(frozen=True)
class Paths:
    runtime: Path
    data: Path
    config: Path

    @classmethod
    def default(cls) -> Paths:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset and falls back to /tmp/runtime-UID,
            # which we check for privacy ourselves.
            warnings.simplefilter("ignore")
            runtime = platformdirs.user_runtime_dir("scarab")
        return cls(
            runtime=Path(runtime),
            data=Path(platformdirs.user_data_dir("scarab")),
            config=Path(platformdirs.user_config_dir("scarab")),
        )

    @property
    def socket(self) -> Path:
        return self.runtime / "scarab.sock"

    @property
    def lock(self) -> Path:
        return self.runtime / "scarab.lock"

    @property
    def hosts(self) -> Path:
        return self.runtime / "hosts"

    def host_socket(self, session_id: str) -> Path:
        return self.hosts / f"{session_id}.sock"

    @property
    def daemon_log(self) -> Path:
        return self.runtime / "daemon.log"

    @property
    def database(self) -> Path:
        return self.data / "sessions.db"

    @property
    def config_file(self) -> Path:
        return self.config / "config.toml"

    def prepare_runtime(self) -> None:
        """Create the runtime dirs (0700) and refuse to use them if anyone else could get in."""
        ensure_private_dir(self.runtime)
        ensure_private_dir(self.hosts)
        longest = self.host_socket("0" * 32)
        if len(os.fsencode(longest)) > _MAX_SOCKET_PATH:
            raise ScarabError(
                f"runtime directory {self.runtime} is too long for a Unix socket path "
                f"(limit {_MAX_SOCKET_PATH} bytes); set XDG_RUNTIME_DIR to a shorter directory"
            )


def ensure_private_dir(path: Path) -> None:
    """Create `path` with mode 0700, or check an existing one is ours and private."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    if st.st_uid != os.getuid():
        raise ScarabError(
            f"{path} is owned by uid {st.st_uid}, not by you (uid {os.getuid()}); "
            "refusing to put sockets there. Set XDG_RUNTIME_DIR to a directory you own."
        )
    if stat.S_IMODE(st.st_mode) & 0o077:
        # Like tmux: another user able to enter the directory could reach our sockets.
        raise ScarabError(
            f"{path} has unsafe permissions {stat.S_IMODE(st.st_mode):o} (others can enter it); "
            f"run `chmod 700 {path}` and try again"
        )
