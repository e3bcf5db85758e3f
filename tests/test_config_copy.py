"""Copy mode's settings in config.toml: tmux's default key table, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from scarab.config import Config, ConfigError, default_mode_keys, load_config


def test_mode_keys_default_is_tmuxs() -> None:
    assert default_mode_keys({"EDITOR": "/usr/bin/vim"}) == "vi"
    assert default_mode_keys({"VISUAL": "nvim", "EDITOR": "emacs"}) == "vi"
    assert default_mode_keys({"VISUAL": "emacs", "EDITOR": "vi"}) == "emacs"  # $VISUAL first
    assert default_mode_keys({"EDITOR": "/opt/vi-tools/nano"}) == "emacs"  # the program's name, not its path
    assert default_mode_keys({}) == "emacs"
    assert Config(mode_keys="vi").copy_keys == "vi"


def test_copy_settings_are_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('mode_keys = "emacs"\nset_clipboard = "off"\ncopy_command = "wl-copy"\n')
    config = load_config(path)
    assert (config.copy_keys, config.set_clipboard, config.copy_command) == ("emacs", "off", "wl-copy")
    path.write_text('status_bar = true\nmode_keys = "vim"\n')
    with pytest.raises(ConfigError, match=r'line 2: mode_keys must be "vi" or "emacs"'):
        load_config(path)
    path.write_text('set_clipboard = "external"\n')
    with pytest.raises(ConfigError, match=r'line 1: set_clipboard must be "on" or "off"'):
        load_config(path)
