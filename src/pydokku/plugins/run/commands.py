from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.run.subcommands:"
_ENV = Flag("env", short="e", repeat=True)
_TTL = Flag("ttl-seconds", takes_value=True)

COMMANDS = (
    Command(
        "run",
        "run [-e|--env KEY=VALUE] [--no-tty] [--ttl-seconds <n>] <app> <cmd>",
        "Run a command in a new container using the current app image",
        _H + "run_attached",
        ArgSpec((_ENV, Flag("no-tty"), _TTL), raw_after=1),
        audit="app",
        acts=True,
    ),
    Command(
        "run:detached",
        "run:detached [-e|--env KEY=VALUE] [--ttl-seconds <n>] <app> <cmd>",
        "Run a command in a new detached container using the current app image",
        _H + "run_detached",
        ArgSpec((_ENV, _TTL), raw_after=1),
        audit="app",
        acts=True,
    ),
    Command(
        "run:list",
        "run:list <app> [--format text|json]",
        "List all run containers for an app",
        _H + "list_runs",
        ArgSpec((Flag("format", takes_value=True),), max_positionals=1),
        audit=None,
    ),
    Command(
        "run:logs",
        "run:logs <app> <container> [-n <num>] [-t|--tail] [-q|--quiet]",
        "Display recent log output for a run container",
        _H + "run_logs",
        ArgSpec(
            (Flag("num", short="n", takes_value=True), Flag("tail", short="t"), Flag("quiet", short="q")),
            max_positionals=2,
        ),
        audit=None,
    ),
    Command(
        "run:stop",
        "run:stop <app> <container>",
        "Stops a run container",
        _H + "stop_run",
        ArgSpec(max_positionals=2),
        audit="app",
        acts=True,
    ),
)
