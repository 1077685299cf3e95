"""A process that exists only in the tests: two steps, declared without touching the engine."""
