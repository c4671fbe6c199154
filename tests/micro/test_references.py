"""The model references of neurophase.micro.references against published values and direct integrations.

- Hodgkin-Huxley 1952 Hopf point 9.78 uA/cm2 (J. Rinzel & R. N. Miller 1980, Math. Biosci. 49:27).
- The slow-passage overshoot of an up-staircase past a Hopf point (S. M. Baer, T. Erneux & J. Rinzel
  1989, SIAM J. Appl. Math. 49:55): the bound of hopf_slow_passage is checked against a direct scipy
  integration of the same staircase, which must escape inside (I_H, I_H + overshoot].
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from neurophase.micro.references import hodgkin_huxley_1952_field, hopf_slow_passage, morris_lecar_field


def test_hodgkin_huxley_hopf_point_is_rinzel_and_millers():
    field, rest = hodgkin_huxley_1952_field()
    passage = hopf_slow_passage(field, rest, np.arange(0.0, 12.0, 0.25), dwell=200.0, step=0.25)
    # published to two decimals: +-0.01
    assert passage["hopf_current"] == pytest.approx(9.78, abs=0.01)
    # the rest state oscillates near 90 Hz at the Hopf point (the HH subthreshold resonance, period ~ 11 ms)
    assert 60.0 < passage["frequency"] < 130.0


@pytest.mark.slow
def test_staircase_escape_lies_within_the_slow_passage_overshoot():
    field, rest = hodgkin_huxley_1952_field()
    step, dwell = 0.25, 200.0
    levels = np.arange(8.0, 12.001, step)
    passage = hopf_slow_passage(field, rest, np.arange(0.0, 12.0, 0.25), dwell=dwell, step=step)
    from scipy.optimize import fsolve

    state = rest
    for current in np.linspace(0.0, levels[0], 33):  # follow the rest state up to the first level
        state = fsolve(lambda x: field(x, current), state, xtol=1e-12)
    escaped = None
    # start at rest of the first level, then the staircase, integrated with LSODA (rtol 1e-8)
    for current in levels:
        solution = solve_ivp(lambda t, y: field(y, current), (0.0, dwell), state, method="LSODA",
                             rtol=1e-8, atol=1e-10, max_step=0.5)
        state = solution.y[:, -1]
        if np.max(solution.y[0]) > -30.0:
            escaped = float(current)
            break
    assert escaped is not None
    assert passage["hopf_current"] < escaped <= passage["hopf_current"] + passage["overshoot"] + 1e-9


def test_morris_lecar_field_has_the_module_hopf_point():
    from neurophase.micro.references import morris_lecar_hopf_current

    field, rest = morris_lecar_field("morris_lecar_class2")
    passage = hopf_slow_passage(field, rest, np.arange(60.0, 104.0, 1.0), dwell=1000.0, step=1.0)
    assert passage["hopf_current"] == pytest.approx(morris_lecar_hopf_current("morris_lecar_class2"), abs=1e-3)
