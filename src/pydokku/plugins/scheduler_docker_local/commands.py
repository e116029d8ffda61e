from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.scheduler_docker_local.subcommands:"

COMMANDS = (
    Command(
        "scheduler-docker-local:report",
        "scheduler-docker-local:report [<app>|--global] [<flag>]",
        "Displays a scheduler-docker-local report for one or more apps",
        _H + "report_settings",
        ArgSpec((Flag("format", takes_value=True), Flag("global")), info_flags=True, max_positionals=1),
        audit=None,
    ),
    Command(
        "scheduler-docker-local:set",
        "scheduler-docker-local:set <app>|--global <key> (<value>)",
        "Set or clear a scheduler-docker-local property for an app",
        _H + "set_property",
        ArgSpec((Flag("global"),), max_positionals=3),
        audit="app",
    ),
)
