"""Errors are values: raised anywhere, rendered once by the CLI as ` !     message` with an exit code."""

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_APP_MISSING = 20


class DokkuError(Exception):
    """A failure the user should see: its message goes to stderr behind ` !     `."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class UsageError(DokkuError):
    """The command line itself is malformed (unknown flag, missing flag value)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


class AppMissing(DokkuError):
    def __init__(self, app: str) -> None:
        super().__init__(f"App {app} does not exist", EXIT_APP_MISSING)


class Interrupted(KeyboardInterrupt):
    """A signal (SIGTERM, SIGHUP) turned into an exception where work must be undone before exiting."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
