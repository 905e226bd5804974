"""The exit statuses of ``monilab`` commands, documented in the README and distinct.

A QA pipeline gates a release on them, so each means one thing:

- ``OK`` (0): the command did what it claims and every check it was given held.
- ``THRESHOLDS_FAILED`` (1): the run completed, but a threshold (``--threshold``) or a
  regression limit (``monilab compare --fail-on-regression``) was not met, or could not be
  checked for lack of data.
- ``COULD_NOT_RUN`` (2): a user mistake, or the run did not happen as asked (no request sent,
  a worker that failed or never connected, a missing ledger part, a reconciliation that could
  not read the app back). One line on stderr says why.
- ``WRITES_LOST`` (3): acknowledged writes were missing, duplicated or unexpected when read
  back (wins over a failed threshold).
- ``INTERRUPTED`` (130): stopped by Ctrl-C or SIGTERM.
"""

from __future__ import annotations

OK = 0
THRESHOLDS_FAILED = 1
COULD_NOT_RUN = 2
WRITES_LOST = 3
INTERRUPTED = 130
