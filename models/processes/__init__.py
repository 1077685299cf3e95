"""The processes this package declares, one module each; the engine finds them only through
models/registry.py (the `safeguard.processes` entry points in pyproject.toml)."""
