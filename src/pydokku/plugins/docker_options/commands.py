from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.docker_options.subcommands:"

COMMANDS = (
    Command(
        "docker-options:add",
        "docker-options:add <app> <phase(s)> OPTION",
        "Add Docker option to app for phase (comma separated phase list)",
        _H + "add",
        ArgSpec(raw_after=2),
    ),
    Command(
        "docker-options:clear",
        "docker-options:clear <app> [phase(s)]",
        "Clear a docker options from application with an optional phase (comma separated phase list)",
        _H + "clear",
        ArgSpec(max_positionals=2),
    ),
    Command(
        "docker-options:remove",
        "docker-options:remove <app> <phase(s)> OPTION",
        "Remove Docker option from app for phase (comma separated phase list)",
        _H + "remove",
        ArgSpec(raw_after=2),
    ),
    Command(
        "docker-options:report",
        "docker-options:report [<app>] [<flag>]",
        "Displays a docker options report for one or more apps",
        _H + "report_options",
        ArgSpec(flags=(Flag("format", takes_value=True),), info_flags=True, max_positionals=1),
    ),
)
