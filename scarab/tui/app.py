"""TUI app layer: the Textual application — connection, attach/switch, prefix commands, reconnect.

The app talks to the daemon only through the shared client library. One worker owns the
connection: it attaches, applies frames, and when the daemon goes away reconnects (starting a new
daemon) and re-attaches the same session, so a daemon restart is a blink, not an exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import termios
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, ComposeResult

from scarab import protocol as p
from scarab.client import Client
from scarab.config import Config, load_config
from scarab.environ import client_entries
from scarab.errors import DaemonUnreachable, ScarabError
from scarab.keys import encode, key_from_textual
from scarab.paths import Paths
from scarab.tui.bindings import copy_mode_table, prefix_table
from scarab.tui.clipboard import Clipboard
from scarab.tui.dialogs import HelpScreen, StatusPrompt
from scarab.tui.firstpaint import FirstPaint, default_session, restore_tty
from scarab.tui.input import install
from scarab.tui.statusbar import StatusBar
from scarab.tui.terminal import DEFAULT_CURSOR, REPEAT_TIME, Drag, TerminalView

if TYPE_CHECKING:
    from scarab.tui.copymode import CopyMode, Jump
    from scarab.tui.picker import PickerResult
    from scarab.tui.tree import TreeResult

__all__ = ["ScarabApp", "run_app"]

RECONNECT_DELAYS = (0.05, 0.1, 0.25, 0.5, 1.0)
MAX_UNSENT = 64 * 1024
JUMP_WAIT = 2.0  # seconds a grep jump waits for the chosen pane to be drawn

PUSH_TITLE, POP_TITLE = "\x1b[22;0t", "\x1b[23;0t"  # xterm's title stack: the user's title comes back
# What Textual's driver sets up, undone (its own stop_application_mode writes the same), and the
# cursor shape and title this app set: the terminal as the shell had it.
GIVE_BACK = (
    "\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?2004l\x1b[?7h\x1b[?2048l\x1b[<u\x1b[?1004l"
    + DEFAULT_CURSOR
    + "\x1b[?1049l\x1b[?25h"
)
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f]")


class ScarabApp(App[str], inherit_bindings=False):
    """Full-screen client attached to one session at a time."""

    ENABLE_COMMAND_PALETTE = False
    # Selecting is copy mode's (tmux's, within one pane), never Textual's own text selection: that
    # one ran across panes and raised when copy mode went away under a drag.
    ALLOW_SELECT = False
    CSS = """
    Screen { layers: base copy prompt; }
    """
    # inherit_bindings=False and no BINDINGS: every key reaches the terminal widget (ctrl+q, ctrl+p, ctrl+c).

    def __init__(
        self,
        target: str | None = None,
        config: Config | None = None,
        connect: Callable[[], Awaitable[Client]] | None = None,
        remote: bool = False,
        painted: FirstPaint | None = None,
        tty_attrs: list[Any] | None = None,
        held: bytes = b"",
    ) -> None:
        # ansi_color: palette colours reach the terminal as palette colours, as in tmux, so the
        # user's theme applies (and the first paint's colours are the app's).
        # KeyDriver: keys read from the terminal as tmux reads them (scarab.tui.input).
        super().__init__(ansi_color=True, driver_class=install())
        self.painted = painted
        self.config = config or Config()
        self.keys = prefix_table(self.config.prefix)
        self.copy_keys = copy_mode_table(self.config.copy_keys)
        self.outer_clipboard = Clipboard(
            self.write_terminal, self.config.set_clipboard == "on", self.config.copy_command
        )
        self.connect = connect or (lambda: Client.connect(Paths.default()))
        self.remote = remote  # sessions created from here start in the remote home, not our cwd
        self.target = target
        self.client: Client | None = None
        self.session: p.SessionInfo | None = None
        self.previous_id = ""
        self.sessions: list[p.SessionInfo] = []
        self.attached = asyncio.Event()
        self.drawn = asyncio.Event()  # a frame of the attached session has been drawn
        self.unsent = bytearray()  # keys typed while not attached
        self.tty_attrs = tty_attrs  # the terminal's settings before the app (and the first paint) took it
        self.terminal_title: str | None = None  # what the outer terminal's title was set to
        self.held = held  # the prefix key and what followed, typed while the first paint relayed keys
        self._terminal_view: TerminalView | None = None  # from compose on
        self.handling = False  # a message from the daemon is being handled (it may await)
        self.copy_modes: dict[int, CopyMode] = {}  # by pane: copy mode over it (tmux: a mode of that pane)
        self.prompt = StatusPrompt(self.focus_active_pane)  # the status line's (kept: asked at every key)

    def compose(self) -> ComposeResult:
        view = self._terminal_view = TerminalView(self.config.prefix, id="terminal")
        view.repeatable = self.keys.repeatable()
        view.to_program = self.on_terminal_view_to_program
        yield view
        status = StatusBar()
        status.display = self.config.status_bar
        yield status
        yield self.prompt

    @property
    def view(self) -> TerminalView:
        assert self._terminal_view is not None, "the view exists from compose on"
        return self._terminal_view

    async def on_event(self, event: events.Event) -> None:
        # A key for the terminal view (it has the focus: no dialog is open) goes to it now, not
        # through its message queue: a keystroke's bytes leave one loop turn after the key was read.
        # Textual would only look for priority bindings first, and this app has none.
        # So do the status-line prompt's and copy mode's, and a command key after the prefix runs
        # here too, each to its end before the next key is looked at: a key that opens the prompt
        # (`prefix ,`, copy mode's `/`) or closes it (Enter) has moved the focus before the keys
        # typed after it, in the same read, go anywhere.
        view = self._terminal_view
        if view is not None and isinstance(event, events.Key) and not event.is_forwarded:
            focused = self.focused
            mode = self.copy_mode
            if self.prompt.has_keys():
                self.app_focus = True
                await self.prompt.key(event)
                return
            if focused is view:
                self.app_focus = True
                command = view.key(event)
                if command is not None:
                    await self.on_terminal_view_prefix(command)
                return
            if mode is not None and focused is mode.history:
                self.app_focus = True
                await mode.key(event)
                return
        await super().on_event(event)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    def on_mount(self) -> None:
        if self.painted is not None:
            # Start from what the first paint showed, so the app's first paint is not a blank view.
            self.session = self.painted.session
            if self.painted.layout is not None:
                self.apply_layout(self.painted.layout)
            for frame in self.painted.frames.values():
                self.view.apply(frame)
                self.drawn.set()
            self.status.session, self.status.clients = self.painted.session.name, 1
        self.view.focus()
        self.connection()

    # -- connection -------------------------------------------------------------------------------

    @work(exclusive=True, group="connection")
    async def connection(self) -> None:
        """Connect, attach, apply frames; reconnect whenever the daemon goes away. Runs until cancelled."""
        attempt = 0
        connected_once = False
        handover = self.painted
        while True:
            attached: p.SessionInfo | None = None
            try:
                if handover is not None:
                    # The first paint's connection, already attached: the app attaches only once.
                    client = await Client.adopt(handover.connection, handover.pending, handover.daemon_pid)
                    attached = handover.session
                else:
                    client = await self.connect()
            except OSError:
                handover = None
                continue
            except ScarabError as exc:
                if not connected_once:
                    # Nothing to get back to: say why (ssh refused, scarab not installed...) and stop.
                    self.exit(f"scarab: {exc}", return_code=1)
                    return
                self.status.notice = f"daemon unreachable, retrying: {exc}"
                await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
                attempt += 1
                continue
            attempt = 0
            connected_once = True
            handover = None
            self.client = client
            try:
                if attached is not None:
                    self.attached_to(attached)
                    await self.replay_held()
                else:
                    await self.attach(self.session.id if self.session else await self.initial_target())
                self.status.notice = ""
                client.frame_sink = self.take_frame
                while (msg := await client.events.get()) is not None:
                    self.handling = True
                    try:
                        await self.on_daemon_message(msg)
                    finally:
                        self.handling = False
            except DaemonUnreachable:
                pass
            except ScarabError as exc:
                self.exit(f"[scarab: {exc}]", return_code=1)
                return
            finally:
                self.client = None
                self.attached.clear()
                with contextlib.suppress(Exception):
                    await client.close()
            self.status.notice = "daemon restarted, reconnecting..."

    async def initial_target(self) -> str:
        """The given target, else the most recently attached running session, else `main` (new, or
        respawned when it has exited)."""
        if self.target:
            return self.target
        assert self.client is not None
        listing = await self.client.request(p.SessionList())
        assert isinstance(listing, p.Listed)
        chosen = default_session(listing.sessions)
        if chosen is not None:
            return chosen.id
        main = next((s for s in listing.sessions if s.name == "main"), None)
        if main is None:
            return await self.create_session("main")
        # Every session has exited, `main` too: start its program again rather than make another.
        respawned = await self.client.request(p.SessionRespawn(target=main.id))
        assert isinstance(respawned, p.Respawned)
        return respawned.session.id

    async def create_session(self, name: str | None) -> str:
        assert self.client is not None
        cols, rows = self.view_size()
        created = await self.client.request(
            p.SessionCreate(
                name=name,
                cols=cols,
                rows=rows,
                cwd=None if self.remote else os.getcwd(),
                command=None,
                environ=self.client_environ(),
            )
        )
        assert isinstance(created, p.Created)
        return created.session.id

    def client_environ(self) -> list[str] | None:
        """This client's SSH_AUTH_SOCK, DISPLAY... for the session (tmux's update-environment);
        none when the daemon is on another machine, where this machine's sockets mean nothing."""
        return None if self.remote else client_entries()

    def view_size(self) -> tuple[int, int]:
        size = self.view.size
        if size.width and size.height:
            return size.width, size.height
        cols, rows = self.size
        return max(1, cols), max(1, rows - (1 if self.config.status_bar else 0))

    async def attach(self, target: str) -> None:
        assert self.client is not None
        cols, rows = self.view_size()
        reply = await self.client.request(
            p.SessionAttach(target=target, cols=cols, rows=rows, environ=self.client_environ())
        )
        assert isinstance(reply, p.Attached)
        self.attached_to(reply.session)

    def attached_to(self, session: p.SessionInfo) -> None:
        """The daemon attached this client to `session`: its frames follow."""
        assert self.client is not None
        if self.session is not None and self.session.id != session.id:
            self.previous_id = self.session.id
        if self.view.session_id != session.id:
            # What is drawn until its frames come is not the other session's: a command meanwhile
            # (copy mode, a pane key) must not act on the panes of the session left.
            self.view.clear(session.id)
            self.drawn.clear()
            for pane in list(self.copy_modes):
                self.close_copy_mode(pane)
        self.session = session
        self.title = f"scarab: {session.name}"
        self.show_title()
        self.attached.set()
        if self.unsent:
            self.client.send_input(session.id, bytes(self.unsent))
            self.unsent.clear()
        # Not awaited: the session's first frame is already queued behind this reply, and the
        # status bar's listing must not delay it (a cold attach or a switch is timed to that frame).
        self.call_later(self.refresh_status)

    async def replay_held(self) -> None:
        """The prefix and the command key after it, typed before the app read the tty."""
        if not self.held:
            return
        held, self.held = self.held[len(encode(self.config.prefix) or b"") :], b""
        if not held:
            self.view.prefix_pending = self.status.prefix_active = bool(self.config.prefix)
            return
        char = held[:1].decode("latin-1")
        if char.isprintable():
            await self.run_command(char, char)
            held = held[1:]
        if held:
            self.on_terminal_view_to_program(TerminalView.ToProgram(held))

    def take_frame(self, frame: p.Frame) -> bool:
        """Draw a frame of the attached session as it is read (the client's `frame_sink`); False
        leaves it to `on_daemon_message`, in order: another session's (a switch whose reply is
        not handled yet), or one read while an earlier message is being handled."""
        return not self.handling and self.draw_frame(frame)

    def draw_frame(self, frame: p.Frame) -> bool:
        """A frame of the attached session drawn (another session's is not: False)."""
        if self.session is None or frame.session_id != self.session.id:
            return False
        self.view.apply(frame)
        self.drawn.set()
        self.show_title()
        if frame.bell:
            self.bell()
        return True

    async def on_daemon_message(self, msg: p.Message) -> None:
        match msg:
            case p.Frame():
                self.draw_frame(msg)
            case p.Layout() if self.session is not None and msg.session_id == self.session.id:
                self.apply_layout(msg)
            case p.SessionsChanged(sessions=sessions):
                self.show_sessions(sessions)
            case p.SetBuffer(data=data, clipboard=True):
                # A program in the session copied (OSC 52, allowed by program_clipboard).
                try:
                    await self.outer_clipboard.copy(data)
                except ScarabError as exc:
                    self.status.notice = str(exc)
            case p.Kicked(reason=reason) if self.session is not None and msg.session_id == self.session.id:
                await self.session_gone(reason)
            case p.Notice(text=text) if self.session is not None and msg.session_id == self.session.id:
                self.status.notice = text  # a recording that stopped by itself, a program a limit killed
            case p.Failed(message=message):
                self.status.notice = message

    async def session_gone(self, reason: str) -> None:
        """The attached session ended: the client exits, as tmux's does (its detach-on-destroy is on by
        default), even when other sessions run."""
        gone = self.session
        self.leave(f"[exited: {gone.name if gone else 'session'}: {reason}]")

    def apply_layout(self, layout: p.Layout) -> None:
        """The session's windows and panes as the host has them now."""
        self.view.apply_layout(layout)
        self.status.windows = tuple(layout.windows)
        self.show_title()
        if layout.panes:
            alive = {pane.id for pane in layout.panes}
            for gone in [pane for pane in self.copy_modes if pane not in alive]:
                self.close_copy_mode(gone)
        self.place_copy_modes()

    # -- the outer terminal -----------------------------------------------------------------------

    def show_title(self) -> None:
        """The session's title (OSC 0/2 from its program) as the outer terminal's, like tmux's
        set-titles; the session's name while the program sets none."""
        if self.session is None:
            return
        title = _UNPRINTABLE.sub("", self.view.title) or f"scarab: {self.session.name}"
        if title == self.terminal_title or self._driver is None or self.is_headless:
            return
        self._driver.write((PUSH_TITLE if self.terminal_title is None else "") + f"\x1b]2;{title}\x07")
        self._driver.flush()
        self.terminal_title = title

    def write_terminal(self, text: str) -> None:
        """Straight to the outer terminal (OSC 52), between Textual's own updates."""
        if self._driver is None or self.is_headless:
            return
        self._driver.write(text)
        self._driver.flush()

    def leave(self, message: str, return_code: int = 0) -> None:
        """End the client: the terminal is given back first, then the process ends at once.

        Textual's own exit takes ~0.4 s (it joins an input thread that polls every 0.1 s, twice), all
        of it after the user asked to leave. Nothing here needs that: the daemon sees the
        connection close and detaches this client. Headless (tests) it is an ordinary exit."""
        driver = self._driver
        if driver is None or self.is_headless:
            self.exit(message, return_code=return_code)
            return
        driver.write(GIVE_BACK + (POP_TITLE if self.terminal_title is not None else ""))
        driver.close()  # its writer thread writes what is queued, then stops
        if self.tty_attrs is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(driver_fd(), termios.TCSANOW, self.tty_attrs)
        with contextlib.suppress(OSError):  # sys.stdout is Textual's capture until the app ends
            os.write(sys.__stdout__.fileno() if sys.__stdout__ else 1, (message + "\n").encode())
        os._exit(return_code)

    async def refresh_status(self) -> None:
        client = self.client
        if client is None or self.session is None:
            return
        with contextlib.suppress(ScarabError):
            listing = await client.request(p.SessionList())
            assert isinstance(listing, p.Listed)
            self.show_sessions(listing.sessions)

    def show_sessions(self, sessions: list[p.SessionInfo]) -> None:
        """The session list as the daemon has it now (asked, or pushed when it changes)."""
        self.sessions = sessions
        status = self.status
        for i, s in enumerate(p.by_name(sessions)):  # the order prefix ( and ) go through
            if self.session is not None and s.id == self.session.id:
                self.session = s
                status.session, status.index, status.clients = s.name, i + 1, s.attached
        status.count = len(sessions)

    # -- input from the terminal widget -------------------------------------------------------------

    def on_terminal_view_to_program(self, message: TerminalView.ToProgram) -> None:
        if self.client is not None and self.session is not None and self.attached.is_set():
            # Keys go to the active pane (all of the window's with synchronize-panes); a mouse
            # report goes to the pane under the pointer only.
            target = f"%{message.pane}" if message.pane >= 0 else self.session.id
            self.client.send_input(target, message.data)
        elif len(self.unsent) < MAX_UNSENT:
            # Typed before the attach completed (the first paint shows the screen that early) or
            # while reconnecting: kept, in order, for the session.
            self.unsent += message.data

    def on_terminal_view_resized(self, message: TerminalView.Resized) -> None:
        if self.client is not None and self.session is not None and message.cols and message.rows:
            self.client.send(p.Resize(target=self.session.id, cols=message.cols, rows=message.rows))
        self.place_copy_modes()

    async def on_terminal_view_prefix(self, message: TerminalView.Prefix) -> None:
        self.status.prefix_active = message.key == ""
        if message.key == "":
            return
        await self.run_command(message.key, message.character)
        self.focus_active_pane()

    async def on_terminal_view_command(self, message: TerminalView.Command) -> None:
        await self.command(message.message)

    def on_terminal_view_scroll(self, message: TerminalView.Scroll) -> None:
        self.open_copy_mode(pane=message.pane, scroll_exit=True)  # tmux's WheelUpPane: copy-mode -e

    def on_terminal_view_dragged(self, message: TerminalView.Dragged) -> None:
        # tmux's MouseDrag1Pane (copy-mode -M) and DoubleClick1Pane / TripleClick1Pane
        # (copy-mode -H; send -X select-word / select-line; copy-pipe-and-cancel).
        mode = self.copy_modes.get(message.pane)
        if mode is not None:
            mode.follow(message.drag)  # a third click, arriving as the second one opened copy mode
        else:
            self.open_copy_mode(pane=message.pane, drag=message.drag)

    def on_copy_mode_closed(self, message: CopyMode.Closed) -> None:
        self.close_copy_mode(message.copy_mode.pane, message.copy_mode)

    def on_copy_mode_prefix_key(self, message: CopyMode.PrefixKey) -> None:
        # The prefix typed in copy mode: the view takes the next key as a command, as from a pane.
        view = self.view
        view.prefix_pending = self.status.prefix_active = True
        view.focus()

    async def run_command(self, key: str, character: str | None) -> None:
        """The key after the prefix: its action in the prefix table (keys are matched as typed, as
        tmux does). A key bound with -r opens the repeat time, in which the view takes another
        such key without the prefix."""
        typed = key_from_textual(key, character)
        binding = self.keys.lookup(typed) if typed is not None else None
        self.view.repeat_until = time.monotonic() + REPEAT_TIME if binding is not None and binding.repeat else 0.0
        if binding is not None:
            await self.run_action(binding.action)

    async def command(self, message: p.Message) -> bool:
        """A window or pane command for the attached session, as tmux's verbs; the daemon resolves
        the target ("" is the current window or its active pane). A refusal shows in the status bar."""
        if self.client is None or self.session is None:
            return False
        try:
            await self.client.request(message)
        except ScarabError as exc:
            self.status.notice = str(exc)
            return False
        self.status.notice = ""
        return True

    # -- prefix actions (named in scarab.tui.bindings) ----------------------------------------------

    def action_detach_client(self) -> None:
        name = self.session.name if self.session else "?"
        self.leave(f"[detached (from session {name})]")

    def action_choose_session(self) -> None:
        self.open_picker()

    def action_choose_tree(self) -> None:
        self.open_tree()

    def action_rename_session(self) -> None:
        self.rename_current()

    async def action_new_session(self) -> None:
        await self.switch_to(await self.create_session(None))

    async def action_previous_session(self) -> None:
        await self.cycle(-1)

    async def action_next_session(self) -> None:
        await self.cycle(1)

    async def action_last_session(self) -> None:
        if self.previous_id:
            await self.switch_to(self.previous_id)

    # windows (tmux's default keys; each a verb for the daemon)

    async def action_new_window(self) -> None:
        await self.command(p.NewWindow(target=""))

    async def action_select_window(self, index: int) -> None:
        await self.command(p.SelectWindow(target=f":={index}"))

    async def action_select_window_step(self, step: int) -> None:
        await self.command(p.SelectWindow(target="", step=step))

    async def action_last_window(self) -> None:
        await self.command(p.SelectWindow(target="", last=True))

    # The prompts open here, at once (the keys after the command key are theirs); their answer is
    # awaited in a worker.

    def action_prompt_window_index(self) -> None:
        self.prompt_window_index(self.prompt.ask("index"))

    def action_rename_window(self) -> None:
        window = self.current_window()
        self.rename_window(self.prompt.ask("(rename-window)", window.name if window else ""))

    def action_kill_window(self) -> None:
        window = self.current_window()
        self.kill_window(self.prompt.confirm(f"kill-window {window.name if window is not None else ''}? (y/n)"))

    # panes

    async def action_split_window(self, horizontal: bool) -> None:
        await self.command(p.SplitWindow(target="", horizontal=horizontal))

    async def action_select_pane(self, direction: str) -> None:
        await self.command(p.SelectPane(target="", direction=direction))

    async def action_next_pane(self) -> None:
        await self.command(p.SelectPane(target="", step=1))

    async def action_last_pane(self) -> None:
        await self.command(p.SelectPane(target="", last=True))

    def action_display_panes(self) -> None:
        self.view.show_numbers()

    async def action_zoom_pane(self) -> None:
        await self.command(p.ResizePane(target="", zoom=True))

    def action_kill_pane(self) -> None:
        scene = self.view.scene
        index = scene.order.index(scene.active) if scene.active in scene.order else 0
        self.kill_pane(self.prompt.confirm(f"kill-pane {index}? (y/n)"))

    async def action_break_pane(self) -> None:
        await self.command(p.BreakPane(target=""))

    async def action_swap_pane(self, step: int) -> None:
        await self.command(p.SwapPane(target="", previous=step < 0, next=step > 0))

    async def action_next_layout(self) -> None:
        await self.command(p.SelectLayout(target="", step=1))

    async def action_select_layout(self, name: str) -> None:
        await self.command(p.SelectLayout(target="", layout=name))

    async def action_resize_pane(self, direction: str, amount: int) -> None:
        await self.command(p.ResizePane(target="", direction=direction, amount=amount))

    def action_copy_mode(self) -> None:
        self.open_copy_mode()

    def action_copy_mode_page_up(self) -> None:
        self.open_copy_mode(page_up=True)

    async def action_paste_buffer(self) -> None:
        if self.client is None or self.session is None:
            return
        try:
            await self.client.request(p.PasteBuffer(target=self.session.id))
        except ScarabError as exc:
            self.status.notice = str(exc)

    def action_toggle_status(self) -> None:
        self.status.display = not self.status.display  # the view's resize follows

    def action_list_keys(self) -> None:
        self.push_screen(HelpScreen(self.config.prefix, self.keys))

    def action_send_prefix(self) -> None:
        self.on_terminal_view_to_program(TerminalView.ToProgram(encode(self.config.prefix) or b""))

    async def switch_to(self, target: str) -> None:
        if self.client is None:
            return
        try:
            await self.attach(target)
        except ScarabError as exc:
            self.status.notice = str(exc)

    async def cycle(self, step: int) -> None:
        """tmux's switch-client -n/-p: the next or previous session by name, wrapping."""
        # self.sessions is current: the daemon pushes every change (SessionsChanged).
        running = [s for s in p.by_name(self.sessions) if s.state == "running"]
        if not running or self.session is None:
            return
        ids = [s.id for s in running]
        index = ids.index(self.session.id) if self.session.id in ids else 0
        await self.switch_to(ids[(index + step) % len(ids)])

    async def list_sessions(self) -> list[p.SessionInfo]:
        if self.client is None:
            return []
        listing = await self.client.request(p.SessionList(usage=True))
        assert isinstance(listing, p.Listed)
        return listing.sessions

    async def preview(self, target: str) -> str:
        """A session's (its active pane's) or a window's or a pane's screen, for the pickers."""
        if self.client is None:
            return ""
        return await self.client.capture_text(target, scrollback=False, ansi=True)

    @work(group="dialogs")
    async def open_picker(self) -> None:
        from scarab.tui.picker import PickerScreen

        result: PickerResult | None = await self.push_screen_wait(
            PickerScreen(self.session.id if self.session else "", self.list_sessions, self.preview)
        )
        if result is None:
            return
        if result.action == "switch":
            await self.switch_to(result.session_id)
        elif result.action == "respawn":
            await self.respawn(result.session_id)
        elif result.action == "rename":
            self.rename_session(result.session_id)
        elif result.action == "kill":
            self.kill_session(result.session_id)
        elif result.action == "new" and self.client is not None:
            await self.switch_to(await self.create_session(None))

    async def session_layouts(self) -> list[tuple[p.SessionInfo, p.Layout | None]]:
        """Every session with its windows and panes: the attached one's as last pushed, the other
        running ones' as their hosts last described them (an exited session has none)."""
        out: list[tuple[p.SessionInfo, p.Layout | None]] = []
        for s in await self.list_sessions():
            layout = self.view.session_layout if self.session is not None and s.id == self.session.id else None
            if layout is None and s.state == "running" and self.client is not None:
                with contextlib.suppress(ScarabError):
                    reply = await self.client.request(p.LayoutQuery(target=s.id))
                    layout = reply.layout if isinstance(reply, p.LayoutReply) else None
            out.append((s, layout))
        return out

    @work(group="dialogs")
    async def open_tree(self) -> None:
        from scarab.tui.tree import TreeScreen

        current = (self.session.id if self.session else "", self.view.scene.active)
        result: TreeResult | None = await self.push_screen_wait(TreeScreen(current, self.session_layouts, self.preview))
        if result is None or self.client is None:
            return
        if result.action == "new":
            await self.switch_to(await self.create_session(None))
            return
        item = result.item
        if item is None:
            return
        if result.action == "kill":
            if item.window is None:
                self.kill_session(item.session.id)
                return
            what = f"kill-pane %{item.pane.id}" if item.pane is not None else f"kill-window {item.window.name}"
            if await self.prompt.confirm(f"{what}? (y/n)"):
                verb = p.KillPane(target=item.target) if item.pane is not None else p.KillWindow(target=item.target)
                await self.command(verb)
            return
        # The window and pane are chosen first, so the attach shows them at once.
        if item.window is not None:
            await self.command(p.SelectWindow(target=f"@{item.window.id}"))
        if item.pane is not None:
            await self.command(p.SelectPane(target=item.target))
        if self.session is None or item.session.id != self.session.id:
            if item.session.state == "exited":
                await self.respawn(item.session.id)
            else:
                await self.switch_to(item.session.id)

    async def respawn(self, session_id: str) -> None:
        """Start an exited session's program again and switch to it."""
        if self.client is None:
            return
        try:
            await self.client.request(p.SessionRespawn(target=session_id))
        except ScarabError as exc:
            self.status.notice = str(exc)
            return
        await self.switch_to(session_id)

    def rename_current(self) -> None:
        if self.session is not None:
            self.rename_session(self.session.id)

    def rename_session(self, session_id: str) -> None:
        """tmux's `$`: command-prompt -I "#S" { rename-session "%%" }: the name to edit (asked at
        once; the answer awaited in a worker)."""
        current = next((s.name for s in self.sessions if s.id == session_id), "")
        self.renamed_session(session_id, current, self.prompt.ask("(rename-session)", current))

    @work(group="dialogs")
    async def renamed_session(self, session_id: str, current: str, answer: asyncio.Future[str | None]) -> None:
        """A refused name (taken, empty) is said on the status line, as tmux does."""
        name = await answer
        if name is None or name == current or self.client is None:
            return
        try:
            await self.client.request(p.SessionRename(target=session_id, new_name=name))
        except ScarabError as exc:
            self.status.notice = str(exc)
            return
        self.status.notice = ""
        await self.refresh_status()

    @work(group="dialogs")
    async def kill_session(self, session_id: str) -> None:
        await self.refresh_status()  # who is attached now, not two seconds ago
        info = next((s for s in self.sessions if s.id == session_id), None)
        name = info.name if info is not None else session_id[:8]
        others = (info.attached if info is not None else 0) - (
            1 if self.session is not None and session_id == self.session.id else 0
        )
        # As the CLI's refusal says: other clients attached are detached too.
        attached = f" ({others} other client{'s' if others != 1 else ''} attached)" if others > 0 else ""
        if not await self.prompt.confirm(f"kill-session {name}{attached}? (y/n)"):
            return
        if self.client is None:
            return
        try:
            await self.client.request(p.SessionDelete(target=session_id, force=True))
        except ScarabError as exc:
            self.status.notice = str(exc)  # not killed: this client stays where it is
            return
        if self.session is not None and session_id == self.session.id:
            await self.session_gone("killed")
            return
        await self.refresh_status()

    def action_choose_buffer(self) -> None:
        self.open_buffers(choose=True)

    def action_list_buffers(self) -> None:
        self.open_buffers(choose=False)

    @work(group="dialogs")
    async def open_buffers(self, choose: bool) -> None:
        """The paste buffers with a preview (`prefix =`: Enter pastes the chosen one; `prefix #`)."""
        if self.client is None:
            return
        from scarab.tui.choosers import BufferScreen

        client = self.client

        async def listing() -> list[p.BufferInfo]:
            reply = await client.request(p.ListBuffers())
            assert isinstance(reply, p.Buffers)
            return reply.buffers

        async def show(name: str) -> bytes:
            reply = await client.request(p.ShowBuffer(name=name))
            assert isinstance(reply, p.Buffers)
            return reply.buffers[0].data

        async def delete(name: str) -> None:
            await client.request(p.DeleteBuffer(name=name))

        name = await self.push_screen_wait(BufferScreen(listing, show, delete, choose))
        if name and self.client is not None and self.session is not None:
            try:
                await self.client.request(p.PasteBuffer(target=self.session.id, name=name))
            except ScarabError as exc:
                self.status.notice = str(exc)

    @work(group="dialogs")
    async def action_grep_sessions(self) -> None:
        """Search every session (`prefix /`); the chosen hit opens in copy mode, match highlighted."""
        if self.client is None:
            return
        from scarab.tui.choosers import GrepScreen
        from scarab.tui.copymode import Jump

        client = self.client

        async def grep(pattern: str) -> p.GrepHits:
            reply = await client.request(p.Grep(pattern=pattern))
            assert isinstance(reply, p.GrepHits)
            return reply

        async def preview(hit: p.GrepHit) -> str:
            """The hit's row with a few rows either side, from history or the screen."""
            if hit.saved:
                return hit.line
            pane = f"%{hit.pane}"  # the hit's pane, not the session's active one
            reply = await client.request(p.HistoryRequest(target=pane, start=max(hit.row - 8, 0), count=17))
            assert isinstance(reply, p.History)
            rows = {int(index): str(text) for index, text, _runs in reply.lines}
            if hit.row + 8 >= reply.total:
                screen = (await client.capture_text(pane)).splitlines()
                rows.update((reply.total + y, text) for y, text in enumerate(screen))
            return "\n".join(rows[i] for i in range(hit.row - 8, hit.row + 9) if i in rows)

        choice = await self.push_screen_wait(GrepScreen(grep, preview))
        if choice is None or self.session is None:
            return
        hit = choice.hit
        if not hit.saved:  # its window and pane first, so the attach shows them at once
            await self.command(p.SelectWindow(target=f"%{hit.pane}"))
            await self.command(p.SelectPane(target=f"%{hit.pane}"))
        if hit.session_id != self.session.id:
            await self.switch_to(hit.session_id)
            if self.session is None or self.session.id != hit.session_id:
                return
            await self.drawn.wait()
        # Copy mode opens over the pane once it is drawn (its Layout and frame on their way).
        deadline = time.monotonic() + JUMP_WAIT
        view = self.view
        while (view.scene.rect(hit.pane) is None or hit.pane not in view.screens) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        self.open_copy_mode(Jump(hit.row, choice.pattern), pane=hit.pane if view.scene.rect(hit.pane) else -1)

    async def action_edit_scrollback(self) -> None:
        """The screen and scrollback in $VISUAL / $EDITOR over the window (`prefix e`)."""
        if self.client is None or self.session is None:
            return
        from textual.app import SuspendNotSupported

        from scarab.editor import edit_text

        try:
            text = await self.client.capture_text(self.session.id, scrollback=True)
            with self.suspend():
                edit_text(text, self.session.name)
        except (ScarabError, SuspendNotSupported) as exc:
            self.status.notice = str(exc) or "the editor cannot run here"

    def open_copy_mode(
        self,
        jump: Jump | None = None,
        page_up: bool = False,
        pane: int = -1,
        drag: Drag | None = None,
        scroll_exit: bool = False,
    ) -> None:
        """Copy mode over a pane (the active one, or the one under the mouse), laid over that pane
        only: its rows travel only as they come into sight; the other panes go on being drawn."""
        if self.client is None or self.session is None:
            return
        from scarab.tui.copymode import CopyMode

        client, session_id = self.client, self.session.id
        view = self.view
        pane = view.scene.active if pane < 0 else pane
        if pane in self.copy_modes:
            return  # already in copy mode, as tmux's copy-mode does then
        target = f"%{pane}" if view.session_layout is not None else session_id

        async def fetch(start: int, count: int) -> p.History:
            reply = await client.request(p.HistoryRequest(target=target, start=start, count=count))
            assert isinstance(reply, p.History)
            return reply

        async def grep(pattern: str) -> list[int]:
            reply = await client.request(p.Grep(pattern=pattern, target=target, limit=p.MAX_GREP_HITS))
            assert isinstance(reply, p.GrepHits)
            return [hit.row for hit in reply.hit_list()]

        def select_pane() -> None:
            if view.scene.active != pane and view.session_layout is not None:
                view.post_message(TerminalView.Command(p.SelectPane(target=f"%{pane}")))  # MouseDown1Pane

        shown = view.screens.get(pane)
        screen = [list(line) for line in shown.lines] if shown is not None else []
        cursor = (shown.cursor[0], shown.cursor[1]) if shown is not None else (0, 0)
        mode = CopyMode(
            pane, self.copy_keys, fetch, screen, cursor, grep, self.copy_text, self.prompt.ask,
            screen_wrapped=shown.wrapped if shown is not None else None, prefix=self.config.prefix,
            jump=jump, page_up=page_up, drag=drag, select_pane=select_pane, scroll_exit=scroll_exit,
        )  # fmt: skip
        self.copy_modes[pane] = mode
        self.place_copy_mode(mode)
        self.screen_stack[0].mount(mode)
        view.set_in_mode(frozenset(self.copy_modes))
        self.focus_active_pane()

    @property
    def copy_mode(self) -> CopyMode | None:
        """Copy mode over the active pane, if it is in copy mode."""
        return self.copy_modes.get(self.view.scene.active)

    def close_copy_mode(self, pane: int, mode: CopyMode | None = None) -> None:
        """Copy mode over `pane` (that one, if given) ends: the pane shows its screen again."""
        current = self.copy_modes.get(pane)
        if current is None or (mode is not None and current is not mode):
            return
        del self.copy_modes[pane]
        current.closed = True
        self.run_worker(self._take_away(current), group="copy-close")
        self.view.set_in_mode(frozenset(self.copy_modes))
        self.focus_active_pane()

    async def _take_away(self, mode: CopyMode) -> None:
        await mode.remove()
        # Textual can keep a removed widget in its map of what lies where (its removal racing the
        # partial reflow a scroll asks for): the mouse's events then went to the removed copy mode
        # and a drag on the pane did nothing. A full reflow of the window forgets it.
        self.screen_stack[0]._refresh_layout()

    def place_copy_mode(self, mode: CopyMode) -> None:
        """Copy mode laid exactly over its pane's rectangle of the window; hidden while the pane is
        not in sight (another window, or zoomed out of it), as tmux keeps a mode on a hidden pane."""
        view = self.view
        rect = view.scene.rect(mode.pane)
        if rect is None:
            mode.display = False
            return
        pan_x, pan_y = view.pan
        region = view.region
        mode.styles.offset = (region.x + rect.x - pan_x, region.y + rect.y - pan_y)
        mode.styles.width, mode.styles.height = rect.width, rect.height
        mode.history.pane_width = rect.width
        mode.display = True

    def place_copy_modes(self) -> None:
        for mode in self.copy_modes.values():
            self.place_copy_mode(mode)
        self.view.set_in_mode(frozenset(self.copy_modes))
        self.focus_active_pane()

    def focus_active_pane(self) -> None:
        """Keys go to the active pane: to its copy mode if it is in one, else to its program."""
        if self.screen is not self.screen_stack[0] or self.view.prefix_pending or self.prompt.is_open:
            return  # a dialog or the prompt has them (the pane gets them back after), or a command comes
        mode = self.copy_mode
        if mode is not None and mode.display:
            mode.take_keys()
        else:
            self.screen.set_focus(self.view, scroll_visible=False)  # now: Widget.focus() waits a turn

    async def copy_text(self, text: str) -> None:
        """A copy: the newest paste buffer, and the outer terminal's clipboard."""
        data = text.encode()
        if self.client is not None:
            await self.client.request(p.SetBuffer(data=data[: p.MAX_BUFFER]))
        await self.outer_clipboard.copy(data)

    # -- window and pane dialogs --------------------------------------------------------------------

    def current_window(self) -> p.WindowInfo | None:
        return self.view.scene.window

    @work(group="dialogs")
    async def prompt_window_index(self, answer: asyncio.Future[str | None]) -> None:
        """tmux's `'`: `index` prompt, then select-window -t :INDEX."""
        index = await answer
        if index:
            await self.command(p.SelectWindow(target=f":{index.strip()}"))

    @work(group="dialogs")
    async def rename_window(self, answer: asyncio.Future[str | None]) -> None:
        """tmux's `,`: command-prompt -I "#W" { rename-window "%%" }: the name to edit."""
        name = await answer
        if name is not None:
            await self.command(p.RenameWindow(target="", name=name))

    @work(group="dialogs")
    async def kill_window(self, answer: asyncio.Future[str | None]) -> None:
        """tmux's `&`: confirm-before -p "kill-window #W? (y/n)" kill-window, on the status line."""
        if await answer:
            await self.command(p.KillWindow(target=""))

    @work(group="dialogs")
    async def kill_pane(self, answer: asyncio.Future[str | None]) -> None:
        """tmux's `x`: confirm-before -p "kill-pane #P? (y/n)" kill-pane, on the status line."""
        if await answer:
            await self.command(p.KillPane(target=""))


