"""pydokku: Dokku's persistent-storage system, rebuilt in Python."""

__version__ = "0.1.0"

# The Dokku release whose command-line interface this version implements. Tools such as
# ansible-dokku gate features on `dokku version`, so it reports this, not the package version.
DOKKU_COMPAT_VERSION = "0.38.27"
