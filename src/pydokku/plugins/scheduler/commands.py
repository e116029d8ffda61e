from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.scheduler.subcommands:"

COMMANDS = (
    Command(
        "scheduler:report",
        "scheduler:report [<app>] [<flag>]",
        "Displays a scheduler report for one or more apps",
        _H + "report_scheduler",
        ArgSpec((Flag("format", takes_value=True), Flag("global")), info_flags=True, max_positionals=1),
        audit=None,
    ),
    Command(
        "scheduler:set",
        "scheduler:set <app>|--global <key> (<value>)",
        "Set or clear a scheduler property for an app",
        _H + "set_property",
        ArgSpec((Flag("global"),), max_positionals=3),
        audit="app",
    ),
)
