"""git:from-image: build a release of an image on this host and deploy it."""

from __future__ import annotations

from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.text import has_control_characters

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context


def from_image(context: Context, args: ParsedArgs) -> None:
    app_name, image = args.positional(0), args.positional(1)
    with context.store.read() as tx:
        apps.require(tx, app_name)
    if not image:
        raise DokkuError("Please specify a docker image")
    if has_control_characters(image):
        raise DokkuError(f"Docker image references cannot contain control characters such as newlines: {image!r}")
    from pydokku import scheduler

    if not scheduler.release_image(context, app_name, image):
        raise DokkuError(
            "No changes detected, skipping git commit\n"
            " !     Call 'ps:rebuild' on app to rebuild the app from existing source"
        )
