"""The first checks of every neurophase TOML file (model files, experiment files).

:func:`read_tables` parses the text and checks its tables and their keys against what the file
kind allows, each error naming the file and the fix; :mod:`neurophase.micro.modelfile` and
:mod:`neurophase.experiments` then check the values. Imports :mod:`tomllib` alone.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

from neurophase.errors import NeurophaseError

__all__ = ["read_tables"]


def read_tables(text: str, where: str, allowed: Mapping[str, set[str] | None], error: type[NeurophaseError],
                unknown_table: str, table_hint: str = "a table", free_tables_are_tables: bool = True) -> dict[str, Any]:
    """The TOML ``text`` as a dict, its top-level names and their keys checked.

    Parameters
    ----------
    text : str
        The file's text.
    where : str
        The file, as errors name it (e.g. ``"model file models/hh.toml"``).
    allowed : mapping of str to set of str or None
        Top-level name -> the keys its table may hold; None: any keys (not checked here).
    error : type
        The :class:`~neurophase.errors.NeurophaseError` subclass raised.
    unknown_table : str
        Message for an unknown top-level name after ``"<where>: "``; ``{table}`` stands for it
        (``{table!r}`` quoted).
    table_hint : str, optional
        What a top-level name must be, in ``"[<name>] must be <table_hint>."``.
    free_tables_are_tables : bool, optional
        Whether a name whose keys are not checked (None) must be a table too; False lets it be
        anything else, e.g. an array of tables.

    Returns
    -------
    dict
        The parsed file.

    Raises
    ------
    NeurophaseError
        ``error``: invalid TOML, an unknown top-level name, a name that is not a table, or an
        unknown key.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise error(f"{where} is not valid TOML: {problem}. Fix the syntax.") from problem
    for table, content in data.items():
        if table not in allowed:
            raise error(f"{where}: " + unknown_table.format(table=table))
        keys = allowed[table]
        if not isinstance(content, dict) and (keys is not None or free_tables_are_tables):
            raise error(f"{where}: [{table}] must be {table_hint}.")
        if keys is not None:
            unknown = sorted(set(content) - keys)
            if unknown:
                raise error(f"{where}: unknown key(s) {', '.join(unknown)} in [{table}]. Allowed keys: "
                            f"{', '.join(sorted(keys))}.")
    return data
