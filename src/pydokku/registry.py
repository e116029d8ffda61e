"""The command table: which plugin owns which command, and the help screens built from it.

Each plugin declares its commands in a light `commands` module (pure data); the module holding a
command's code is imported only when that command runs, which keeps the CLI's start-up lean.
"""

from __future__ import annotations

from pydokku.args import ArgSpec
from pydokku.console import columnize

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from pydokku.args import ParsedArgs
    from pydokku.context import Context

    Handler = Callable[[Context, ParsedArgs], int | None]


def _import(module: str) -> Any:
    """The module itself (`__import__` with a fromlist), without loading the `importlib` package."""
    return __import__(module, fromlist=["_"])


class Command:
    __slots__ = ("acts", "args", "audit", "description", "handler", "name", "takes_app", "usage")

    def __init__(
        self,
        name: str,
        usage: str,
        description: str,
        handler: str,
        args: ArgSpec | None = None,
        *,
        audit: str | None,
        acts: bool = False,
        takes_app: bool = True,
    ) -> None:
        self.name = name
        self.usage = usage
        self.description = description
        self.handler = handler  # "module:function", imported on use
        self.args = args if args is not None else ArgSpec()
        # `--app APP` is prepended to the positionals of commands whose first argument is an app.
        self.takes_app = takes_app
        # What it changes, for the audit trail (pydokku.audit.KINDS); None: it only looks. Required, so
        # that no new command can forget it.
        self.audit = audit
        # It changes what is outside the state database (containers, disk, registries): its success is
        # an event even when it wrote no state. Other commands' events come with their writes.
        self.acts = acts

    def load(self) -> Handler:
        module, _, function = self.handler.partition(":")
        handler: Handler = getattr(_import(module), function)
        return handler


class Plugin:
    __slots__ = ("commands_module", "description", "name", "triggers")

    def __init__(
        self, name: str, description: str, commands_module: str, triggers: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.description = description
        self.commands_module = commands_module
        # Dokku's triggers this plugin answers: trigger name -> "module:function", imported on use.
        self.triggers = triggers or {}

    def commands(self) -> tuple[Command, ...]:
        commands: tuple[Command, ...] = _import(self.commands_module).COMMANDS
        return commands


# A cloned app gets the source's per-app state from each plugin that keeps some (Dokku's trigger).
APP_CLONE = "post-app-clone-setup"

PLUGINS: tuple[Plugin, ...] = (
    Plugin("apps", "Manage apps", "pydokku.plugins.apps.commands"),
    Plugin(
        "config",
        "Manage global and app-specific config vars",
        "pydokku.plugins.config.commands",
        {APP_CLONE: "pydokku.plugins.config:copy_app"},
    ),
    Plugin(
        "docker-options",
        "Manage docker options for an app",
        "pydokku.plugins.docker_options.commands",
        {APP_CLONE: "pydokku.plugins.docker_options:copy_app"},
    ),
    Plugin("events", "Manage event logging", "pydokku.plugins.events.commands"),
    Plugin("git", "Manage app deploys", "pydokku.plugins.git.commands"),
    Plugin("logs", "Manage log integration for an app", "pydokku.plugins.logs.commands"),
    Plugin(
        "ps",
        "List and manage the processes of an app",
        "pydokku.plugins.ps.commands",
        {APP_CLONE: "pydokku.plugins.ps:copy_app"},
    ),
    Plugin(
        "registry",
        "Manage registry settings for an app",
        "pydokku.plugins.registry.commands",
        {APP_CLONE: "pydokku.plugins.registry:copy_app"},
    ),
    Plugin("run", "Run a one-off process inside a container", "pydokku.plugins.run.commands"),
    Plugin("scheduler", "Manage schedulers", "pydokku.plugins.scheduler.commands"),
    Plugin(
        "scheduler-docker-local",
        "Manage the docker-local scheduler integration for an app",
        "pydokku.plugins.scheduler_docker_local.commands",
    ),
    Plugin(
        "scheduler-docker-swarm",
        "Manage the docker-swarm scheduler integration for an app",
        "pydokku.plugins.scheduler_docker_swarm.commands",
    ),
    Plugin(
        "storage",
        "Manage mounted volumes",
        "pydokku.plugins.storage.commands",
        {APP_CLONE: "pydokku.plugins.storage:copy_app"},
    ),
)


def triggered(trigger: str) -> list[Callable[..., None]]:
    """The functions that answer a trigger, in plugin order."""
    found = []
    for plugin in PLUGINS:
        if trigger in plugin.triggers:
            module, _, function = plugin.triggers[trigger].partition(":")
            found.append(getattr(_import(module), function))
    return found


def find_plugin(name: str) -> Plugin | None:
    return next((p for p in PLUGINS if p.name == name), None)


def find_command(name: str) -> Command | None:
    plugin = find_plugin(name.partition(":")[0])
    if plugin is None:
        return None
    return next((c for c in plugin.commands() if c.name == name), None)


def plugin_help(plugin: Plugin) -> list[str]:
    """`dokku <plugin>` / `dokku <plugin>:help`: Dokku's Go help layout."""
    table = columnize(sorted((c.usage, c.description) for c in plugin.commands()))
    return [
        f"Usage: dokku {plugin.name}[:COMMAND]",
        "",
        plugin.description,
        "",
        "Additional commands:",
        *("    " + row for row in table),
    ]


def command_help(command: Command) -> list[str]:
    """`dokku <command> --help`: its usage line and what it does."""
    return [f"Usage: dokku {command.usage}", "", command.description]


def global_help(*, show_all: bool, quiet: bool) -> list[str]:
    lines = []
    if not quiet:
        lines += [
            "Usage: dokku [--quiet|--trace|--force] COMMAND <app> [command-specific-options]",
            "",
            'Primary help options, type "dokku COMMAND:help" for more details, '
            "or dokku help --all to see all commands.",
            "",
            "Commands:",
            "",
        ]
    if show_all:
        rows = sorted((c.usage, c.description) for p in PLUGINS for c in p.commands())
    else:
        rows = sorted((p.name, p.description) for p in PLUGINS)
    return lines + ["    " + row for row in columnize(rows)]
