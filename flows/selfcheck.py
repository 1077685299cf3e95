"""The platform's own flow: proves the served deployment can reach our database and policy.

It carries no case data. `safeguard serve` runs it once at start, so the Prefect UI shows at once
whether the service is healthy; anyone can run it again from the UI.
"""

from typing import Any

from prefect import flow

from safeguard.settings import get_settings
from tasks.platform import check_database, check_policy


@flow(name="selfcheck", log_prints=True)
def selfcheck() -> dict[str, Any]:
    """Check the database is migrated and the policy loads; return what was found."""
    settings = get_settings()
    revision = check_database(settings.database)
    policy = check_policy(settings.policy_file)
    print(
        f"database at migration {revision}; policy {policy['policy']} from {', '.join(policy['files'])}"
    )
    return {"database_revision": revision, **policy}
