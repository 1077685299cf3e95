"""The serve process: one process that serves every deployment the project defines.

Started by `safeguard serve` (so by `make run`) with PREFECT_API_URL set; runs until stopped.
"""

from prefect import serve

from deployments import DEPLOYMENT_NAME, DEPLOYMENTS


def main() -> None:
    deployments = [
        spec.flow.to_deployment(
            name=DEPLOYMENT_NAME,
            tags=list(spec.tags),
            description=spec.description,
            cron=spec.cron,
            parameters=spec.parameters,
        )
        for spec in DEPLOYMENTS
    ]
    serve(*deployments, print_starting_message=False)


if __name__ == "__main__":
    main()
