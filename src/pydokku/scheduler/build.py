"""Building a release, whatever runs it: the image built from a source image (with the app's build
options) on the engine the app's scheduler builds with (this host's, or a swarm manager's), its Procfile
read, and the release handed to the app's scheduler as a candidate, which becomes the current release
only once the scheduler has it running."""

from __future__ import annotations

from pydokku import scheduler
from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.scheduler import current_release, plan
from pydokku.scheduler.runtime import build_options, candidate_release
from pydokku.text import shell_quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.context import Context
    from pydokku.engine import Engine


def release_image(context: Context, app_name: str, source_image: str) -> bool:
    """Build a release of `source_image` for the app, record it and deploy it.

    Returns False, changing nothing, when the image is the one the app already runs.
    """
    engine, console = scheduler.build_engine(context, app_name), context.console
    console.header("Generating build context")
    source = None if context.flags.force else engine.image(source_image)
    if source is None:
        # Dokku's: pulled when it is not on the host (or always with --force), with the app's login
        console.header("Force pulling image" if context.flags.force else "Pulling image")
        _pull(context, engine, app_name, source_image)
        source = engine.image(source_image)
        if source is None:
            raise DokkuError(f"Failed to pull image: {source_image}: the engine does not have it after the pull")
    else:
        console.header("Image exists on host, skipping pull")
    with context.store.read() as tx:
        app = apps.require(tx, app_name)
        release = current_release(tx, app)
    if release is not None and release.source_image_id == source["Id"]:
        return False
    build_and_deploy(context, app_name, source_image, source["Id"])
    return True


def _pull(context: Context, engine: Engine, app_name: str, reference: str) -> None:
    """Pull `reference` with the app's (else the global) registry:login for its registry."""
    from pydokku.engine import registry_auth, registry_host
    from pydokku.plugins import registry

    server = registry_host(reference)
    login = registry.login(context.paths.lib_root, app_name, server)
    auth = registry_auth(*login, server) if login else registry_auth()
    engine.pull(reference, auth, context.console.line)


def rebuild(context: Context, app_name: str) -> None:
    """Build the current release's source image again (with today's build options) and deploy it; with no
    release yet (its first deploy failed), the source that deploy started from."""
    with context.store.read() as tx:
        app = apps.require(tx, app_name)
        release, source = current_release(tx, app), apps.deploy_source(tx, app)
    if release is not None:  # a failed later deploy left the last good one current: that is what runs
        image, image_id = release.source_image, release.source_image_id
    elif source is not None:
        image, image_id = source.metadata, source.image_id
    else:
        raise DokkuError(f"App {app_name} has not been deployed")
    if scheduler.build_engine(context, app_name).image(image_id) is None:
        raise DokkuError(f"The source image of {app_name} ({image}) is no longer on this host")
    build_and_deploy(context, app_name, image, image_id)


def build_and_deploy(context: Context, app_name: str, source_image: str, source_image_id: str) -> None:
    """Build `source_image` into a release of the app (with its build options) and deploy it; the
    release becomes the current one only once its containers pass the checks."""
    engine, console = scheduler.build_engine(context, app_name), context.console
    with context.store.write() as tx:
        app = apps.require(tx, app_name)
        apps.set_deploy_source(tx, app, apps.DeploySource("docker-image", source_image, source_image_id))
        requested = build_options(tx, app)
        previous = current_release(tx, app)
    console.header(f"Building {app_name} from {source_image}")
    options, dropped = plan.build_options(requested)
    if dropped:
        console.detail(f"Leaving out build options docker build cannot take: {' '.join(map(shell_quote, dropped))}")
    dockerfile = f"FROM {source_image_id}\nLABEL {plan.LABEL_APP}={app_name}\n"
    image_id = engine.build(plan.image_tag(app_name), dockerfile, options)
    try:
        procfile = engine.read_file(image_id, "/app/Procfile")
        processes = plan.release_processes(plan.parse_procfile(procfile.decode()) if procfile else {})
        console.header(f"Releasing {app_name}...")
        with context.store.read() as tx:
            candidate = candidate_release(
                tx, apps.require(tx, app_name), source_image, source_image_id, image_id, processes
            )
        scheduler.deploy(context, app_name, candidate=candidate)
    except BaseException:
        # The previous release stays current: give its image the tag back, drop the failed build.
        if previous is not None and previous.image_id != image_id and engine.image(previous.image_id) is not None:
            engine.tag(previous.image_id, plan.image_tag(app_name))
            engine.remove_image(image_id)
        raise
