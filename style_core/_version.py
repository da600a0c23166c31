"""The package's version, in one place: the package face, the engine's recipes and the plug-in read it."""

__version__ = "0.1.0"
