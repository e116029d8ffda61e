"""Dokku's `<plugin>:report [<app>] [<flag>] [--format stdout|json]` layout, shared by every plugin.

Text: `=====> <app> <title> information`, then one row per key: 7 spaces, the label (derived from the
key) padded to 31 columns, the value; no trailing white space. JSON: one flat, compact object per app.
An info flag (`--<key>`) prints just that value, an empty line when it is empty.
"""

from __future__ import annotations

from pydokku.console import DETAIL, report_format
from pydokku.errors import DokkuError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from pydokku.args import ParsedArgs
    from pydokku.console import Console
    from pydokku.context import Context
    from pydokku.store import Tx
    from pydokku.store.apps import AppRow

    # Given the apps to report on, the report values of each, by app name.
    Collector = Callable[[Tx, list[AppRow], Context], dict[str, dict[str, str]]]
    # What a report's JSON shows of an app's values (given the app's name, and them).
    Shape = Callable[[str, dict[str, str]], dict[str, object]]

LABEL_WIDTH = 31
GLOBAL = "--global"  # the subject of a global report's heading, as Dokku names it


def trimmed(report_type: str, *, legacy: bool = True) -> Shape:
    """Dokku's report JSON (TrimPrefix): each `<report_type>-` key without that prefix, and with it too
    while Dokku emits the legacy keys (EmitLegacyPrefix); other keys as they are."""
    prefix = f"{report_type}-"

    def shape(_: str, values: dict[str, str]) -> dict[str, object]:
        shown: dict[str, object] = {}
        for key, value in values.items():
            if key.startswith(prefix):
                shown[key.removeprefix(prefix)] = value
                if legacy:
                    shown[key] = value
            else:
                shown[key] = value
        return shown

    return shape


class ReportRequest:
    __slots__ = ("app", "info_flag", "json")

    def __init__(self, app: str, info_flag: str | None, json: bool) -> None:
        self.app = app
        self.info_flag = info_flag
        self.json = json

    @classmethod
    def from_args(cls, args: ParsedArgs) -> ReportRequest:
        fmt = args.value("format")
        report_format(fmt)
        if len(args.info_flags) > 1:
            raise DokkuError(f"Only one info flag may be given at a time: {', '.join(args.info_flags)}")
        info_flag = args.info_flags[0] if args.info_flags else None
        if info_flag is not None and fmt is not None:
            raise DokkuError("--format flag cannot be specified when specifying an info flag")
        return cls(args.positional(0), info_flag, fmt == "json")


_labels: dict[str, str] = {}


def label(key: str) -> str:
    """`storage-attachment.1.entry-name` → `Storage attachment 1 entry name:` (cached: reports over
    many apps repeat the same keys)."""
    cached = _labels.get(key)
    if cached is None:
        words = key.replace("-", " ").replace(".", " ")
        cached = _labels[key] = words[:1].upper() + words[1:] + ":"
    return cached


def run(
    context: Context,
    args: ParsedArgs,
    title: str,
    collect: Collector,
    json_values: Shape | None = None,
    engine_values: Callable[[Context, dict[str, dict[str, str]]], None] | None = None,
    global_collect: Callable[[Tx], dict[str, str]] | None = None,
) -> int:
    """Resolve the apps (one, or all), collect their values in one read, add what the engine says
    (with no transaction open), render them. With --global (a report that has one), the global values."""
    from pydokku.plugins import apps

    request = ReportRequest.from_args(args)
    if global_collect is not None and args.has("global"):
        if request.app:
            raise DokkuError("--global cannot be combined with an app")
        with context.store.read() as tx:
            global_values = global_collect(tx)
        render(context.console, title, GLOBAL, global_values, request, json_values)
        return 0
    with context.store.read() as tx:
        targets = apps.report_targets(tx, request.app)
        values = collect(tx, targets, context)
    if engine_values is not None:
        engine_values(context, values)
    if not targets:
        context.console.warn(apps.NO_APPS)
        return 0
    for target in targets:
        render(context.console, title, target.name, values[target.name], request, json_values)
    return 0


def render(
    console: Console,
    title: str,
    subject: str,
    values: dict[str, str],
    request: ReportRequest,
    json_values: Shape | None = None,
) -> None:
    if request.info_flag is not None:
        key = request.info_flag.removeprefix("--")
        if key not in values:
            valid = ", ".join("--" + k for k in sorted(values))
            raise DokkuError(f"Invalid flag passed, valid flags: {valid}")
        console.line(values[key])
        return
    if request.json:
        import json

        shown = json_values(subject, values) if json_values is not None else values
        console.line(json.dumps(dict(sorted(shown.items())), separators=(",", ":"), ensure_ascii=False))
        return
    console.section(f"{subject} {title} information")
    width = max([LABEL_WIDTH, *(len(label(key)) + 1 for key in values)])
    console.lines((DETAIL + label(key).ljust(width) + values[key]).rstrip() for key in sorted(values))


class Scoped:
    """A plugin whose properties have an app's own value, a global one and the computed one (Dokku's
    `<plugin>-<key>`, `<plugin>-global-<key>`, `<plugin>-computed-<key>` rows)."""

    def __init__(
        self,
        plugin: str,
        keys: tuple[str, ...],
        values: Callable[[Tx, AppRow | None], tuple[dict[str, str], dict[str, str]]],
        computed: Callable[[dict[str, str], dict[str, str], str, str], str],
        global_keys: tuple[str, ...] | None = None,
        app_keys: tuple[str, ...] | None = None,
        extra: Callable[[Tx, AppRow], dict[str, str]] | None = None,
    ) -> None:
        self.plugin = plugin
        self.keys = keys
        self.values = values
        self.computed = computed
        self.global_keys = keys if global_keys is None else global_keys
        self.app_keys = keys if app_keys is None else app_keys
        self.extra = extra  # more rows of an app, read in the same transaction

    def rows(self, own: dict[str, str], global_values: dict[str, str], app_name: str) -> dict[str, str]:
        rows = {}
        for key in self.keys:
            if app_name and key in self.app_keys:
                rows[f"{self.plugin}-{key}"] = own.get(key, "")
            if key in self.global_keys:
                rows[f"{self.plugin}-global-{key}"] = global_values.get(key, "")
            if app_name or key in self.global_keys:  # a --global report has the global keys alone
                rows[f"{self.plugin}-computed-{key}"] = self.computed(own, global_values, key, app_name)
        return rows

    def collect(self, tx: Tx, targets: list[AppRow], context: Context) -> dict[str, dict[str, str]]:
        return {
            app.name: {**self.rows(*self.values(tx, app), app.name), **(self.extra(tx, app) if self.extra else {})}
            for app in targets
        }

    def report(self, context: Context, args: ParsedArgs, title: str, json_values: Shape | None = None) -> int:
        """`<plugin>:report [<app>]`, or `--global`: the global and computed values alone."""
        return run(context, args, title, self.collect, json_values or trimmed(self.plugin),
                   global_collect=lambda tx: self.rows({}, self.values(tx, None)[1], ""))  # fmt: skip
