from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

COMMANDS = (
    Command(
        "logs",
        "logs <app> [-n <num>] [-t|--tail] [-p|--ps <process>] [-q|--quiet]",
        "Display recent log output",
        "pydokku.plugins.logs.subcommands:logs",
        ArgSpec(
            (
                Flag("num", short="n", takes_value=True),
                Flag("tail", short="t"),
                Flag("ps", short="p", takes_value=True),
                Flag("quiet", short="q"),
            ),
            max_positionals=1,
        ),
        audit=None,
    ),
    Command(
        "logs:failed",
        "logs:failed [--all|<app>]",
        "Shows the last failed deploy logs",
        "pydokku.plugins.logs.subcommands:failed",
        ArgSpec((Flag("all"),), max_positionals=1),
        audit=None,
    ),
)
