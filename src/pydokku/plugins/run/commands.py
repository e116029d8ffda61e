from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.run.subcommands:"
_ENV = Flag("env", short="e", repeat=True)
_TTL = Flag("ttl-seconds", takes_value=True)
_TTY = (Flag("no-tty"), Flag("force-tty"))
_CONTAINER = Flag("container", takes_value=True)

COMMANDS = (
    Command(
        "run",
        "run [-e|--env KEY=VALUE] [--no-tty] [--ttl-seconds SECONDS] <app> <cmd>",
        "Run a command in a new container using the current app image",
        _H + "run_attached",
        ArgSpec((_ENV, *_TTY, _TTL), raw_after=1),
        audit="app",
        acts=True,
    ),
    Command(
        "run:detached",
        "run:detached [-e|--env KEY=VALUE] [--force-tty] [--ttl-seconds SECONDS] <app> <cmd>",
        "Run a command in a new detached container using the current app image",
        _H + "run_detached",
        ArgSpec((_ENV, *_TTY, _TTL), raw_after=1),
        audit="app",
        acts=True,
    ),
    Command(
        "run:list",
        "run:list [--format json|stdout] <app>",
        "List all run containers for an app",
        _H + "list_runs",
        ArgSpec((Flag("format", takes_value=True),), max_positionals=1),
        audit=None,
    ),
    Command(
        "run:logs",
        "run:logs <app|--container CONTAINER> [-t] [-n num] [-q]",
        "Display recent log output for run containers",
        _H + "run_logs",
        ArgSpec(
            (_CONTAINER, Flag("num", short="n", takes_value=True), Flag("tail", short="t"), Flag("quiet", short="q")),
            max_positionals=2,
        ),
        audit=None,
    ),
    Command(
        "run:stop",
        "run:stop <app|--container CONTAINER>",
        "Stops all run containers for an app or a specified run container",
        _H + "stop_runs",
        ArgSpec((_CONTAINER,), max_positionals=2),
        audit="app",
        acts=True,
    ),
)
