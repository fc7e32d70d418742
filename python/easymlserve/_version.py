"""The SDK's version, in a module of its own so that the worker can report it without importing the rest."""

__version__ = "0.1.0"
