"""The registry plugin's exports: where an app's release images are pushed (Dokku's `server`,
`image-repo`, `image-repo-template`, `push-extra-tags`, `push-on-release` properties; the app's own
value, else the global one) and the login for a server (the app's, else the global one; kept in the
secrets folder, never in the database)."""

from __future__ import annotations

import re

from pydokku.store import properties

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.store import Tx
    from pydokku.store.apps import AppRow

PLUGIN = "registry"
KEYS = ("image-repo", "image-repo-template", "push-extra-tags", "push-on-release", "server")
GLOBAL_KEYS = ("image-repo-template", "push-extra-tags", "push-on-release", "server")
SECRETS_KIND = "registry"
DOCKER_HUB = ("docker.io", "hub.docker.com")  # Dokku's: no server prefix, images go to Docker Hub
APP_NAME_FIELD = re.compile(r"\{\{-?\s*\.AppName\s*-?\}\}")  # the one field Dokku's template has


def values(tx: Tx, app: AppRow | None) -> tuple[dict[str, str], dict[str, str]]:
    own = properties.get_all(tx, app.id, PLUGIN) if app is not None else {}
    return own, properties.get_global(tx, PLUGIN)


def computed(own: dict[str, str], global_values: dict[str, str], key: str, app_name: str) -> str:
    """Dokku's computed values: the image repo is the app's own, else its template's, else dokku/<app>;
    the server ends with a slash (`<server>/<image-repo>`) and is empty for Docker Hub."""
    if key == "image-repo":
        template = computed(own, global_values, "image-repo-template", app_name)
        from_template = render_template(template, app_name) if template and app_name else ""
        return own.get(key) or from_template or (f"dokku/{app_name}" if app_name else "")
    value = (own.get(key) or global_values.get(key) or "").strip()
    if key == "server":
        value = value.rstrip("/")
        return "" if value in DOCKER_HUB or not value else value + "/"
    return value or ("false" if key == "push-on-release" else "")


def render_template(template: str, app_name: str) -> str:
    """An `image-repo-template` such as `team/{{ .AppName }}` for an app."""
    return APP_NAME_FIELD.sub(app_name, template).strip()


def repository(tx: Tx, app: AppRow) -> tuple[str, str]:
    """(server, repository) the app's images go to: `<server>/<image-repo>`, or for Docker Hub the
    image repo alone (its logins are kept under docker.io); ("", "") when no server is set."""
    own, global_values = values(tx, app)
    if not (own.get("server") or global_values.get("server") or "").strip():
        return "", ""
    server = computed(own, global_values, "server", app.name)
    return server.rstrip("/") or DOCKER_HUB[0], server + computed(own, global_values, "image-repo", app.name)


def extra_tags(tx: Tx, app: AppRow) -> list[str]:
    """The tags pushed with each release besides its number (`push-extra-tags`, comma separated)."""
    own, global_values = values(tx, app)
    return [tag for tag in computed(own, global_values, "push-extra-tags", app.name).split(",") if tag]


def app_scope(app_name: str) -> str:
    return f"app-{app_name}"


def login(lib_root: str, app_name: str, server: str) -> tuple[str, str] | None:
    """(username, password) for the server: the app's login, else the global one."""
    from pydokku.store.secrets import GLOBAL, Secrets

    secrets = Secrets(lib_root, SECRETS_KIND)
    for scope in (app_scope(app_name), GLOBAL):
        found = secrets.read(scope).get(server)
        if found:
            return found["username"], found["password"]
    return None


def forget_app(lib_root: str, app_name: str) -> None:
    from pydokku.store.secrets import Secrets

    Secrets(lib_root, SECRETS_KIND).remove(app_scope(app_name))


def copy_app(tx: Tx, source: AppRow, target: AppRow) -> None:
    """A clone pushes where its source does (Dokku's post-app-clone-setup)."""
    for key, value in properties.get_all(tx, source.id, PLUGIN).items():
        properties.put(tx, target.id, PLUGIN, key, value)
