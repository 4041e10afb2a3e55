"""predq's benchmark: predq against a synchronous Flask app and a one-task-per-request
Flask+Celery app, each started as real processes on free ports with its own Redis.

``python -m bench`` runs it; ``python -m bench --smoke`` checks it end to end in seconds.
"""
