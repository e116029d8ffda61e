from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.ps.subcommands:"
_ALL = Flag("all")
_PARALLEL = Flag("parallel", takes_value=True)

COMMANDS = (
    Command(
        "ps:inspect",
        "ps:inspect <app>",
        "Displays a sanitized version of docker inspect for an app",
        _H + "inspect",
        ArgSpec(max_positionals=1),
        audit=None,
    ),
    Command(
        "ps:rebuild",
        "ps:rebuild [--parallel count] [--all|<app>]",
        "Rebuilds an app from source",
        _H + "rebuild",
        ArgSpec((_ALL, _PARALLEL), max_positionals=1),
        audit="app",
        acts=True,
    ),
    Command(
        "ps:report",
        "ps:report [<app>|--global] [<flag>]",
        "Displays a process report for one or more apps",
        _H + "report_processes",
        ArgSpec((Flag("format", takes_value=True), Flag("global")), info_flags=True, max_positionals=1),
        audit=None,
    ),
    Command(
        "ps:restart",
        "ps:restart [--parallel count] [--all|<app>] [<process-name>]",
        "Restart an app",
        _H + "restart",
        ArgSpec((_ALL, _PARALLEL), max_positionals=2),
        audit="app",
        acts=True,
    ),
    Command(
        "ps:scale",
        "ps:scale [--skip-deploy] [--format text|json] <app> <proc>=<count> [<proc>=<count>...]",
        "Get/Set how many instances of a given process to run",
        _H + "scale",
        ArgSpec((Flag("skip-deploy"), Flag("format", takes_value=True))),
        audit="app",
        acts=True,
    ),
    Command(
        "ps:set",
        "ps:set <app>|--global <key> [<value>]",
        "Set or clear a ps property for an app",
        _H + "set_property",
        ArgSpec((Flag("global"),), max_positionals=3),
        audit="app",
    ),
    Command(
        "ps:start",
        "ps:start [--parallel count] [--all|<app>]",
        "Start an app",
        _H + "start",
        ArgSpec((_ALL, _PARALLEL), max_positionals=1),
        audit="app",
        acts=True,
    ),
    Command(
        "ps:stop",
        "ps:stop [--parallel count] [--all|<app>]",
        "Stop an app",
        _H + "stop",
        ArgSpec((_ALL, _PARALLEL), max_positionals=1),
        audit="app",
        acts=True,
    ),
)
