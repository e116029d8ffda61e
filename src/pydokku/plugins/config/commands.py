from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.config.subcommands:"
_GLOBAL = Flag("global")

COMMANDS = (
    Command(
        "config",
        "config [--merged] (<app>|--global)",
        "Pretty-print an app or global environment (config:show)",
        _H + "show",
        ArgSpec(flags=(_GLOBAL, Flag("merged"), Flag("shell"), Flag("export")), max_positionals=1),
        audit=None,
    ),
    Command(
        "config:bundle",
        "config:bundle [--merged] (<app>|--global)",
        "Bundle environment into tarfile",
        _H + "bundle",
        ArgSpec(flags=(_GLOBAL, Flag("merged")), max_positionals=1),
        audit=None,
    ),
    Command(
        "config:clear",
        "config:clear [--no-restart] (<app>|--global)",
        "Clears environment variables",
        _H + "clear",
        ArgSpec(flags=(_GLOBAL, Flag("no-restart")), max_positionals=1),
        audit="app",
    ),
    Command(
        "config:export",
        "config:export [--format=FORMAT] [--merged] (<app>|--global)",
        "Export a global or app environment",
        _H + "export",
        ArgSpec(flags=(_GLOBAL, Flag("merged"), Flag("format", takes_value=True)), max_positionals=1),
        audit=None,
    ),
    Command(
        "config:get",
        "config:get [--quoted] (<app>|--global) KEY",
        "Display a global or app-specific config value",
        _H + "get",
        ArgSpec(flags=(_GLOBAL, Flag("quoted"))),
        audit=None,
    ),
    Command(
        "config:import",
        "config:import [--no-restart] [--replace] [--format envfile|json] (<app>|--global) [FILE|-]",
        "Import environment from file",
        _H + "import_vars",
        ArgSpec(
            flags=(_GLOBAL, Flag("no-restart"), Flag("replace"), Flag("format", takes_value=True)), max_positionals=2
        ),
        audit="app",
    ),
    Command(
        "config:keys",
        "config:keys [--merged] (<app>|--global)",
        "Show keys set in environment",
        _H + "keys",
        ArgSpec(flags=(_GLOBAL, Flag("merged"))),
        audit=None,
    ),
    Command(
        "config:set",
        "config:set [--encoded] [--no-restart] (<app>|--global) KEY1=VALUE1 [KEY2=VALUE2 ...]",
        "Set one or more config vars",
        _H + "set_vars",
        ArgSpec(flags=(_GLOBAL, Flag("encoded"), Flag("no-restart"))),
        audit="app",
    ),
    Command(
        "config:show",
        "config:show [--merged] [--format text|json] (<app>|--global)",
        "Show a global or app-specific environment",
        _H + "show",
        ArgSpec(flags=(_GLOBAL, Flag("merged"), Flag("format", takes_value=True))),
        audit=None,
    ),
    Command(
        "config:unset",
        "config:unset [--no-restart] (<app>|--global) KEY1 [KEY2 ...]",
        "Unset one or more config vars",
        _H + "unset",
        ArgSpec(flags=(_GLOBAL, Flag("no-restart"))),
        audit="app",
    ),
)
