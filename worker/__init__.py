"""The Celery side of predq: the app, its configuration, job records and tasks."""
