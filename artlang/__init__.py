"""artlang: a small language for procedural images, animations and textures."""

__version__ = "0.1.0"
