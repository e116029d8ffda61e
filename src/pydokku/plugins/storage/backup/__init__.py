"""Backups of storage entries: encrypted, deduplicated snapshots in a restic repository.

settings.py resolves what applies to an entry (its own value, else the global one, else the default);
restic.py is the only code that runs restic; schedule.py keeps the host's cron file equal to the
state; subcommands.py holds the storage:backup* commands and restore.py the restore, which swaps a
staged tree in atomically and can be finished or rolled back after an interruption.
"""
