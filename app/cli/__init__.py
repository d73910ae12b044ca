"""The `askbase` command line: argument parsing in main.py, long-running commands in
commands.py."""

from askbase.app.cli.main import main

__all__ = ["main"]
