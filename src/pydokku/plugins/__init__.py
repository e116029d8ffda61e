"""One package per Dokku plugin. Each holds `commands` (declarations), `subcommands` (handlers),
and exports in its `__init__` the few functions other plugins may call."""
