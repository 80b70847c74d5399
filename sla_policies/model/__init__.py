"""The policy model: docs/domain.md's SLA as strict, frozen pydantic documents.

Every model forbids unknown keys and is frozen; field names are docs/domain.md's canonical
snake_case ids, so `windows.sdr_response.tier1.target` is the same path in the YAML, the
API, the database and every error message. One module per part of the document:

    calendars      business hours, timezones, holidays        §0, Q1, Q2, Q29
    scoring        signals, decay, thresholds                 §3.1, §3.5, Q8, Q9
    qualification  ACV tiers, criteria, disqualifiers         §3.2-§3.6
    leads          lead types, lead tiers, routing            §4, Q21, Q26
    windows        the SLA master table and ladders           §5, §11.1
    cadences       touch plans per lead tier                  §6
    codes          reason codes                               §7
    pipeline       SQL gate, opportunity hygiene              §8, §9
    recycling      suppression and re-MQL                     §10
    governance     pattern ladder, metrics, reviews, defaults §11.2-§14
    commitments    each side's commitments (volume, enrichment)   §12.3
    references     checks across parts (roles, ids, minimums)
    policy         the top-level Policy
"""

from sla_policies.model.base import (
    ACV_TIER_IDS,
    ActionTier,
    AcvTierId,
    Band,
    Clock,
    ClockTime,
    PathTarget,
    Problems,
    StageId,
    Strict,
    Weekday,
)
from sla_policies.model.cadences import Cadence, CadenceFloor, Channel, OnExhausted, Touch
from sla_policies.model.calendars import BusinessCalendarSpec, Calendars
from sla_policies.model.codes import CODE_SETS, ReasonCode, ReasonCodes
from sla_policies.model.commitments import Commitments, VolumeTarget
from sla_policies.model.governance import Defaults, Metric, PatternLevel, Review, Side, Signoff, Status, TrackedMetric
from sla_policies.model.leads import LeadTierSpec, LeadTypeSpec, Routing
from sla_policies.model.pipeline import OppAlert, Opportunity, OppStage, SqlGate
from sla_policies.model.policy import CrossReferenceErrors, Policy
from sla_policies.model.qualification import AcvTier, CommitteeEngaged, Criterion, Disqualifier, Qualification
from sla_policies.model.recycling import RecycleScenario, Recycling
from sla_policies.model.references import cross_reference_problems
from sla_policies.model.scoring import DecayStep, Scoring, Signal
from sla_policies.model.windows import (
    AfterHoursRule,
    EscalationStep,
    RoutingWindows,
    SdrResponseWindows,
    Window,
    Windows,
)

__all__ = [
    "ACV_TIER_IDS", "AcvTier", "AcvTierId", "ActionTier", "AfterHoursRule", "Band", "BusinessCalendarSpec",
    "CODE_SETS", "Cadence", "Commitments", "Side", "TrackedMetric", "VolumeTarget",
    "CadenceFloor", "Calendars", "Channel", "Clock", "ClockTime", "CommitteeEngaged",
    "Criterion", "CrossReferenceErrors", "DecayStep", "Defaults", "Disqualifier", "EscalationStep",
    "LeadTierSpec", "LeadTypeSpec", "Metric", "OnExhausted", "OppAlert", "OppStage", "Opportunity", "PathTarget",
    "PatternLevel", "Policy", "Problems", "Qualification", "ReasonCode", "ReasonCodes", "RecycleScenario",
    "Recycling", "Review", "Routing", "RoutingWindows", "Scoring", "SdrResponseWindows", "Signal", "Signoff",
    "SqlGate", "StageId", "Status", "Strict", "Touch", "Weekday", "Window", "Windows", "cross_reference_problems",
]
