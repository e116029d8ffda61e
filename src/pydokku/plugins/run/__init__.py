"""The run plugin: one-off containers of an app's current release."""
