"""Microscopic simulations in Brian2: every sweep is one network holding its whole grid.

Modules
-------
:mod:`~neurophase.micro.ising`
    The Ising channel membrane (all-to-all or 2-D lattice, heat-bath Glauber): one ensemble of
    N channels per (temperature, field, seed) grid point; ``simulate_membrane``.
:mod:`~neurophase.micro.neurone`
    Firing statistics of a neurone model over an input grid (one neurone per level, noise level
    and seed); ``firing_curve``.
:mod:`~neurophase.micro.protocols`
    Step, staircase, ramp and pulse protocols: drive expression and analysis windows.
:mod:`~neurophase.micro.network`
    Recurrently coupled populations (fixed in-degree, delta/current/conductance synapses, white
    noise or Poisson drive, ramps), one population per grid point of ONE network;
    ``simulate_populations``, ``measure_transfer``.
:mod:`~neurophase.micro.synaptic`
    Poisson conductance input (excitatory and inhibitory shot-noise conductances).
:mod:`~neurophase.micro.channels`
    Exact Markov channel-state counts from a model file's ``[channels]`` table;
    ``channel_noise_firing`` over (channel number x input x trial), ``voltage_clamp``.
:mod:`~neurophase.micro.binomial`
    An exact binomial sampler with per-call n and p as a Brian2 function (Cython, C++, numpy).
:mod:`~neurophase.micro.grid`
    Model parameters as grid dimensions (``param_<name>``) of one network.
:mod:`~neurophase.micro.modelfile`
    The TOML model-file format of ``models/`` and its checks; ``load_model``.
:mod:`~neurophase.micro.devices`
    The Brian2 target and device of one run (Cython/numpy runtime or C++ standalone), OpenMP
    threads and compiler flags of standalone builds.
:mod:`~neurophase.micro.build_cache`
    Compile once, run many: C++ standalone programs cached per network structure and run with
    new input values, durations and seeds (``standalone_program``).
:mod:`~neurophase.micro.commands`
    The ``neurophase fi`` command.
"""
