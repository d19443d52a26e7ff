"""End-to-end tests: the example DAGs in real Airflow processes against the emulator."""
