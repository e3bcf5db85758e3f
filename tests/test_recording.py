"""Recording layer (scarab.daemon.recording): asciicast v2 files as asciinema reads them.

Unit tests of the writer on real files; the real asciinema player (`asciinema cat`) reads them back.
The full-disk case writes into a tiny tmpfs (mounted in a private mount namespace, so nothing is
left mounted), which needs root or unprivileged user namespaces."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scarab.daemon.recording import PROMPT_MARK, Recording, RecordingError, default_path

pytestmark = pytest.mark.timeout(60)


def events(path: Path) -> tuple[dict[str, object], list[list[object]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def asciinema_cat(path: Path) -> str:
    """What asciinema's own reader prints for the file (its `cat`: every output event in order)."""
    proc = subprocess.run(
        [sys.executable, "-m", "asciinema", "cat", str(path)], capture_output=True, timeout=30, stdin=subprocess.DEVNULL
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode()


def test_header_events_and_mode(tmp_path: Path) -> None:
    ticks = iter([0.5, 1.25, 2.0, 3.0])
    path = tmp_path / "recordings" / "a.cast"
    rec = Recording.start(path, 80, 24, command="bash", title="work")
    rec.clock, rec.origin = lambda: next(ticks), 0.0
    rec.output(b"hello\r\n")
    rec.resize(100, 30)
    rec.input(b"ls\r")  # not asked for: never recorded
    rec.output("café ✓\r\n".encode())
    rec.stop()
    header, evs = events(path)
    assert header["version"] == 2 and header["width"] == 80 and header["height"] == 24
    assert header["command"] == "bash" and header["title"] == "work"
    assert isinstance(header["timestamp"], int)
    assert evs == [[0.5, "o", "hello\r\n"], [1.25, "r", "100x30"], [2.0, "o", "café ✓\r\n"]]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert asciinema_cat(path) == "hello\r\ncafé ✓\r\n"
    assert not rec.active and rec.state().reason == "stopped"


def test_utf8_split_across_reads_and_invalid_bytes(tmp_path: Path) -> None:
    rec = Recording.start(tmp_path / "u.cast", 80, 24)
    data = "é€😀".encode()
    for i in range(len(data)):
        rec.output(data[i : i + 1])
    rec.output(b"\xff!")
    rec.stop()
    assert asciinema_cat(tmp_path / "u.cast") == "é€😀\ufffd!"


def test_prompt_marks_become_markers_even_when_split(tmp_path: Path) -> None:
    rec = Recording.start(tmp_path / "m.cast", 80, 24)
    rec.output(b"out\r\n" + PROMPT_MARK + b"\x07$ ")
    rec.output(b"ls\r\nfile\r\n\x1b]133")  # the next mark arrives in two reads
    rec.output(b";A\x07$ ")
    rec.stop()
    _header, evs = events(tmp_path / "m.cast")
    kinds = [(kind, text) for _t, kind, text in evs]
    assert kinds == [
        ("o", "out\r\n"),
        ("m", ""),
        ("o", "\x1b]133;A\x07$ "),
        ("o", "ls\r\nfile\r\n\x1b]133"),
        ("m", ""),
        ("o", ";A\x07$ "),
    ]
    assert asciinema_cat(tmp_path / "m.cast") == "out\r\n\x1b]133;A\x07$ ls\r\nfile\r\n\x1b]133;A\x07$ "


def test_input_recorded_only_when_asked(tmp_path: Path) -> None:
    rec = Recording.start(tmp_path / "i.cast", 80, 24, record_input=True)
    rec.input(b"ls\r")
    rec.stop()
    _header, evs = events(tmp_path / "i.cast")
    assert [e[1:] for e in evs] == [["i", "ls\r"]]


def test_size_cap_stops_the_recording_at_a_whole_event(tmp_path: Path) -> None:
    stopped: list[str] = []
    path = tmp_path / "cap.cast"
    rec = Recording.start(path, 80, 24, cap=4096, on_stop=lambda r: stopped.append(r.reason))
    for i in range(1000):
        rec.output(f"line {i}\r\n".encode())
    assert not rec.active
    assert stopped == ["size cap 4K reached"]
    assert path.stat().st_size <= 4096
    assert path.stat().st_size == rec.size
    text = asciinema_cat(path)  # every line whole: the player reads it to the end
    assert text.startswith("line 0\r\n") and text.endswith("\r\n")
    rec.output(b"more")  # a stopped recording ignores output
    assert path.stat().st_size == rec.size


def test_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "x.cast"
    path.write_text("precious")
    with pytest.raises(RecordingError, match="already exists"):
        Recording.start(path, 80, 24, exclusive_name=False)
    assert path.read_text() == "precious"
    other = Recording.start(path, 80, 24)  # a default name: the next free one is taken
    assert other.path == tmp_path / "x-2.cast"
    other.stop()
    assert path.read_text() == "precious"


def test_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(RecordingError, match="cannot create"):
        Recording.start(tmp_path / "file" / "a.cast", 80, 24)


def test_default_path_is_a_safe_file_name(tmp_path: Path) -> None:
    path = default_path(tmp_path, "../my work/é", 0)
    assert path.parent == tmp_path
    assert "/" not in path.name and path.name.endswith(".cast") and not path.name.startswith(".")


_FULL_DISK = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from scarab.daemon.recording import Recording
    stopped = []
    rec = Recording.start(Path(sys.argv[1]) / "full.cast", 80, 24, on_stop=lambda r: stopped.append(r.reason))
    for i in range(100000):
        rec.output(("x" * 200 + "\\r\\n").encode())
        if not rec.active:
            break
    print(json.dumps({"reason": rec.reason, "size": rec.size, "events": i}))
    sys.stdout.flush()
    lines = (Path(sys.argv[1]) / "full.cast").read_text().splitlines()
    for line in lines:
        json.loads(line)
    print(len(lines))
    """
)


def test_full_disk_stops_the_recording_and_leaves_a_playable_file(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("no unshare(1): cannot mount a private tiny tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = tmp_path / "fill.py"
    script.write_text(_FULL_DISK)
    as_root = [] if os.geteuid() == 0 else ["-r"]  # unprivileged: map ourselves to root in a user namespace
    probe = subprocess.run([unshare, *as_root, "-m", "true"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a private mount namespace for a tiny tmpfs: {probe.stderr.decode().strip()}")
    proc = subprocess.run(
        [unshare, *as_root, "-m", "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$1" && exec "$2" "$3" "$1"', "-",
         str(disk), sys.executable, str(script)],
        capture_output=True, timeout=60, cwd=os.getcwd(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    result, lines = proc.stdout.decode().splitlines()
    outcome = json.loads(result)
    assert outcome["reason"] == "disk full"
    assert 30_000 < outcome["size"] <= 64 * 1024
    assert int(lines) > 100  # header and every whole event parse: the last partial one was cut off
