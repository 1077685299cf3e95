"""The one error type for bad input: its message says what was wrong and how to put it right."""


class InputError(ValueError):
    """Bad input from a person or a file. The CLI prints the message on one line and exits 2."""
