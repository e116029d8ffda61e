from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.storage.subcommands:"
_FORMAT = Flag("format", takes_value=True)

COMMANDS = (
    Command(
        "storage:ensure-directory",
        "storage:ensure-directory [--chown option] <directory>",
        "Creates a persistent storage directory in the recommended storage path",
        _H + "ensure_directory",
        ArgSpec(flags=(Flag("chown", takes_value=True),), max_positionals=1),
        takes_app=False,
    ),
    Command(
        "storage:list",
        "storage:list <app> [--format text|json]",
        "List bind mounts for app's container(s) (host:container)",
        _H + "list_mounts",
        ArgSpec(flags=(_FORMAT,), max_positionals=1),
    ),
    Command(
        "storage:mount",
        "storage:mount <app> <host-dir:container-dir>",
        "Create a new bind mount",
        _H + "mount",
        ArgSpec(max_positionals=2),
    ),
    Command(
        "storage:report",
        "storage:report [<app>] [<flag>]",
        "Displays a storage report for one or more apps",
        _H + "report_storage",
        ArgSpec(flags=(_FORMAT,), info_flags=True, max_positionals=1),
    ),
    Command(
        "storage:unmount",
        "storage:unmount <app> <host-dir:container-dir>",
        "Remove an existing bind mount",
        _H + "unmount",
        ArgSpec(max_positionals=2),
    ),
)
