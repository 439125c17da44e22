"""`python -m muster_verify`: the same as the `muster-verify` command."""

from __future__ import annotations

from muster_verify.cli import main

raise SystemExit(main())
