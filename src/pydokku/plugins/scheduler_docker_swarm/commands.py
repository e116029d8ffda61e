from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.scheduler_docker_swarm.subcommands:"

COMMANDS = (
    Command(
        "scheduler-docker-swarm:report",
        "scheduler-docker-swarm:report [<app>] [<flag>]",
        "Displays a scheduler-docker-swarm report for one or more apps",
        _H + "report_settings",
        ArgSpec((Flag("format", takes_value=True), Flag("global")), info_flags=True, max_positionals=1),
        audit=None,
    ),
    Command(
        "scheduler-docker-swarm:set",
        "scheduler-docker-swarm:set <app>|--global <key> (<value>)",
        "Set or clear a scheduler-docker-swarm property for an app",
        _H + "set_property",
        ArgSpec((Flag("global"),), max_positionals=3),
        audit="app",
    ),
)
