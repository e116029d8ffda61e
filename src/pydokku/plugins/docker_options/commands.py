from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.docker_options.subcommands:"
_PROCESS = Flag("process", repeat=True)

COMMANDS = (
    Command(
        "docker-options:add",
        "docker-options:add [--process PROC...] <app> <phase(s)> OPTION",
        "Add Docker option to app for phase (comma separated phase list)",
        _H + "add",
        ArgSpec((_PROCESS,), raw_after=2),
        audit="app",
    ),
    Command(
        "docker-options:clear",
        "docker-options:clear [--process PROC...] <app> [phase(s)]",
        "Clear a docker options from application with an optional phase (comma separated phase list)",
        _H + "clear",
        ArgSpec((_PROCESS,), max_positionals=2),
        audit="app",
    ),
    Command(
        "docker-options:list",
        "docker-options:list <app> [--process PROC] --phase PHASE",
        "List docker options for one process+phase pair",
        _H + "list_options",
        ArgSpec((Flag("process", takes_value=True), Flag("phase", takes_value=True)), max_positionals=1),
        audit=None,
    ),
    Command(
        "docker-options:remove",
        "docker-options:remove [--process PROC...] <app> <phase(s)> OPTION",
        "Remove Docker option from app for phase (comma separated phase list)",
        _H + "remove",
        ArgSpec((_PROCESS,), raw_after=2),
        audit="app",
    ),
    Command(
        "docker-options:report",
        "docker-options:report [<app>] [<flag>]",
        "Displays a docker options report for one or more apps",
        _H + "report_options",
        ArgSpec(flags=(Flag("format", takes_value=True),), info_flags=True, max_positionals=1),
        audit=None,
    ),
)
