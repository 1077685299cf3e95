"""The one error type for bad input: its message says what was wrong and how to put it right."""


class InputError(ValueError):
    """Bad input from a person or a file. The CLI prints the message on one line and exits 2."""


class FieldErrors(InputError):
    """Bad input naming the fields in error (each as a dotted path, e.g. "actions.0.owner", with
    its message); the message itself names the first, as every InputError does."""

    def __init__(self, message: str, fields: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.fields = fields
