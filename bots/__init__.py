"""Runnable entry points and the `bloombridge` command line."""
