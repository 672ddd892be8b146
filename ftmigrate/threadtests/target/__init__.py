"""Scripts and the pytest plugin that run on the target (free-threaded) interpreter: standard library only."""
