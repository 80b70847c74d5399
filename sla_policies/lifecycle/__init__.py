"""The lead lifecycle as a pure core: `decide(state, input, now, policy, calendar)`.

Modules, one job each: `types` (inputs, effects, questions, the decision), `decide`
(the entry point), `context` (one decision in progress), `table` and `guards` (the
policy's transition table and its named guards), `intake` (scoring, routing,
suppression), `dispositions` (what people do), `due` (instants that came due),
`clocks` (SLA clocks and cadences), `paths` (where a reason code sends a lead),
`owners` (assignments), `opportunity` (§9 hygiene), `migration` (§13), `calendar`
(Q1/Q2 and the calendar snapshot).
"""

from sla_policies.lifecycle.decide import arrival_instant, decide, is_over, new_lead
from sla_policies.lifecycle.types import Decision

__all__ = ["Decision", "arrival_instant", "decide", "is_over", "new_lead"]
