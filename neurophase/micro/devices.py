"""The Brian2 code-generation target and device of one simulation (runtime or C++ standalone).

Classes
-------
Brian2Device
    Context manager: ``with Brian2Device("cython", "cpp_standalone"): ... network.run(...)``.
"""

from __future__ import annotations

import tempfile

from neurophase.errors import ParameterError

__all__ = ["Brian2Device", "TARGETS", "DEVICES"]

#: Code-generation targets of the runtime device.
TARGETS = ("cython", "numpy")
#: Brian2 devices.
DEVICES = ("runtime", "cpp_standalone")
_TARGETS, _DEVICES = TARGETS, DEVICES


class Brian2Device:
    """Select the Brian2 code-generation target and device for one run, then restore them.

    ``device="cpp_standalone"`` builds the whole network as one C++ project in ``directory``
    (default a temporary folder, removed afterwards) when the run is called
    (``build_on_run=True``: exactly one ``run`` per use), so results must be read inside the
    ``with`` block; on exit Brian2 is back on the runtime device with the previous target.
    The run time of the compiled binary alone is :attr:`last_run_seconds`.

    >>> with Brian2Device("numpy", "runtime"):
    ...     pass
    """

    def __init__(self, target, device, directory=None):
        if target not in _TARGETS:
            raise ParameterError(f"target must be one of {', '.join(_TARGETS)}; got {target!r}.")
        if device not in _DEVICES:
            raise ParameterError(f"device must be one of {', '.join(_DEVICES)}; got {device!r}.")
        self.target, self.device, self.directory = target, device, directory

    def __enter__(self):
        from brian2 import get_device, prefs, set_device
        from brian2.devices.device import RuntimeDevice

        if not isinstance(get_device(), RuntimeDevice):
            raise ParameterError(
                f"Brian2 is on the {type(get_device()).__name__} device (set by other code); "
                "neurophase selects its device per run: call brian2.device.reinit() and "
                "brian2.set_device('runtime') first.")
        self._previous_target = prefs.codegen.target
        self._temporary = None
        if self.device == "runtime":
            prefs.codegen.target = self.target
        else:
            directory = self.directory
            if directory is None:
                self._temporary = tempfile.TemporaryDirectory(prefix="neurophase_standalone_")
                directory = self._temporary.name
            set_device("cpp_standalone", directory=directory, build_on_run=True, with_output=False)
        return self

    def __exit__(self, *exc_info):
        from brian2 import device, prefs
        from brian2.devices.device import reset_device

        if self.device == "cpp_standalone":
            device.reinit()
            reset_device("runtime")
            if self._temporary is not None:
                self._temporary.cleanup()
                self._temporary = None
        prefs.codegen.target = self._previous_target
        return False

    @property
    def standalone(self):
        """True on the C++ standalone device."""
        return self.device == "cpp_standalone"

    @property
    def last_run_seconds(self):
        """Run time of the standalone binary (None on the runtime device)."""
        if not self.standalone:
            return None
        from brian2 import device

        return float(device._last_run_time)
