from pydokku.args import ArgSpec
from pydokku.registry import Command

COMMANDS = (
    Command(
        "git:from-image",
        "git:from-image <app> <docker-image>",
        "Deploys an app from a docker image on this host",
        "pydokku.plugins.git.subcommands:from_image",
        ArgSpec(max_positionals=2),
        audit="app",
        acts=True,
    ),
)
