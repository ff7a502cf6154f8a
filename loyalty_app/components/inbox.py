"""What the member's inbox and the console's inbox both show: the topics a member writes
about and the states of a conversation, as message ids translated where they are shown."""

from __future__ import annotations

from loyalty_app.domain.errors import N_

TOPIC_LABELS = {"question": N_("Question"), "complaint": N_("Complaint"), "praise": N_("Praise")}
STATUS_LABELS = {"open": N_("Waiting for an answer"), "answered": N_("Answered"), "closed": N_("Closed")}
