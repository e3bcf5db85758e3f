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

__all__ = ["Paths", "ensure_private_dir", "tighten_private_dir"]

# sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL.
_MAX_SOCKET_PATH = 107


@dataclass(frozen=True)
class Paths:
    runtime: Path
    data: Path
    config: Path

    @classmethod
    def default(cls) -> Paths:
        return cls(
            runtime=_runtime_dir(),
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
    def data_lock(self) -> Path:
        """One daemon per database, whatever XDG_RUNTIME_DIR says (it can vanish at logout)."""
        return self.data / "daemon.lock"

    @property
    def host_key(self) -> Path:
        """The token hosts take their daemon by (HostAuth)."""
        return self.data / "host.key"

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


def _runtime_dir() -> Path:
    """$XDG_RUNTIME_DIR/scarab whenever the variable is set, even if the directory is gone.

    platformdirs falls back to /tmp/runtime-UID when XDG_RUNTIME_DIR does not exist (yet), as after
    logind removed it at logout: a command would then look for the daemon in another place and
    start a second one. We check privacy ourselves, and re-create the directory when it is gone."""
    env = os.environ.get("XDG_RUNTIME_DIR", "")
    if os.path.isabs(env):
        return Path(env) / "scarab"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # about the fallback, which we check ourselves
        try:
            return Path(platformdirs.user_runtime_dir("scarab"))
        except OSError as exc:  # e.g. /tmp/runtime-UID made by another user
            raise ScarabError(
                f"no usable runtime directory: {exc} (a private directory of yours, e.g. "
                "`mkdir -m 700 ~/.scarab-run && export XDG_RUNTIME_DIR=~/.scarab-run`)"
            ) from None


def ensure_private_dir(path: Path) -> None:
    """Create `path` with mode 0700, or check an existing one is ours and private."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = path.stat()
    except OSError as exc:
        raise ScarabError(
            f"cannot create the runtime directory {path}: {exc.strerror}. "
            "Set XDG_RUNTIME_DIR to a private directory of yours (mode 700)."
        ) from None
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


def tighten_private_dir(path: Path) -> bool:
    """Create `path` with mode 0700, or make an existing one of ours 0700; True if it was open to others.

    For the data directory: it holds saved screens, so it must be private, but refusing to start
    over its mode (as for the runtime directory) would keep the user from their sessions."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    if st.st_uid != os.getuid():
        raise ScarabError(
            f"{path} is owned by uid {st.st_uid}, not by you (uid {os.getuid()}); refusing to keep saved "
            "screens there. Set XDG_DATA_HOME to a directory you own."
        )
    if stat.S_IMODE(st.st_mode) & 0o077:
        path.chmod(0o700)
        return True
    return False
