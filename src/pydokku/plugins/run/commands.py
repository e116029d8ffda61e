from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.run.subcommands:"
_ENV = Flag("env", short="e", repeat=True)

COMMANDS = (
    Command(
        "run",
        "run [-e|--env KEY=VALUE] [--no-tty] <app> <cmd>",
        "Run a command in a new container using the current app image",
        _H + "run_attached",
        ArgSpec((_ENV, Flag("no-tty")), raw_after=1),
        audit="app",
        acts=True,
    ),
    Command(
        "run:detached",
        "run:detached [-e|--env KEY=VALUE] <app> <cmd>",
        "Run a command in a new detached container using the current app image",
        _H + "run_detached",
        ArgSpec((_ENV,), raw_after=1),
        audit="app",
        acts=True,
    ),
)
