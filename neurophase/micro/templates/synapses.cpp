{# On-pre/on-post code of a synaptic pathway whose synapses are partitioned by target.

Brian2's own template runs a pathway that writes a neurone variable (v_post += w) on the master
OpenMP thread only, because two threads could add to the same neurone at once. When the synapses
are ordered by target and no target has synapses in two threads' parts of the spike queue (Brian2
gives thread k the synapse indices k*(n/T) ... (k+1)*(n/T) - 1; neurophase.micro.network checks
the condition on the connectivity before choosing this template), each thread can run the
synapses of its own queue part: every neurone is written by one thread only, and its inputs are
added in the same order as on the master thread, so the results are the same to the bit. #}
{% extends 'common_synapses.cpp' %}

{% block maincode %}
    // used by the debug message of the original template
    {# USES_VARIABLES { _synaptic_pre } #}

    // scalar code
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    {{ openmp_pragma('parallel') }}
    {
    // this thread's part of the spike queue: its targets are written by no other thread
    std::vector<int32_t> *_own_synapses = {{pathway.name}}.queue[{{ openmp_pragma('get_thread_num') }}]->peek();
    const int _num_own_synapses = _own_synapses->size();
    for(int _own_idx=0; _own_idx<_num_own_synapses; _own_idx++)
    {
        const size_t _idx = (*_own_synapses)[_own_idx];
        const size_t _vectorisation_idx = _idx;
        {{vector_code|autoindent}}
    }
    }
{% endblock %}
