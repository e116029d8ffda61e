"""docker-options:* handlers."""

from __future__ import annotations

import shlex

from pydokku import report
from pydokku.args import ParsedArgs
from pydokku.context import Context
from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.plugins.docker_options import PHASES
from pydokku.store import Tx
from pydokku.store import options as option_store
from pydokku.text import has_control_characters

BAD_PHASE = "Phase(s) must be one of [build deploy run]"


def parse_phases(raw: str) -> list[str]:
    phases = raw.split(",")
    if not raw or any(phase not in PHASES for phase in phases):
        raise DokkuError(BAD_PHASE)
    return list(dict.fromkeys(phases))


def option_text(words: list[str]) -> str:
    """One option line from the words after the phase.

    A single word is the user's own option string (`"-v '/a b:/c'"`) and is kept verbatim; several
    words are joined so that the Docker CLI will read each as one argument again.
    """
    text = words[0] if len(words) == 1 else " ".join(shlex.quote(word) for word in words)
    if has_control_characters(text):
        raise DokkuError("Docker options cannot contain control characters such as newlines")
    try:
        shlex.split(text)
    except ValueError as error:
        raise DokkuError(f"Docker options cannot be parsed ({error}): {text}") from error
    return text


def _target(tx: Tx, args: ParsedArgs, missing: str) -> tuple[apps.AppRow, list[str], str]:
    app = apps.require(tx, args.positional(0))
    phases = parse_phases(args.positional(1))
    words = args.positionals[2:]
    if not words or not "".join(words).strip():
        raise DokkuError(missing)
    return app, phases, option_text(words)


def add(context: Context, args: ParsedArgs) -> None:
    with context.store.write() as tx:
        app, phases, option = _target(tx, args, "Please specify docker options to add to the phase")
        existing = option_store.list_for(tx, [app.id]).get(app.id, [])
        for phase in phases:
            if not any(row.phase == phase and row.option == option for row in existing):
                option_store.add(tx, app.id, phase, option)


def remove(context: Context, args: ParsedArgs) -> None:
    with context.store.write() as tx:
        app, phases, option = _target(tx, args, "Please specify docker options to remove from the phase")
        for row in option_store.list_for(tx, [app.id]).get(app.id, []):
            if row.phase in phases and row.option == option:
                option_store.delete(tx, row.id)


def clear(context: Context, args: ParsedArgs) -> None:
    with context.store.write() as tx:
        app = apps.require(tx, args.positional(0))
        phases = parse_phases(args.positional(1)) if args.positional(1) else list(PHASES)
        for phase in phases:
            option_store.delete_phase(tx, app.id, phase)
    if args.positional(1):
        for phase in phases:
            context.console.header(f"Clearing docker-options for {app.name} on phase {phase}")
    else:
        context.console.header(f"Clearing docker-options for {app.name} on all phases")


def _collect(tx: Tx, targets: list[apps.AppRow], context: Context) -> dict[str, dict[str, str]]:
    rows = option_store.list_for(tx, None if len(targets) > 1 else [a.id for a in targets])
    values = {}
    for app in targets:
        by_phase: dict[str, list[str]] = {phase: [] for phase in PHASES}
        for row in rows.get(app.id, []):
            by_phase[row.phase].append(row.option)
        values[app.name] = {f"docker-options-{phase}": " ".join(by_phase[phase]) for phase in PHASES}
    return values


def report_options(context: Context, args: ParsedArgs) -> int:
    return report.run(context, args, "docker options", _collect)
