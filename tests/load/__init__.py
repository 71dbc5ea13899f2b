"""`make loadtest`: the app served by gunicorn under a mixed locust workload (see run.py)."""
