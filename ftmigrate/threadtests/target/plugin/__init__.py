"""Put on the venv's PYTHONPATH by itself, so nothing else of ours can shadow a user module."""
