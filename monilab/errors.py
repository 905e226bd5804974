"""User-facing errors: raised for a user's mistake, shown by the CLI as one readable line."""


class MonilabError(Exception):
    """A problem the user can fix (bad argument, bad file, bad data); never a bug.

    The CLI prints ``monilab: error: <message>`` and exits with status 2 instead of a traceback.
    """


class SchemaError(MonilabError):
    """Data does not fit a table contract; the message names the table, column and row."""
