"""Session fixtures: real servers (Redis, Google Cloud emulators, fake GCS) started on demand.

Each fixture module starts its server once per test session on a free port and skips the
tests that need it, with the reason, when the tool is not installed on this machine.
"""

pytest_plugins = [
    "tests.fixtures.redis_server",
    "tests.fixtures.pubsub_emulator",
    "tests.fixtures.firestore_emulator",
    "tests.fixtures.gcs_server",
    "tests.fixtures.bigquery_emulator",
]
