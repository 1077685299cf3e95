"""The flow's suspend keys: a step's or a phase's, stable across deployments."""


def wait_key(name: str, sequence: int = 1) -> str:
    """Return the flow's suspend key for a step or a phase: lowercase letters, digits and dashes
    only (prefect-notes rule 1), stable across deployments."""
    return f"{name.replace('_', '-')}-{sequence}"


def again(key: str, attempt: int) -> str:
    """Return the key of a later wait at the same place (a resume that found it not yet recorded)."""
    return key if attempt == 0 else f"{key}-again-{attempt}"
