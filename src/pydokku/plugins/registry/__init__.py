"""The registry plugin's exports: where an app's release images are pushed (Dokku's `server`,
`image-repo`, `push-on-release` properties; the app's own value, else the global one) and the login
for a server (the app's, else the global one; kept in the secrets folder, never in the database)."""

from __future__ import annotations

from pydokku.store import properties

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.store import Tx
    from pydokku.store.apps import AppRow

PLUGIN = "registry"
KEYS = ("image-repo", "push-on-release", "server")
GLOBAL_KEYS = ("push-on-release", "server")
SECRETS_KIND = "registry"


def values(tx: Tx, app: AppRow | None) -> tuple[dict[str, str], dict[str, str]]:
    own = properties.get_all(tx, app.id, PLUGIN) if app is not None else {}
    return own, properties.get_global(tx, PLUGIN)


def computed(own: dict[str, str], global_values: dict[str, str], key: str, app_name: str) -> str:
    if key == "image-repo":
        return own.get(key) or (f"dokku/{app_name}" if app_name else "")
    value = own.get(key) or global_values.get(key) or ""
    if key == "server" and value:
        return value.rstrip("/") + "/"  # Dokku's computed server ends with a slash: `<server>/<image-repo>`
    return value or ("false" if key == "push-on-release" else "")


def repository(tx: Tx, app: AppRow) -> tuple[str, str]:
    """(server, `<server>/<image-repo>`) the app's images go to; ("", "") when no server is set."""
    own, global_values = values(tx, app)
    server = computed(own, global_values, "server", app.name).rstrip("/")
    return (server, f"{server}/{computed(own, global_values, 'image-repo', app.name)}") if server else ("", "")


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
