"""The logs plugin: an app's output, from its containers (or services)."""
