"""The Markov channel model on the C++ standalone device (in a subprocess: a standalone build
changes Brian2's global device).

The C++ build has its own implementation of the binomial sampler and its own random stream, so
results agree with the Cython runtime in law, not draw by draw. Checked: under voltage clamp the
stationary open-channel counts have the binomial mean and variance (|z| < 5, as in
test_channels_clamp), and the pulse firing probability at N_Na = 60 equals the Cython runtime's
(two-proportion |z| < 4.5).
"""

import numpy as np
import pytest

from neurophase.testing import hodgkin_huxley_1952_rate_tuple, run_script_result

pytestmark = [pytest.mark.brian2, pytest.mark.slow, pytest.mark.standalone_only]

SCRIPT = """
import json, numpy as np
from brian2 import uA, cm, ms, mV
from neurophase.micro.channels import channel_noise_firing, voltage_clamp
result = {}
for device in ("runtime", "cpp_standalone"):
    firing = channel_noise_firing(amplitudes=np.array([0.0, 40.0]) * uA / cm**2, channel_numbers=[60],
                                  seeds=2000, pulse_duration=0.5 * ms, duration=10 * ms,
                                  device=device, progress=False, seed=61)
    result[device] = {"p_fire": firing["p_fire"].values[0].tolist(),
                      "device": firing.attrs["brian2_device"]}
clamp = voltage_clamp("hodgkin_huxley_markov", np.array([-50.0]) * mV, 10 * ms, seeds=1000,
                      parameters={"N_Na": 1000}, dt=0.1 * ms, record_dt=10 * ms,
                      device="cpp_standalone", seed=62)
result["Na_open"] = clamp["Na_open"].values[0, :, -1].tolist()
result["K_open"] = clamp["K_open"].values[0, :, -1].tolist()
print("RESULT" + json.dumps(result))
"""


def test_markov_channels_on_cpp_standalone():
    result = run_script_result(SCRIPT)
    assert result["cpp_standalone"]["device"] == "cpp_standalone"
    for a, b in zip(result["runtime"]["p_fire"], result["cpp_standalone"]["p_fire"]):
        pooled = (a + b) / 2
        z = (a - b) / np.sqrt(pooled * (1 - pooled) * 2 / 2000)
        assert abs(z) < 4.5, (a, b, z)
    a_m, b_m, a_h, b_h, a_n, b_n = (float(rate) for rate in hodgkin_huxley_1952_rate_tuple(-50.0))
    m, h, n = a_m / (a_m + b_m), a_h / (a_h + b_h), a_n / (a_n + b_n)
    for name, p, total in (("Na_open", m**3 * h, 1000), ("K_open", n**4, 300)):
        counts = np.rint(np.array(result[name]) * total)
        z = (counts.mean() - total * p) / np.sqrt(total * p * (1 - p) / counts.size)
        variance = total * p * (1 - p)
        fourth = variance * (1 + 3 * (total - 2) * p * (1 - p))
        z_var = (counts.var(ddof=1) - variance) / np.sqrt((fourth - variance**2) / counts.size)
        assert abs(z) < 5 and abs(z_var) < 5, (name, z, z_var)
