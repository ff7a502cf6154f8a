"""Profile page: /m/<slug>/profile — photo and cockpit background, language, details,
marketing consent per channel, "Download my data", sign out and deleting the account.

One module a part: ``state`` (ProfileState and its handlers), ``pictures`` (photo and
background), ``privacy`` (consent, data download, deleting the account), ``page`` (head,
language, details, sign-out and the assembly), ``widgets`` (the alert line they share). This
package exports what the app and the tests use.
"""

from loyalty_app.pages.profile.page import profile_page
from loyalty_app.pages.profile.state import ProfileState

__all__ = ["ProfileState", "profile_page"]
