"""Which build recorded each set of histories: the git commit whose workflow code wrote
them. Leads are pinned to the build they started on (Worker Versioning), so a build's
histories must keep replaying on THAT build's code for as long as its workers run, even
after the workflow code here has moved on. tests/test_replay_builds.py checks it.

Add a row when a workflow change ships as a new build: move the histories it recorded into
their folder, name the commit, then re-record today's."""

from __future__ import annotations

# folder under tests/histories/ -> the commit of the build that recorded it
BUILDS = {
    # Recorded before Worker Versioning, by the workflow code of this commit (the first
    # lifecycle). Until the lifecycle rewrite moves them to v1/, they lie in tests/histories/.
    "v1": "785a2c8bd85b2e00c29b5aeebc064c6a060995ae",
    # The lifecycle core (recorded by a261b87; this is the build that shipped them, stop 18).
    "v2": "1dfd89df334d0f3a1a33c915dd6d305aed5d69e3",
    # Notifications with the projection batches, routing by activity (the last build that
    # shipped them, stop 22): a lead routed by this build's workers keeps replaying here.
    "v3": "3129e97ae895c7bd141f8070e3d4f134dc49f372",
    # Intake, SLA instants and signals in their own workflow task (patch in-the-task); an
    # Update's changes still by activity (the last build that shipped them, stop 23).
    "v4": "6042099e4071612990dd13dd30be0d252ead1266",
    # Every patch asked with a marker (and the SDK's TemporalChangeVersion upsert) by each
    # new run; SLA timers aimed at the instant from the task that set them (the last build
    # that shipped them, session 12). Runs from before shell revision 1.
    "v5": "f9ea2dd7c1637a75ad76d0cba79f6b3d59388c9d",
}
