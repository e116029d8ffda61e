from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.apps.subcommands:"

COMMANDS = (
    Command(
        "apps:clone",
        "apps:clone <old-app> <new-app>",
        "Clones an app",
        _H + "clone",
        ArgSpec(flags=(Flag("skip-deploy"), Flag("ignore-existing")), max_positionals=2),
        audit="apps",
    ),
    Command(
        "apps:create", "apps:create <app>", "Create a new app", _H + "create", ArgSpec(max_positionals=1), audit="app"
    ),
    Command(
        "apps:destroy",
        "apps:destroy <app>",
        "Permanently destroy an app",
        _H + "destroy",
        ArgSpec(max_positionals=1),
        audit="app",
        acts=True,
    ),
    Command(
        "apps:lock",
        "apps:lock <app>",
        "Locks an app for deployment",
        _H + "lock",
        ArgSpec(max_positionals=1),
        audit="app",
    ),
    Command(
        "apps:locked",
        "apps:locked <app>",
        "Checks if an app is locked for deployment",
        _H + "locked",
        ArgSpec(max_positionals=1),
        audit=None,
    ),
    Command(
        "apps:unlock",
        "apps:unlock <app>",
        "Unlocks an app for deployment",
        _H + "unlock",
        ArgSpec(max_positionals=1),
        audit="app",
    ),
    Command(
        "apps:exists",
        "apps:exists <app>",
        "Checks if an app exists",
        _H + "exists",
        ArgSpec(max_positionals=1),
        audit=None,
    ),
    Command(
        "apps:list",
        "apps:list [--format text|json]",
        "List your apps",
        _H + "list_apps",
        ArgSpec((Flag("format", takes_value=True),), max_positionals=0),
        takes_app=False,
        audit=None,
    ),
    Command(
        "apps:rename",
        "apps:rename <old-app> <new-app>",
        "Rename an app",
        _H + "rename",
        ArgSpec(flags=(Flag("skip-deploy"),), max_positionals=2),
        audit="apps",
    ),
    Command(
        "apps:report",
        "apps:report [<app>|--global] [<flag>]",
        "Display report about an app",
        _H + "report_apps",
        ArgSpec((Flag("format", takes_value=True), Flag("global")), info_flags=True, max_positionals=1),
        audit=None,
    ),
)
