"""Billy: a Big Mouth Billy Bass that listens, thinks and answers, all on the Pi."""

__version__ = "0.1.0"
