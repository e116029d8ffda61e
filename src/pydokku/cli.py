"""The `dokku` entry point: argv → global flags → command lookup → handler → exit code.

Every `DokkuError` raised below is rendered here, once, as ` !     message` on stderr.
"""

from __future__ import annotations

import os
import sys

from pydokku import DOKKU_COMPAT_VERSION
from pydokku.args import GlobalFlags, parse, parse_leading_globals
from pydokku.console import Console
from pydokku.context import Context, Paths
from pydokku.errors import DokkuError
from pydokku.registry import command_help, find_command, find_plugin, global_help, plugin_help

HELP_WORDS = frozenset({"help", "--help", "-h"})
VERSION_WORDS = frozenset({"version", "--version", "-v"})


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ssh_command = os.environ.get("SSH_ORIGINAL_COMMAND", "")
    for stream in (sys.stdout, sys.stderr):
        # Arguments that are not valid UTF-8 must still be printable inside error messages.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    console = Console()
    try:
        if ssh_command.strip():
            # Over SSH the forced command gets the client's command line as one string: split it with
            # shell quoting rules (as Dokku's `xargs -n 1`), never evaluate it.
            import shlex

            try:
                argv = shlex.split(ssh_command)
            except ValueError as error:
                console.warn(f"Unable to parse the SSH command ({error}): {ssh_command}")
                return 1
        code = _run(argv, console)
        console.out.flush()
    except BrokenPipeError:
        # The reader went away (`dokku apps:list | head -1`): say nothing more, not even at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code


def _check_encoding(argv: list[str]) -> None:
    """Arguments reach the state database and Docker as UTF-8 text; bytes that are not UTF-8 (which
    Python carries as surrogate escapes) cannot be stored, so they are refused before anything."""
    for arg in argv:
        if not arg.isascii():
            try:
                arg.encode()
            except UnicodeEncodeError:
                raise DokkuError(f"Arguments must be valid UTF-8 text: {arg!r}") from None


def _run(argv: list[str], console: Console) -> int:
    context: Context | None = None
    code = 1  # until the command says otherwise
    flags = GlobalFlags()
    flags.trace = os.environ.get("DOKKU_TRACE", "") not in ("", "0", "false")
    try:
        _check_encoding(argv)
        rest = parse_leading_globals(argv, flags)
        console.quiet = flags.quiet or bool(os.environ.get("DOKKU_QUIET_OUTPUT"))
        if not rest or rest[0] in HELP_WORDS:
            console.lines(global_help(show_all="--all" in rest, quiet=console.quiet))
            return 0
        if rest[0] in VERSION_WORDS:
            console.line(f"dokku version {DOKKU_COMPAT_VERSION}")
            return 0
        name = rest[0]
        command = find_command(name)  # `dokku run` is a command; `dokku storage` is help
        plugin = find_plugin(name.removesuffix(":help"))
        if command is None and plugin is not None and name in (plugin.name, f"{plugin.name}:help"):
            console.lines(plugin_help(plugin))
            return 0
        if command is None:
            raise DokkuError(
                f"`{' '.join(rest)}` is not a dokku command.\n !     See `dokku help` for a list of available commands."
            )
        parsed = parse(rest[1:], command.args, flags, takes_app=command.takes_app)
        if parsed.help:
            console.lines(command_help(command))
            return 0
        console.quiet = flags.quiet or bool(os.environ.get("DOKKU_QUIET_OUTPUT"))
        context = Context(paths=Paths.from_env(os.environ), flags=flags, console=console)
        if command.audit is not None:
            from pydokku.audit import Audit

            context.audit = Audit(command, rest[1:], parsed, flags.app, os.environ)
        if flags.trace:
            os.environ["DOKKU_TRACE"] = "1"
            console.err.write("+ dokku " + " ".join(argv) + "\n")
        code = command.load()(context, parsed) or 0
        return code
    except DokkuError as error:
        console.warn(error.message)
        code = error.exit_code
        return code
    except KeyboardInterrupt as interrupt:
        code = 128 + getattr(interrupt, "signum", 2)
        return code
    except BrokenPipeError:
        raise  # main() ends quietly: the reader went away
    except Exception as error:  # the one boundary: no traceback unless asked for
        from pydokku.faults import describe

        console.warn(describe(error, Paths.from_env(os.environ).database))
        if flags.trace:
            import traceback

            traceback.print_exception(error, file=console.err)
        return 1
    finally:
        if context is not None:
            context.finish(code)
