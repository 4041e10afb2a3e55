"""predq's benchmark: predq (polled, long-polled and with ``Prefer: wait``)
against a synchronous Flask app, a one-task-per-request Flask+Celery app and
the raw model ceiling, each system started as real processes on free ports
with its own Redis.

``python -m bench`` runs it (minutes); ``python -m bench --smoke`` checks it
end to end at tiny sizes (about a minute on a quiet machine).
"""
