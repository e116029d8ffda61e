from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.registry.subcommands:"

COMMANDS = (
    Command(
        "registry:login",
        "registry:login [--global|--password-stdin] [<app>] <server> <username> [<password>]",
        "Login to a docker registry",
        _H + "login",
        ArgSpec((Flag("global"), Flag("password-stdin")), max_positionals=4),
        audit="state",
        acts=True,
    ),
    Command(
        "registry:logout",
        "registry:logout [--global] [<app>] <server>",
        "Logout from a docker registry",
        _H + "logout",
        ArgSpec((Flag("global"),), max_positionals=2),
        audit="state",
        acts=True,
    ),
    Command(
        "registry:report",
        "registry:report [<app>] [<flag>]",
        "Displays a registry report for one or more apps",
        _H + "report_registry",
        ArgSpec((Flag("format", takes_value=True), Flag("global")), info_flags=True, max_positionals=1),
        audit=None,
    ),
    Command(
        "registry:set",
        "registry:set <app>|--global <key> (<value>)",
        "Set or clear a registry property for an app",
        _H + "set_property",
        ArgSpec((Flag("global"),), max_positionals=3),
        audit="app",
    ),
)
