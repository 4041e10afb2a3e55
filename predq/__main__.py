"""``python -m predq`` is the ``predq`` command."""
from predq.cli import main

raise SystemExit(main())
