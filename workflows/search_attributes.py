"""Custom search attributes, so managers can list leads in the Temporal UI and CLI too.

`temporal workflow list --query "HandoffStage='mql' AND HandoffBreached=true"`
"""

from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("HandoffStage")
TIER = SearchAttributeKey.for_int("HandoffTier")
OWNER = SearchAttributeKey.for_keyword("HandoffOwner")
POLICY_VERSION = SearchAttributeKey.for_keyword("HandoffPolicyVersion")
BREACHED = SearchAttributeKey.for_bool("HandoffBreached")

ALL = (STAGE, TIER, OWNER, POLICY_VERSION, BREACHED)
