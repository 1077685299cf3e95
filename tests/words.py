"""Words, not codes (issue 20, item 6): what a person reads — a page's visible text, a notice's
subject and bodies — shows no code from the declarations or the policy. A code is written in
snake_case (a step's name, a role, a recipient, a field's name, a choice's value: `initial_consideration`,
`lado_manager`, `told_on`, `allegation_meeting`); no word people write is.

Every page the tests render and every mail the tests' SMTP servers receive is scanned (tests/conftest.py).
"""

import html
import re

from tests.smtp import SmtpServer

SNAKE = re.compile(r"(?<![\w@./:=#?&-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/-])")
HIDDEN = re.compile(r"<(script|style|template)\b.*?</\1\s*>|<!--.*?-->", re.DOTALL | re.IGNORECASE)
TAG = re.compile(r"<[^>]*>")


def visible(page: str) -> str:
    """The text a person reads on an HTML page or in a mail's HTML: no tags, no attributes, no
    scripts."""
    return html.unescape(TAG.sub(" ", HIDDEN.sub(" ", page)))


def codes_in(text: str) -> list[str]:
    """The codes in a text a person reads, each once, in order, with the words around it."""
    said = " ".join(text.split())
    return list(
        dict.fromkeys(
            f"{found.group(0)!r} in '...{said[max(found.start() - 50, 0) : found.end() + 30]}...'"
            for found in SNAKE.finditer(said)
        )
    )


def assert_no_codes_in_mails(server: SmtpServer) -> None:
    """No mail a person received shows a code."""
    found = {
        mail.subject: codes
        for mail in server.received
        if (codes := codes_in(f"{mail.subject}\n{mail.text}\n{visible(mail.html)}"))
    }
    assert not found, f"codes a person would read in these mails: {found}"
