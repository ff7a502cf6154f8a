"""The theme's colour maths: WCAG ratios, the pairs a theme produces, nearest passing colours,
dark mode, presets and validation of editor input (domain/theme.py, domain/theme_contrast.py)."""

from __future__ import annotations

import colorsys

import pytest

from loyalty_app.domain.errors import LoyaltyError
from loyalty_app.domain.theme import (
    FONT_STACKS,
    LIGHTNESS_STEP,
    PRESETS,
    RADIUS_MAX,
    Theme,
    mix,
    nearest_passing,
    normalize_hex,
    palette,
    validate_theme,
)
from loyalty_app.domain.theme_contrast import PAIRS, check_theme, contrast_ratio, failing, relative_luminance, suggest_fix


def _lightness(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hls(r, g, b)[1]


def _hue(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hls(r, g, b)[0]


# ------------------------------------------------------------------ WCAG maths


def test_known_ratios():
    assert relative_luminance("#ffffff") == pytest.approx(1.0)
    assert relative_luminance("#000") == pytest.approx(0.0)
    assert contrast_ratio("#000", "#fff") == pytest.approx(21.0)
    assert contrast_ratio("#fff", "#000") == pytest.approx(21.0)  # order does not matter
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#123456", "#123456") == pytest.approx(1.0)


def test_777_on_white_fails_aa_for_normal_text_and_reads_as_4_4_not_4_5():
    theme = Theme(background="#ffffff")
    # #777 as the page background under the fixed light text colour is not the case here; use
    # the on-accent pair: #777777 is a mid-tone where neither black nor white text reaches 4.5.
    checks = {c.key: c for c in check_theme(theme.with_changes(accent="#777777"), ("light",))}
    on_accent = checks["on_accent"]
    assert on_accent.foreground == "#ffffff" and on_accent.ratio == pytest.approx(4.48, abs=0.01)
    assert not on_accent.passes
    assert on_accent.ratio_text == "4.4"  # rounded down: never shown as a passing 4.5


# ------------------------------------------------------------------ nearest passing colour


def test_nearest_passing_moves_lightness_as_little_as_possible():
    found = nearest_passing("#777777", "#ffffff", 4.5)
    assert found is not None and found != "#777777"
    assert contrast_ratio(found, "#ffffff") >= 4.5
    assert _lightness(found) < _lightness("#777777")  # darker on white
    assert abs(_lightness(found) - _lightness("#777777")) <= 2 * LIGHTNESS_STEP + 1 / 255
    # One step less of a change does not pass (smallest change).
    r, g, b = (int(found[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, light, s = colorsys.rgb_to_hls(r, g, b)
    lighter = "#" + "".join(f"{round(c * 255):02x}" for c in colorsys.hls_to_rgb(h, light + LIGHTNESS_STEP, s))
    assert contrast_ratio(lighter, "#ffffff") < 4.5


def test_nearest_passing_keeps_the_hue_and_goes_lighter_on_dark_backgrounds():
    found = nearest_passing("#1f5f46", "#101418", 4.5)
    assert found is not None and contrast_ratio(found, "#101418") >= 4.5
    assert _lightness(found) > _lightness("#1f5f46")
    assert _hue(found) == pytest.approx(_hue("#1f5f46"), abs=0.02)


def test_nearest_passing_returns_the_colour_itself_when_it_passes_and_none_when_impossible():
    assert nearest_passing("#111111", "#ffffff", 4.5) == "#111111"
    assert nearest_passing("#777777", "#ffffff", 22) is None  # above the 21:1 maximum
    both = nearest_passing("#888888", ["#ffffff", "#f3f3f3"], 4.5)
    assert both is not None and min(contrast_ratio(both, "#ffffff"), contrast_ratio(both, "#f3f3f3")) >= 4.5


# ------------------------------------------------------------------ the pairs of a theme


def test_every_pair_is_checked_in_light_and_dark():
    checks = check_theme(Theme())
    assert len(checks) == 2 * len(PAIRS)
    assert {(c.mode, c.key) for c in checks} == {(m, p.key) for m in ("light", "dark") for p in PAIRS}
    assert {p.required for p in PAIRS} == {4.5, 3.0}  # normal text and large text
    assert not failing(Theme())


@pytest.mark.parametrize(
    "changes, key, field",
    [
        ({"background": "#333333"}, "text_background", "background"),  # dark page under dark text
        ({"background": "#9aa0a6"}, "muted_background", "background"),
        ({"accent": "#777777"}, "on_accent", "accent"),  # neither black nor white reads on it
        ({"primary": "#7fb3a0"}, "primary_surface", "primary"),  # light green links on white cards
        ({"primary": "#787878"}, "on_primary", "primary"),
    ],
)
def test_a_failing_pair_is_flagged_with_a_suggestion_that_fixes_it(changes, key, field):
    theme = Theme().with_changes(**changes)
    bad = [c for c in failing(theme, ("light",)) if c.key == key]
    assert bad, f"{key} should fail for {changes}"
    check = bad[0]
    assert check.field == field and check.ratio < check.required
    suggestion = suggest_fix(theme, check)
    assert suggestion is not None and normalize_hex(suggestion) == suggestion
    fixed = theme.with_changes(**{field: suggestion})
    assert key not in {c.key for c in failing(fixed, ("light",))}
    assert abs(_hue(suggestion) - _hue(changes[field])) < 0.02 or _lightness(changes[field]) in (0, 1)


def test_suggestion_is_none_for_a_passing_pair():
    check = next(c for c in check_theme(Theme()) if c.key == "on_primary")
    assert check.passes and suggest_fix(Theme(), check) is None


def test_dark_mode_derives_dark_surfaces_and_a_readable_primary():
    theme = Theme(primary="#1f5f46", mode="dark")
    dark = palette(theme)
    assert dark.mode == "dark"
    assert relative_luminance(dark.background) < 0.03 and relative_luminance(dark.surface) < 0.05
    assert dark.primary != "#1f5f46"  # too dark to read on a dark page: lightened, same hue
    assert _hue(dark.primary) == pytest.approx(_hue("#1f5f46"), abs=0.02)
    assert contrast_ratio(dark.primary, dark.surface) >= 4.5 and contrast_ratio(dark.primary, dark.background) >= 4.5
    assert dark.shade == "#ffffff"  # dark text on the primary: gradients fade to white, not black
    assert not failing(theme, ("dark",))
    light = palette(theme, "light")
    assert light.primary == "#1f5f46" and light.shade == "#000000" and light.hero_end == mix("#1f5f46", "#000000", 0.7)


def test_presets_pass_every_check_of_their_own_mode():
    assert 4 <= len(PRESETS) <= 6
    for preset in PRESETS:
        theme = preset.apply(Theme(brand_name="Keep me"))
        assert theme.brand_name == "Keep me"
        assert not failing(theme, (preset.mode,)), preset.key


# ------------------------------------------------------------------ CSS output


def test_css_vars_follow_the_mode_and_never_carry_unsafe_values():
    light = Theme(primary="#1f5f46", font="Nunito").css_vars()
    assert light["--brand-primary"] == "#1f5f46" and light["--surface"] == "#ffffff" and light["color-scheme"] == "light"
    assert light["--brand-font"] == FONT_STACKS["Nunito"]
    dark = Theme(primary="#1f5f46", mode="dark").css_vars()
    assert dark["color-scheme"] == "dark" and dark["--text"] == "#eef0f3"
    assert dark["--brand-light-primary"] == "#1f5f46"  # the console stays light
    hostile = Theme(primary="red;}body{display:none", background="url(x)", font="x;}*{", radius="9;}", mode="<b>")
    values = hostile.css_vars()
    assert values["--brand-primary"] == Theme().primary and values["--brand-background"] == Theme().background
    assert values["--brand-font"] == FONT_STACKS["System"] and values["--brand-radius"] == "16px"
    assert values["color-scheme"] == "light"
    assert not any(ch in "".join(values.values()) for ch in "{};<>")


# ------------------------------------------------------------------ validation of editor input


def test_validation_normalises_good_input():
    theme = validate_theme(
        {
            "brand_name": "  Bean \n & Leaf ",
            "primary": "ABC",
            "accent": "#F2A33A",
            "background": "#faf6ef",
            "radius": "12",
            "mode": "dark",
            "font": "Merriweather",
            "unknown": "ignored",
        }
    )
    assert theme == Theme(
        brand_name="Bean & Leaf",
        primary="#aabbcc",
        accent="#f2a33a",
        background="#faf6ef",
        radius=12,
        mode="dark",
        font="Merriweather",
    )


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"brand_name": "   "}, "theme_brand_name"),
        ({"brand_name": "x" * 25}, "theme_brand_name"),
        ({"primary": "red"}, "theme_colour"),
        ({"accent": "#12345g"}, "theme_colour"),
        ({"background": "#1234"}, "theme_colour"),
        ({"background": None}, "theme_colour"),
        ({"radius": RADIUS_MAX + 1}, "theme_radius"),
        ({"radius": -1}, "theme_radius"),
        ({"radius": "ten"}, "theme_radius"),
        ({"mode": "sepia"}, "theme_mode"),
        ({"font": "Comic Sans"}, "theme_font"),
    ],
)
def test_validation_refuses_bad_input_with_a_clear_message(fields, code):
    with pytest.raises(LoyaltyError) as info:
        validate_theme(fields, Theme())
    assert info.value.code == code
    assert info.value.message.endswith(".") and "{" not in str(info.value)  # English text, placeholders filled


def test_colour_errors_name_the_field():
    with pytest.raises(LoyaltyError) as info:
        validate_theme({"primary": "#1f5f46", "accent": "orange"})
    assert "accent" in info.value.message and info.value.params == {"field": "accent"}
