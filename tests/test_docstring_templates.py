"""The shared docstring entries (neurophase.docstrings) fill whole lines only, with indentation."""

from __future__ import annotations

import pytest

from neurophase.docstrings import fill, template


def test_an_entry_is_indented_as_its_placeholder_line() -> None:
    doc = "Title.\n\n    Parameters\n    ----------\n    %(x)s\n    y : int\n        Other.\n"
    filled = fill(doc, {"x": "x : float\n    The value, in mV."})
    assert filled == ("Title.\n\n    Parameters\n    ----------\n    x : float\n"
                      "        The value, in mV.\n    y : int\n        Other.\n")


def test_only_whole_line_placeholders_are_filled() -> None:
    doc = "Share 50%(x)s of it and keep {braces} and %d.\n    %(x)s\n"
    assert fill(doc, {"x": "X"}) == "Share 50%(x)s of it and keep {braces} and %d.\n    X\n"


def test_an_unknown_name_fails_at_import_time() -> None:
    with pytest.raises(KeyError, match="names no shared entry"):
        @template()
        def f() -> None:
            """Doc.

            %(no_such_entry)s
            """


def test_module_entries_shadow_common_ones_and_none_passes() -> None:
    @template(device="device : str\n    Only runtime here.")
    def f() -> None:
        """Doc.

        %(device)s
        %(target)s
        """
    assert "Only runtime here." in f.__doc__
    assert 'Brian2 code-generation target ("cython" or "numpy").' in f.__doc__
    assert fill(None, {}) is None
