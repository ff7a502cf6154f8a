"""SQLModel tables. Importing this package registers every table on ``SQLModel.metadata``."""

from sqlmodel import SQLModel as _SQLModel

from loyalty_app.models.accounts import (  # noqa: F401
    Account,
    AuthSession,
    LoginAttempt,
    MediaBlob,
    Merchant,
    Role,
    SecurityEvent,
    StaffStore,
    Store,
)
from loyalty_app.models.analytics import AnalyticsDailyPoints, AnalyticsMemberPeriod, AnalyticsRollupState  # noqa: F401
from loyalty_app.models.append_only import install_listeners as _install_append_only
from loyalty_app.models.codes import UsedMemberCode  # noqa: F401
from loyalty_app.models.engagement import Submission, Survey, SurveyResponse  # noqa: F401
from loyalty_app.models.loyalty import (  # noqa: F401
    LedgerEntry,
    LotMovement,
    MemberBalance,
    PointLot,
    ProgramSettings,
)
from loyalty_app.models.meta import AppMeta  # noqa: F401
from loyalty_app.models.program import (  # noqa: F401
    Badge,
    Challenge,
    ChallengeProgress,
    Charity,
    Donation,
    EarningRule,
    InboxMessage,
    InboxThread,
    MemberActivity,
    MemberBadge,
    MemberTier,
    MemberTierChange,
    ProgramChange,
    ProgramRules,
    Quest,
    Referral,
    ReferralCode,
    Reward,
    RewardRating,
    Segment,
    Tier,
    Voucher,
)
from loyalty_app.models.theme import ThemeVersion  # noqa: F401
from loyalty_app.models.till import AdminAuditEntry, FraudFlag, LiveClient  # noqa: F401
from loyalty_app.models.webhooks import WebhookDelivery, WebhookEndpoint  # noqa: F401

_install_append_only(_SQLModel.metadata)
