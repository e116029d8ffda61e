from pydokku.args import ArgSpec, Flag
from pydokku.registry import Command

_H = "pydokku.plugins.events.subcommands:"

COMMANDS = (
    Command(
        "events",
        "events [--app <app>] [--entry <name>] [--since <time>] [-n <count>] [--format text|json]",
        "Lists the commands that changed state: when, who, what, which apps and entries, exit code",
        _H + "list_events",
        ArgSpec(
            (
                Flag("entry", takes_value=True),
                Flag("since", takes_value=True),
                Flag("num", short="n", takes_value=True),
                Flag("format", takes_value=True),
            ),
            max_positionals=0,
        ),
        audit=None,
        takes_app=False,
    ),
    Command(
        "events:off",
        "events:off",
        "Stops mirroring events to syslog",
        _H + "mirror_off",
        ArgSpec(max_positionals=0),
        audit="state",
        takes_app=False,
    ),
    Command(
        "events:on",
        "events:on",
        "Mirrors each event to syslog as one line (they are always kept in the state database)",
        _H + "mirror_on",
        ArgSpec(max_positionals=0),
        audit="state",
        takes_app=False,
    ),
)
