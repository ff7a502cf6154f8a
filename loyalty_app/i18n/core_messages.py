"""Core UI vocabulary the app shell, forms and cockpit need from day one.

Marked here with ``N_`` so the extractor keeps them (with their translations) in the catalogs even
before a page uses them; pages still call ``t("Home")`` etc. with the same English text.
"""

from __future__ import annotations

from loyalty_app.domain.errors import N_

TAB_BAR = (N_("Home"), N_("Rewards"), N_("Card"), N_("Challenges"), N_("Profile"))

ACCOUNT_FORMS = (
    N_("Sign in"),
    N_("Sign up"),
    N_("Sign out"),
    N_("Email"),
    N_("Password"),
    N_("First name"),
    N_("Create account"),
    N_("Already a member? Sign in"),
    N_("New here? Create an account"),
    N_("Show password"),
    N_("Hide password"),
)

VALIDATION_ERRORS = (
    N_("Enter a valid email address."),
    N_("Password must be at least {min} characters."),
    N_("This email is already registered."),
    N_("Wrong email or password."),
    N_("Too many sign-in attempts. Try again in {minutes} minutes."),
    N_("Please sign in first."),
    N_("You are not allowed to do this."),
    N_("Something went wrong. Please try again."),
)

PROFILE = (N_("Language"), N_("Save"), N_("Saved"), N_("Name"), N_("Birthday"), N_("Time zone"))

COCKPIT = (
    N_("Hi, {name}"),
    N_("points"),
    N_("Available points"),
    N_("{points} points to {tier}"),
    N_("Points expiring soon"),
    N_("Your tier"),
    N_("Double points"),
    N_("Ends in {time}"),
    N_("No rewards yet"),
    N_("Offline"),
    N_("You are offline. Your member card still works."),
)

COMMON_ACTIONS = (N_("Cancel"), N_("Close"), N_("Back"))
