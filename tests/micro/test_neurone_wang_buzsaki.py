"""Wang-Buzsaki 1996: a class-1 neurone with a continuous square-root onset.

Near a saddle-node on invariant circle the rate is f ~ (I - I_c)^(1/2) (Ermentrout 1996,
Neural Comput. 8:979, Eq. 2.3; Ermentrout & Kopell 1986); Wang & Buzsaki (1996),
J. Neurosci. 16:6402, Fig. 1C show the continuous onset near I_c ~ 0.16 uA/cm2.
"""

import numpy as np
import pytest
from brian2 import cm, second, uA

from neurophase.mapping.fi_curve import onset_exponent, onset_type, rheobase
from neurophase.micro.neurone import firing_curve

pytestmark = [pytest.mark.brian2, pytest.mark.slow]
DENSITY = uA / cm**2


def test_continuous_onset_with_exponent_one_half():
    levels = np.round(np.arange(0.10, 0.301, 0.01), 6)
    dataset = firing_curve("wang_buzsaki_1996", levels * DENSITY, duration=3 * second)
    assert onset_type(dataset).kind == "continuous"
    found = rheobase(dataset)
    assert 0.14 <= float(found.low / DENSITY) and float(found.high / DENSITY) <= 0.19
    # fit within 0.1 uA/cm2 of onset, where the normal form holds
    fit = onset_exponent(dataset, fit_width=0.1, n_bootstrap=100)
    assert fit.exponent == pytest.approx(0.5, abs=0.1)
    assert fit.exponent_interval[0] - 0.1 <= 0.5 <= fit.exponent_interval[1] + 0.1
    assert float(fit.critical_input / DENSITY) == pytest.approx(0.165, abs=0.01)
