"""registry:* handlers: where release images are pushed, and the logins for registry servers."""

from __future__ import annotations

from pydokku import settings as settings_module
from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.plugins.registry import (
    GLOBAL_KEYS,
    KEYS,
    PLUGIN,
    SECRETS_KIND,
    app_scope,
    computed,
    render_template,
    values,
)
from pydokku.report import Scoped
from pydokku.text import has_control_characters

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.store import Tx


def check_server(server: str) -> None:
    """A registry address: host[:port][/path], no scheme, no spaces."""
    host = server.split("/", 1)[0]
    if (
        not host
        or "://" in server
        or has_control_characters(server)
        or any(c.isspace() for c in server)
        or not all(c.isalnum() or c in ".-:[]" for c in host)
        or not host.isascii()
    ):
        raise DokkuError(f"Invalid registry server {server!r}: expected host[:port], e.g. registry.example.com:5000")


def _check(key: str, value: str) -> None:
    if key == "server":
        check_server(value)
    elif key == "push-on-release" and value not in ("true", "false"):
        raise DokkuError(f"Invalid value for push-on-release: {value} (expected true or false)")
    elif key == "image-repo" and not _is_repository(value):
        raise DokkuError(
            f"Invalid image-repo {value!r}: lowercase letters, digits and . _ - / (e.g. team/app),"
            " as Docker names repositories"
        )
    elif key == "image-repo-template" and not _is_repository(render_template(value, "app")):
        raise DokkuError(
            f"Invalid image-repo-template {value!r}: an image repo in which {{{{ .AppName }}}} is replaced by the"
            " app's name (e.g. team/{{ .AppName }})"
        )
    elif key == "push-extra-tags" and not all(_is_tag(tag) for tag in value.split(",")):
        raise DokkuError(
            f"Invalid push-extra-tags {value!r}: comma-separated image tags (letters, digits, _ . -;"
            " e.g. latest,stable)"
        )


def _is_repository(value: str) -> bool:
    return (
        value.isascii()
        and all((c.isalnum() and c == c.lower()) or c in "._-/" for c in value)
        and not value.startswith(("/", ".", "-"))
        and not value.endswith("/")
        and "//" not in value
    )


def _is_tag(tag: str) -> bool:
    """Docker's tag: a word character first, then up to 127 of word characters, `.` and `-`."""
    return (
        0 < len(tag) <= 128
        and tag.isascii()
        and (tag[0].isalnum() or tag[0] == "_")
        and all(c.isalnum() or c in "_.-" for c in tag)
    )


def set_property(context: Context, args: ParsedArgs) -> None:
    if args.has("global") and args.positional(0) not in (*GLOBAL_KEYS, ""):
        raise DokkuError(f"{args.positional(0)} cannot be set globally; global properties: {', '.join(GLOBAL_KEYS)}")
    settings_module.set_property(context, args, PLUGIN, KEYS, _check)


def _tag_version(tx: Tx, app: apps.AppRow) -> dict[str, str]:
    from pydokku import scheduler

    release = scheduler.current_release(tx, app)
    return {"registry-tag-version": str(release.number) if release else ""}


SCOPED = Scoped(PLUGIN, KEYS, values, computed, GLOBAL_KEYS, extra=_tag_version)


def report_registry(context: Context, args: ParsedArgs) -> int:
    return SCOPED.report(context, args, "registry")


def _login_target(context: Context, args: ParsedArgs, needed: int) -> tuple[str, list[str]]:
    """(app name or "" for the global login, the remaining arguments)."""
    positionals = args.positionals
    if args.has("global") or len(positionals) == needed:
        if len(positionals) != needed:
            raise DokkuError(f"Expected {needed} arguments with --global, got {len(positionals)}")
        return "", positionals
    if len(positionals) != needed + 1:
        raise DokkuError(f"Expected {needed} arguments after the app name, got {len(positionals) - 1}")
    with context.store.read() as tx:
        apps.require(tx, positionals[0])
    return positionals[0], positionals[1:]


def login(context: Context, args: ParsedArgs) -> None:
    """Check the login against the server from the engine that pushes (the swarm manager, or this
    host's engine), then keep it in the secrets folder (root only)."""
    from pydokku.store.secrets import GLOBAL, Secrets

    from_stdin = args.has("password-stdin")
    app_name, rest = _login_target(context, args, 2 if from_stdin else 3)
    server, username = rest[0], rest[1]
    password = context.stdin.read().rstrip("\r\n") if from_stdin else rest[2]
    check_server(server)
    if not username or not password:
        raise DokkuError("A username and a password are required")
    from pydokku import scheduler

    scheduler.build_engine(context, app_name).login(server, username, password)
    Secrets(context.paths.lib_root, SECRETS_KIND).replace(
        app_scope(app_name) if app_name else GLOBAL, server, {"username": username, "password": password}
    )
    context.console.header(f"Login Succeeded ({server})")


def logout(context: Context, args: ParsedArgs) -> None:
    from pydokku.store.secrets import GLOBAL, Secrets

    app_name, rest = _login_target(context, args, 1)
    server = rest[0]
    secrets = Secrets(context.paths.lib_root, SECRETS_KIND)
    scope = app_scope(app_name) if app_name else GLOBAL
    if server not in secrets.read(scope):
        raise DokkuError(f"Not logged in to {server}" + (f" for {app_name}" if app_name else ""))
    secrets.replace(scope, server, {})
    context.console.header(f"Removed login credentials for {server}")
