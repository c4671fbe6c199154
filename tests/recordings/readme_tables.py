"""Values transcribed from the shared recordings' README (../shared/data/ephys/README.md).

"n peaks" per test step (scipy.signal.find_peaks(v, height=-20, prominence=20, distance=1 ms)
inside the step window) and the baseline potential Vbase (median before the first step), as
published there; they were not produced by neurophase.
"""

#: file -> (sweep amplitudes in pA, n peaks of step 1, n peaks of step 2 or None, Vbase in mV)
ABF_TABLES = {
    "171116sh_0018.abf": (
        [-100, -75, -50, -25, 0, 25, 50, 75, 100, 125, 150, 175, 200, 225, 250, 275, 300],
        [0, 0, 0, 0, 0, 0, 1, 1, 3, 4, 5, 6, 6, 7, 8, 8, 9],
        [0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 6, 7, 8, 8, 9],
        [-62.3, -61.8, -61.8, -61.7, -61.8, -62.0, -61.7, -61.9, -61.8, -62.2, -62.0, -62.3, -62.4, -61.5,
         -62.7, -62.8, -62.8],
    ),
    "171116sh_0019.abf": (
        [-100, 0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200, 1300, 1400, 1500, 1600,
         1700, 1800, 1900, 2000],
        [0, 0, 3, 6, 9, 11, 13, 14, 15, 15, 15, 16, 15, 14, 14, 13, 2, 2, 2, 1, 1, 1],
        [0, 0, 2, 6, 9, 11, 12, 14, 14, 15, 15, 15, 14, 14, 14, 11, 11, 2, 2, 1, 1, 1],
        [-62.5, -61.6, -62.2, -62.5, -62.8, -63.2, -63.8, -63.4, -64.8, -63.6, -65.2, -65.6, -66.1, -64.9,
         -66.4, -66.7, -66.2, -66.6, -65.7, -65.8, -66.2, -66.3],
    ),
    "18713001.abf": (
        list(range(0, 300, 10)),
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 6, 7, 7, 7, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 10, 9],
        None,
        [-64.3, -64.4, -64.5, -65.0, -65.1, -64.5, -64.6, -65.2, -65.0, -65.2, -64.9, -64.6, -65.0, -65.4,
         -65.5, -65.2, -65.7, -65.0, -65.4, -65.5, -65.6, -65.5, -65.3, -65.4, -65.3, -65.5, -65.2, -65.0,
         -65.0, -65.2],
    ),
}

#: B6 Igor sweeps: sweep number -> (current during the step pA, n peaks in 0.7-2.7 s, Vbase mV)
B6_TABLE = {
    181: (106.2, 26, -69.5),
    182: (162.5, 50, -69.7),
    183: (225.0, 68, -70.5),
    184: (284.4, 81, -70.8),
    185: (340.6, 89, -71.5),
}

#: Holding current of the B6 sweeps (pA) and their liquid junction potential (mV), README.
B6_HOLDING_CURRENT = -12.5
B6_LIQUID_JUNCTION_POTENTIAL = 14.0