def driver_fd() -> int:
    """The terminal Textual's driver reads from (and sets the modes of)."""
    return sys.__stdin__.fileno() if sys.__stdin__ else 0


def run_app(
    target: str | None,
    connect: Callable[[], Awaitable[Client]] | None = None,
    remote: bool = False,
    config: Config | None = None,
    painted: FirstPaint | None = None,
    held: bytes = b"",
) -> int:
    """`scarab` / `scarab attach`: run the TUI; print why it ended, as tmux does."""
    config = config or load_config(Paths.default().config_file)
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        raise ScarabError("the TUI needs a terminal; use `scarab ls`, `capture` or `send` from scripts")
    try:
        tty_attrs = painted.tty_attrs if painted is not None else termios.tcgetattr(sys.stdout.fileno())
    except termios.error:
        tty_attrs = None
    app = ScarabApp(target, config, connect, remote, painted, tty_attrs, held)
    try:
        result = app.run(mouse=True)
    finally:
        if painted is not None:
            # Textual gives back the settings it found, which the first paint had made raw.
            restore_tty(sys.stdout, painted)
        # Textual leaves the cursor shape and the title as the session last set them.
        sys.stdout.write(DEFAULT_CURSOR + (POP_TITLE if app.terminal_title is not None else ""))
        sys.stdout.flush()
    if result:
        print(result)
    return app.return_code or 0
