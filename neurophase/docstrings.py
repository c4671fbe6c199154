"""Numpydoc entries written once and filled into the docstrings that share them.

Many functions take the same arguments (``seed``, ``target``, ``device`` of every measurement; the
``X, t`` of every method of a learning unit). Their documentation is written once here, or once
per module, and a docstring names it on a line of its own::

    from neurophase.docstrings import template

    _doc = template(X='''X : array_like
        Inputs, shape ``(n_samples, n_features)`` (reduced units).''')

    @_doc
    def score(X, t):
        '''Fraction of correct labels.

        Parameters
        ----------
        %(X)s
        %(measurement_seed)s
        '''

A line whose only content is ``%(name)s`` is replaced by the entry, every line of it indented as
the placeholder line was; nothing else in the docstring is touched (a ``%`` or a brace elsewhere is
text). An unknown name raises ``KeyError`` at import, so a typo cannot ship. This is the idea of
SciPy's ``scipy._lib.doccer`` and Matplotlib's ``_docstring`` module, cut down to whole lines. The
filled docstring is what ``help()``, Sphinx and ``inspect.getdoc`` see.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import TypeVar

__all__ = ["COMMON", "fill", "template"]

T = TypeVar("T")

#: Entries shared across the package (each starts with its ``name : type`` line).
COMMON: dict[str, str] = {
    # -- shared by every package -----------------------------------------------------------
    "model": """model : Model
    A loaded model (:func:`neurophase.micro.modelfile.load_model`).""",
    "target": """target : str, optional
    Brian2 code-generation target ("cython" or "numpy").""",
    "device": """device : str, optional
    Brian2 device ("runtime" or "cpp_standalone").""",

    # -- numerics: micro, mapping, meanfield, neurons, statistics (add entries below) -------


    # -- end of numerics ---------------------------------------------------------------------

    # -- measurements, fitting, recordings, figures, commands (add entries below) -----------
    "measurement_seed": """seed : int, optional
    Seeds the Brian2 run(s) (consecutive runs use ``seed + 1``, ...); default 0.""",
    "measurement_seed_fits": """seed : int, optional
    Seeds the Brian2 runs (and the fits' resampling); default 0.""",
    "membrane_tau0": """tau0 : Quantity (time) or None, optional
    Glauber flip time of the membrane; default 1 ms.""",
    # whole sections, each with its title: the Returns header and type of a measure_* of
    # neurophase.check (its own description follows the placeholder, indented), and the
    # Parameters and Returns of the run function of every subcommand (neurophase.subcommands)
    "measurement_returns": """Returns
-------
(list of Verdict, dict of Dataset)""",
    "subcommand_run": """Parameters
----------
args : argparse.Namespace
    The parsed command line (the arguments its parser declared).

Returns
-------
int
    The exit status, 0 when done; errors the user can fix raise
    :class:`~neurophase.errors.NeurophaseError` instead (the command line prints them as one
    ``error:`` line, exit status 2) and nothing is written.""",

    # -- end of measurements -----------------------------------------------------------------
}

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)%\((?P<name>[A-Za-z_][A-Za-z0-9_]*)\)s[ \t]*$",
                          re.MULTILINE)


def fill(docstring: str | None, entries: dict[str, str]) -> str | None:
    """Replace every whole-line ``%(name)s`` of ``docstring`` by ``entries[name]``.

    Parameters
    ----------
    docstring : str or None
        The docstring (None under ``python -OO``, returned as it is).
    entries : dict of str to str
        Name to entry text; an entry's lines are indented as its placeholder line.

    Returns
    -------
    str or None
        The filled docstring.

    Raises
    ------
    KeyError
        A placeholder names no entry.
    """
    if docstring is None:
        return None

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in entries:
            raise KeyError(f"docstring placeholder %({name})s names no shared entry "
                           f"(known: {', '.join(sorted(entries))})")
        return textwrap.indent(textwrap.dedent(entries[name]).strip("\n"), match.group("indent"))

    return _PLACEHOLDER.sub(replace, docstring)


def template(**entries: str) -> Callable[[T], T]:
    """A decorator that fills :data:`COMMON` and ``entries`` into a function's or class's docstring.

    Parameters
    ----------
    **entries : str
        Entries of this module, by name (they shadow a :data:`COMMON` entry of the same name).

    Returns
    -------
    callable
        The decorator; it sets ``obj.__doc__`` and returns ``obj`` itself.
    """
    known = {**COMMON, **entries}

    def decorate(obj: T) -> T:
        obj.__doc__ = fill(obj.__doc__, known)
        return obj

    return decorate
