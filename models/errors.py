"""The one error type for bad input: its message says what was wrong and how to put it right."""


class InputError(ValueError):
    """Bad input from a person or a file. The CLI prints the message on one line and exits 2."""


class FieldErrors(InputError):
    """Bad input naming the fields in error (each as a dotted path, e.g. "actions.0.owner", with
    its message); the message itself names the first, as every InputError does. An interface
    puts its own name for a field in front of its message, joined by `sep` ("held_on: is
    required"; "at 2026-11-03 10:00 is in the future"), or none where `sep` is "" (the message is a
    whole sentence about the field: "the review leaves open actions unaccounted for: 1")."""

    def __init__(
        self,
        message: str,
        fields: list[tuple[str, str]],
        sep: str = ": ",
        arguments: bool = False,
    ) -> None:
        super().__init__(message)
        self.fields = fields
        self.sep = sep
        self.arguments = (
            arguments  # the fields are the service call's own (at, key), not an input's
        )


def refusal(field: str, message: str, sep: str = " ") -> FieldErrors:
    """Return the refusal of one argument of a service's call (`at`, `key`, `late_reason`), its
    message the words that follow the field's name ("2026-11-03 10:00 is in the future; ..."): the
    CLI puts its option in front (--at), the web its label. Never a command-line option here."""
    return FieldErrors(f"{field}{sep}{message}", [(field, message)], sep=sep, arguments=True)


def about(field: str, message: str) -> FieldErrors:
    """Return a declaration's refusal of one field of an input (a rule it checks against the case),
    in a whole sentence: each interface shows it on that field (the web) or as it is (the CLI)."""
    return FieldErrors(message, [(field, message)], sep="")
