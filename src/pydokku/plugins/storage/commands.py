from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.storage.subcommands:"
_S = "pydokku.plugins.storage.stream_commands:"
_E = "pydokku.plugins.storage.entry_commands:"
_FORMAT = Flag("format", takes_value=True)


def _value(name: str) -> Flag:
    return Flag(name, takes_value=True)


COMMANDS = (
    Command(
        "storage:annotations:report",
        "storage:annotations:report [<name>] [<flag>]",
        "Displays the annotations of one or all storage entries",
        _E + "report_annotations",
        ArgSpec((_FORMAT,), info_flags=True, max_positionals=1),
        takes_app=False,
    ),
    Command(
        "storage:annotations:set",
        "storage:annotations:set <name> <key> [<value>]",
        "Sets or clears an annotation of a storage entry",
        _E + "set_annotation",
        ArgSpec(max_positionals=3),
        takes_app=False,
    ),
    Command(
        "storage:create",
        "storage:create <name> [<path>] [--chown <c>] [--mode <m>] [--reclaim-policy <p>]",
        "Creates a named storage entry (a host directory or a docker volume)",
        _E + "create",
        ArgSpec(
            (
                _value("scheduler"),
                _value("chown"),
                _value("mode"),
                _value("reclaim-policy"),
                Flag("annotation", repeat=True),
                Flag("label", repeat=True),
                _value("size"),
                _value("access-mode"),
                _value("storage-class-name"),
                _value("namespace"),
            ),
            max_positionals=2,
        ),
        takes_app=False,
    ),
    Command(
        "storage:destroy",
        "storage:destroy <name> [--force] [--destroy-host-dir]",
        "Destroys a storage entry that no app mounts (its data is kept unless asked)",
        _E + "destroy",
        ArgSpec((Flag("destroy-host-dir"),), max_positionals=1),
        takes_app=False,
    ),
    Command(
        "storage:ensure-directory",
        "storage:ensure-directory [--chown option] <directory>",
        "Creates a persistent storage directory in the recommended storage path",
        _H + "ensure_directory",
        ArgSpec((Flag("chown", takes_value=True),), max_positionals=1),
        takes_app=False,
    ),
    Command(
        "storage:exec",
        "storage:exec <name> [--image <image>] [--as-user <uid>] [-- <cmd>...]",
        "Runs a command in a temporary container with the storage entry at /data",
        _E + "exec_in",
        ArgSpec((_value("image"), _value("as-user"))),
        takes_app=False,
    ),
    Command(
        "storage:export",
        "storage:export <name> [--compress zstd|gzip|none]",
        "Writes a storage entry's content as a tar stream to standard output",
        _S + "export",
        ArgSpec((_value("compress"),), max_positionals=1),
        takes_app=False,
    ),
    Command(
        "storage:import",
        "storage:import <name> [--replace] [--keep-previous|--discard-previous]",
        "Replaces a storage entry's content with a tar stream read from standard input",
        _S + "import_stream",
        ArgSpec((Flag("replace"), Flag("keep-previous"), Flag("discard-previous")), max_positionals=1),
        takes_app=False,
    ),
    Command(
        "storage:info",
        "storage:info <name> [--format text|json]",
        "Displays a storage entry",
        _E + "info",
        ArgSpec((_FORMAT,), max_positionals=1),
        takes_app=False,
    ),
    Command(
        "storage:labels:report",
        "storage:labels:report [<name>] [<flag>]",
        "Displays the labels of one or all storage entries",
        _E + "report_labels",
        ArgSpec((_FORMAT,), info_flags=True, max_positionals=1),
        takes_app=False,
    ),
    Command(
        "storage:labels:set",
        "storage:labels:set <name> <key> [<value>]",
        "Sets or clears a label of a storage entry",
        _E + "set_label",
        ArgSpec(max_positionals=3),
        takes_app=False,
    ),
    Command(
        "storage:list",
        "storage:list <app> [--format text|json]",
        "List bind mounts for app's container(s) (host:container)",
        _H + "list_mounts",
        ArgSpec((_FORMAT,), max_positionals=1),
    ),
    Command(
        "storage:list-entries",
        "storage:list-entries [--format text|json]",
        "Lists the storage entries",
        _E + "list_entries",
        ArgSpec((_FORMAT, _value("scheduler")), max_positionals=0),
        takes_app=False,
    ),
    Command(
        "storage:migrate",
        "storage:migrate [<app>|--all]",
        "Moves the volumes of an app's docker options into storage entries",
        _E + "migrate",
        ArgSpec((Flag("all"),), max_positionals=1),
    ),
    Command(
        "storage:mount",
        "storage:mount <app> <host-dir:container-dir>|<name> [--container-dir <path>]",
        "Create a new bind mount, or mount a storage entry",
        _H + "mount",
        ArgSpec(
            (
                _value("container-dir"),
                Flag("phase", repeat=True),
                _value("process-type"),
                _value("volume-subpath"),
                Flag("volume-readonly"),
                _value("volume-chown"),
                _value("volume-options"),
            ),
            max_positionals=2,
        ),
    ),
    Command(
        "storage:report",
        "storage:report [<app>] [<flag>] [--global]",
        "Displays a storage report for one or more apps",
        _H + "report_storage",
        ArgSpec((_FORMAT, Flag("global")), info_flags=True, max_positionals=1),
    ),
    Command(
        "storage:set",
        "storage:set <name> <property> [<value>]",
        "Sets or clears a property of a storage entry",
        _E + "set_property",
        ArgSpec(
            (
                *(_value(name) for name in ("chown", "mode", "reclaim-policy", "size", "access-mode")),
                *(_value(name) for name in ("storage-class-name", "namespace")),
                Flag("annotation", repeat=True),
                Flag("label", repeat=True),
            ),
            max_positionals=3,
        ),
        takes_app=False,
    ),
    Command(
        "storage:unmount",
        "storage:unmount <app> <host-dir:container-dir>|<name> [--container-dir <path>]",
        "Remove an existing bind mount, or unmount a storage entry",
        _H + "unmount",
        ArgSpec((_value("container-dir"),), max_positionals=2),
    ),
    Command(
        "storage:wait",
        "storage:wait <name>",
        "Waits for a storage entry to be ready",
        _E + "wait",
        ArgSpec(max_positionals=1),
        takes_app=False,
    ),
)
