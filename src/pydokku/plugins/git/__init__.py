"""The git plugin: deploys. Here an app is deployed from an image on the host (git:from-image)."""
