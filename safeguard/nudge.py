"""Carry a case's run on until it has taken a stored record, after the command that stored it has
gone (`safeguard record --wait 0`, or a wait that ran out): `python -m safeguard.nudge RUN_ID
SUBMISSION_ID`, started detached by orchestration.hand_over.

It is the same resume loop as `safeguard record` and the web (orchestration.follow, DESIGN rule
13): it resumes the run whenever it is suspended, until the flow has applied the record, for up to
NUDGE_SECONDS. A record stored while the run was still running (before it suspended to wait for
it) is thus taken within seconds, not at the next sweep. Quiet: it prints nothing, and anything it
cannot do the sweep does.
"""

import sys

from safeguard import orchestration, wiring
from safeguard.settings import get_settings

NUDGE_SECONDS = 300.0  # then the scheduled sweep carries the case on


def main(argv: list[str]) -> int:
    """Nudge the run until it has taken the submission; 0 when it has."""
    run_id, submission = argv[0], int(argv[1])
    settings = get_settings()
    followed = orchestration.follow(
        wiring.engine(settings),
        settings,
        run_id,
        submission,
        seconds=NUDGE_SECONDS,
        until_moved=False,
    )
    return 0 if followed.applied else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
