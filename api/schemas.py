"""HTTP bodies of the disposition endpoints: the command minus the actor, which comes
from the authenticated principal and never from the body."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from sla_policies.commands import Accept, Handoff, OpportunityUpdate, Reject, Reroute, Review, Touch
from sla_policies.lead import EngagementEvent


def _without_actor(command: type[BaseModel], name: str) -> type[BaseModel]:
    fields = {k: (v.annotation, v) for k, v in command.model_fields.items() if k != "actor"}
    from pydantic import create_model

    model: type[BaseModel] = create_model(name, __config__=ConfigDict(extra="forbid"), **fields)  # type: ignore[call-overload]
    return model


if TYPE_CHECKING:
    # Built at run time from the commands; a type checker only needs to know they are bodies.
    AcceptBody: TypeAlias = BaseModel
    DispositionBody: TypeAlias = BaseModel
    TouchBody: TypeAlias = BaseModel
    HandoffBody: TypeAlias = BaseModel
    OpportunityBody: TypeAlias = BaseModel
    ReviewBody: TypeAlias = BaseModel
    RerouteBody: TypeAlias = BaseModel
else:
    AcceptBody = _without_actor(Accept, "AcceptBody")
    DispositionBody = _without_actor(Reject, "DispositionBody")
    TouchBody = _without_actor(Touch, "TouchBody")
    HandoffBody = _without_actor(Handoff, "HandoffBody")
    OpportunityBody = _without_actor(OpportunityUpdate, "OpportunityBody")
    ReviewBody = _without_actor(Review, "ReviewBody")
    RerouteBody = _without_actor(Reroute, "RerouteBody")


class EventsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: Annotated[list[EngagementEvent], Field(min_length=1, max_length=500)]
