"""The Ising membrane on the C++ standalone device reproduces the Cython runtime exactly.

Brian2 seeds the same random-number generator on both devices and both run the same
generated update (heat-bath Glauber, summed variables, linked variables), so for the same seed
the order-parameter trajectories of a coupled membrane (J = 1, below and above T_c, with and
without a field) must be identical; double-precision arithmetic in the same order leaves no
room for a tolerance beyond rounding (1e-12). Run in a subprocess: a standalone build changes
Brian2's global device.
"""

import numpy as np
import pytest

from neurophase.testing import run_script_result

pytestmark = [pytest.mark.brian2, pytest.mark.slow, pytest.mark.standalone_only]

SCRIPT = """
import json
from brian2 import ms
from neurophase.micro.ising import simulate_membrane
result = {}
for model in ("ising_membrane", "ising_lattice"):
    for device in ("runtime", "cpp_standalone"):
        data = simulate_membrane([0.8, 1.5] if model == "ising_membrane" else [2.0, 2.5],
                                 [0.0, 0.2], trials=2, N=400, J=1.0, duration=100 * ms, seed=5,
                                 model=model, device=device, target="cython", threads=1)
        result[model + ":" + device] = {"M": data.order_parameter.values.tolist(),
                                        "device": data.attrs["brian2_device"],
                                        "target": data.attrs["brian2_target"]}
print("RESULT" + json.dumps(result))
"""


def test_cpp_standalone_reproduces_the_cython_runtime_trajectories():
    result = run_script_result(SCRIPT)
    for model in ("ising_membrane", "ising_lattice"):
        runtime = result[model + ":runtime"]
        standalone = result[model + ":cpp_standalone"]
        assert (runtime["device"], runtime["target"]) == ("runtime", "cython")
        assert (standalone["device"], standalone["target"]) == ("cpp_standalone", "cpp")
        runtime_m, standalone_m = np.array(runtime["M"]), np.array(standalone["M"])
        assert runtime_m.shape == (2, 2, 2, 200)
        # the trajectories move (not a frozen start), so equality is informative
        assert np.ptp(runtime_m, axis=-1).max() > 0.05
        np.testing.assert_allclose(standalone_m, runtime_m, rtol=0, atol=1e-12, err_msg=model)
