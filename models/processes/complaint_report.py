"""The complaints annual report (RPR 2006 reg 13(3): a report each year on the representations
made; Getting the Best from Complaints' list of what it monitors): `safeguard report complaints`
and its managers' page, for a year from 1 April by default. Counts only: no name, reference or
narrative of any complaint.

What it counts, of the complaints received in the period: who made them (CA 1989 s26(3)'s
standing), advocacy offered, accepted and declined (s26A), those that came through stage 1 here
first, stage 2 considered or refused, the findings on each point (upheld, partly, not upheld),
stage 2 responses in time or late, those withdrawn or resolved with terms agreed, stage 3 asked
for, and the remedies agreed and done. What it cannot count yet, because no case records it: the
subjects of complaints, complaints to the Ombudsman, and what changed as a result (service
learning); and stage 1 alone (a complaint is a case from stage 2: issue 23, item 2).
"""

from collections import Counter
from collections.abc import Callable

from models.process import CaseFacts, Figure, FiguresContext

RECEIVED = "Complaints received (stage 2 asked for)"
WHO = "Who made them (Children Act 1989 s26(3))"
ADVOCACY = "Advocacy (s26A)"
STAGE2 = "Stage 2"
FINDINGS = "Findings on the points of complaint"
REMEDIES = "Remedies agreed"

STANDING_WORDS = {  # complaint.Standing's values
    "child": "The child or young person",
    "parent": "A parent",
    "parental_responsibility": "Someone with parental responsibility",
    "foster_carer": "A foster carer",
    "sufficient_interest": "Someone the authority judged to have sufficient interest",
}
FINDING_WORDS = {"upheld": "Upheld", "partly_upheld": "Partly upheld", "not_upheld": "Not upheld"}


def figures(record: FiguresContext) -> list[Figure]:
    """The year's figures, each counted from the cases' own records."""
    received = [c for c in record.cases() if record.start <= c.opened_on <= record.end]
    decided = [(kind, value) for c in received for kind, value, _ in c.decisions]
    answered = [
        s for c in received for s in c.steps if s.name == "stage2_response" and s.status == "closed"
    ]
    standing = Counter(str((c.details.get("complainant") or {}).get("standing")) for c in received)
    advocacy = Counter(str(c.details.get("advocacy")) for c in received)
    eligible = Counter(value == "accepted" for kind, value in decided if kind == "eligibility")
    endings = Counter(value for kind, value in decided if kind == "ending")
    findings = Counter(value.rsplit(": ", 1)[-1] for kind, value in decided if kind == "finding")
    remedies = Counter(status for c in received for _, status in c.actions)

    def count(test: Callable[[CaseFacts], object]) -> int:
        return sum(1 for c in received if test(c))

    found = [
        Figure(RECEIVED, "Complaints received", len(received)),
        Figure(
            RECEIVED, "Dealt with at stage 1 here first", count(lambda c: c.details.get("stage1"))
        ),
    ]
    found += [Figure(WHO, words, standing[who]) for who, words in STANDING_WORDS.items()]
    found += [
        Figure(ADVOCACY, "Advocacy offered", count(lambda c: c.details.get("advocacy_offered"))),
        Figure(ADVOCACY, "Advocacy accepted", advocacy["accepted"]),
        Figure(ADVOCACY, "Advocacy declined", advocacy["declined"]),
        Figure(STAGE2, "Considered at stage 2", eligible[True]),
        Figure(STAGE2, "Not considered at stage 2 (the Ombudsman route stated)", eligible[False]),
        Figure(STAGE2, "Stage 2 responses sent", len(answered)),
        Figure(
            STAGE2,
            "Stage 2 responses in time (25 working days, or as extended)",
            sum(1 for s in answered if s.late is False),
        ),
        Figure(STAGE2, "Stage 2 responses late", sum(1 for s in answered if s.late)),
        Figure(STAGE2, "Withdrawn by the complainant", endings["withdrawn"]),
        Figure(STAGE2, "Resolved with terms agreed", endings["resolved"]),
        Figure(STAGE2, "Stage 3 asked for", count(lambda c: c.events.get("stage3_requested"))),
        Figure(FINDINGS, "Points decided", sum(findings.values())),
    ]
    found += [Figure(FINDINGS, words, findings[code]) for code, words in FINDING_WORDS.items()]
    found += [
        Figure(REMEDIES, "Remedies agreed", sum(remedies.values())),
        Figure(REMEDIES, "Done", remedies["done"]),
        Figure(REMEDIES, "Not needed after all", remedies["not_needed"]),
        Figure(REMEDIES, "Still open", remedies["open"]),
    ]
    return found
