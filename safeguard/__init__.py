"""The command line and the wiring: builds the real adapters (database, policy, clock) from settings."""
