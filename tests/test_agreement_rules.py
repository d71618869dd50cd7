"""The drafting rules (agreements/rules.py) and the legal-basis library (agreements/legal.py).

Pure functions over plain facts: no database. Expected results are written out here, not
derived from the module under test.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import date, timedelta

import pytest

from agreements import legal, rules
from agreements.facts import (
    ANONYMISED,
    ARTICLE_6,
    ARTICLE_9,
    COMPLETED,
    CRIMINAL,
    IN_PROGRESS,
    JOINT_CONTROLLER,
    NOT_STARTED,
    PERSONAL,
    PROCESSOR,
    PSEUDONYMISED,
    RECIPIENT,
    RIGHTS,
    SECTION_KEYS,
    SECTIONS,
    SOLE_CONTROLLER,
    SPECIAL,
    AgreementFacts,
    Party,
)
from agreements.templates_content import DEFAULT_SECTIONS, PLACEHOLDERS

Y, N = True, False

# ICO: how the lawful basis affects each right (automated decision-making where there is
# some), then the requests for information under FOIA / EIR. Columns in this order:
RIGHT_KEYS = (
    "informed",
    "access",
    "rectification",
    "erasure",
    "restriction",
    "notification",
    "portability",
    "objection",
    "automated",
    "withdraw_consent",
    "foi_eir",
)
EXPECTED_RIGHTS = {
    #      inf acc rec era res not por obj aut wdr foi
    "a": (Y, Y, Y, Y, Y, Y, Y, N, Y, Y, Y),  # consent
    "b": (Y, Y, Y, Y, Y, Y, Y, N, Y, N, Y),  # contract
    "c": (Y, Y, Y, N, Y, Y, N, N, Y, N, Y),  # legal obligation
    "d": (Y, Y, Y, Y, Y, Y, N, N, Y, N, Y),  # vital interests
    "e": (Y, Y, Y, N, Y, Y, N, Y, Y, N, Y),  # public task
    "f": (Y, Y, Y, Y, Y, Y, N, Y, Y, N, Y),  # legitimate interests
}
# How the rights page and the rights table name each right.
RIGHT_TITLES = {
    "informed": "Articles 13 and 14 Right to be informed",
    "access": "Article 15 Right of access",
    "rectification": "Article 16 Right to rectification",
    "erasure": "Article 17 Right to erasure",
    "restriction": "Article 18 Right to restrict processing",
    "notification": "Article 19 Notification of rectification, erasure or restriction",
    "portability": "Article 20 Right to data portability",
    "objection": "Article 21 Right to object",
    "automated": "Article 22 Rights related to automated decision-making",
    "withdraw_consent": "Article 7(3) Right to withdraw consent",
    "foi_eir": "Requests under the Freedom of Information Act 2000 or the Environmental "
    "Information Regulations 2004",
}
BASIS_LABELS = {
    "a": "6(1)(a) Consent",
    "b": "6(1)(b) Contract",
    "c": "6(1)(c) Legal obligation",
    "d": "6(1)(d) Vital interests",
    "e": "6(1)(e) Public task",
    "f": "6(1)(f) Legitimate interests",
}


def expected(letter: str, right: str) -> bool:
    return EXPECTED_RIGHTS[letter][RIGHT_KEYS.index(right)]


def outcome(outcomes: list[rules.RightOutcome], right: str) -> rules.RightOutcome:
    (found,) = [o for o in outcomes if o.key == right]
    return found


# ---------------------------------------------------------------------------- rights by basis


def test_the_rights_table_covers_every_basis_and_right():
    assert tuple(key for key, _ in RIGHTS) == RIGHT_KEYS
    assert set(EXPECTED_RIGHTS) == set(ARTICLE_6)
    assert set(rules.RIGHTS_BY_BASIS) == set(ARTICLE_6)
    for letter in ARTICLE_6:
        assert tuple(rules.RIGHTS_BY_BASIS[letter]) == RIGHT_KEYS


@pytest.mark.parametrize(("letter", "right"), list(itertools.product(ARTICLE_6, RIGHT_KEYS)))
def test_each_basis_against_each_right(letter, right):
    applies, reason = rules.RIGHTS_BY_BASIS[letter][right]
    assert applies is expected(letter, right)
    assert reason.strip()

    found = outcome(rules.rights_for([letter], automated_decisions=True), right)
    assert found.applies is expected(letter, right)
    assert found.label == dict(RIGHTS)[right]
    assert found.title == RIGHT_TITLES[right]
    assert found.reasons == (f"{BASIS_LABELS[letter]}: {reason}",)


@pytest.mark.parametrize(("letter", "right"), list(itertools.product(ARTICLE_6, RIGHT_KEYS)))
def test_without_automated_decisions_only_article_22_changes(letter, right):
    found = outcome(rules.rights_for([letter]), right)
    if right == "automated":
        assert found.applies is False
        assert found.reasons == (
            "No automated decision-making is described: Article 22 arises only where a "
            "decision with legal or similarly significant effects on someone is made by "
            "automated means alone, so describe any such decision for it to apply.",
        )
    else:
        assert found == outcome(rules.rights_for([letter], automated_decisions=True), right)


def test_public_task_suggests_no_automated_decision_rights_unless_some_are_described():
    public_task = {o.key for o in rules.rights_for(["e"]) if o.applies}
    assert public_task == {
        "informed",
        "access",
        "rectification",
        "restriction",
        "notification",
        "objection",
        "foi_eir",
    }
    described = {o.key for o in rules.rights_for(["e"], automated_decisions=True) if o.applies}
    assert described == public_task | {"automated"}


def test_each_right_is_titled_with_its_article():
    assert legal.RIGHT_TITLES == RIGHT_TITLES
    assert set(legal.RIGHT_PROVISIONS) == set(RIGHT_KEYS)


def test_rights_come_back_in_the_order_of_the_rights_list():
    assert [o.key for o in rules.rights_for("e")] == list(RIGHT_KEYS)


@pytest.mark.parametrize(
    ("letter", "right", "words"),
    [
        ("a", "objection", "withdraws consent"),
        ("c", "erasure", "law requires"),
        ("e", "erasure", "public task"),
        ("c", "portability", "consent or contract"),
        ("b", "objection", "direct marketing"),
        ("f", "objection", "direct marketing"),
    ],
)
def test_reasons_say_why(letter, right, words):
    assert words in outcome(rules.rights_for([letter]), right).reasons[0]


def test_no_basis_means_no_right_is_known_yet():
    outcomes = rules.rights_for([])
    assert [o.key for o in outcomes] == list(RIGHT_KEYS)
    for found in outcomes:
        assert found.applies is False
        assert found.reasons == ("Choose the Article 6 basis first",)


def test_an_unknown_basis_is_refused():
    with pytest.raises(ValueError, match="z"):
        rules.rights_for(["e", "z"])


def test_consent_plus_public_task():
    outcomes = rules.rights_for(frozenset({"e", "a"}))
    portability = outcome(outcomes, "portability")
    assert portability.applies
    assert portability.reasons == (
        f"6(1)(a) Consent: {rules.RIGHTS_BY_BASIS['a']['portability'][1]}",
    )
    objection = outcome(outcomes, "objection")
    assert objection.applies
    assert len(objection.reasons) == 1
    assert objection.reasons[0].startswith("6(1)(e) Public task: ")
    access = outcome(outcomes, "access")
    assert [r.split(":")[0] for r in access.reasons] == ["6(1)(a) Consent", "6(1)(e) Public task"]
    erasure = outcome(outcomes, "erasure")
    assert erasure.applies
    assert [r.split(":")[0] for r in erasure.reasons] == ["6(1)(a) Consent"]
    assert outcome(outcomes, "withdraw_consent").applies


def test_a_right_no_chosen_basis_gives_lists_every_basis():
    outcomes = rules.rights_for(["c", "e"])
    erasure = outcome(outcomes, "erasure")
    assert not erasure.applies
    assert [r.split(":")[0] for r in erasure.reasons] == [
        "6(1)(c) Legal obligation",
        "6(1)(e) Public task",
    ]


COMBINATIONS = [
    combo
    for size in range(2, len(ARTICLE_6) + 1)
    for combo in itertools.combinations(ARTICLE_6, size)
]


@pytest.mark.parametrize("combo", COMBINATIONS, ids="".join)
def test_a_right_applies_when_any_chosen_basis_gives_it(combo):
    assert not outcome(rules.rights_for(combo), "automated").applies
    for found in rules.rights_for(combo, automated_decisions=True):
        giving = [letter for letter in combo if expected(letter, found.key)]
        assert found.applies is bool(giving)
        deciding = giving or list(combo)
        assert [r.split(":")[0] for r in found.reasons] == [BASIS_LABELS[x] for x in deciding]


# ----------------------------------------------------------------------------- consistency

TODAY = date(2023, 3, 10)
ALL_COMPLETED = dict.fromkeys(SECTION_KEYS, COMPLETED)
# Every section written: the parties' own wording, no placeholder left.
TEXTS = {key: f"What the parties agree on: {title.lower()}." for key, title in SECTIONS}
OPTIONAL_TEXT = (
    "summary",
    "version_control",
    "supporting_documents",
    "information",
    "legal_basis",
    "transfers",
)


def contacts(name: str) -> dict[str, str]:
    """What a party's organisation record gives the summary sheet."""
    domain = name.lower().replace(" ", "-")
    return {
        "address": f"{name}, Market Road, Chelmsford CM1 1QH",
        "phone": "01632 960410",
        "email": f"data.protection@{domain}.example.org",
        "dpo_name": "Harriet Okafor",
    }


def party(name: str, role: str, public: bool) -> Party:
    return Party(name, role, public, **contacts(name))


COUNCIL = party("Essex County Council", JOINT_CONTROLLER, True)
PROVIDER = party("Essex Cares Ltd", JOINT_CONTROLLER, True)
CHARITY = party("Harbour Housing Trust", JOINT_CONTROLLER, False)
SURGERY = party("Riverside Surgery LLP", JOINT_CONTROLLER, False)
# The rights public task (6(1)(e)) gives, ticked on the rights page.
PUBLIC_TASK_RIGHTS = frozenset(
    {"informed", "access", "rectification", "restriction", "notification", "objection", "foi_eir"}
)

# Seed 002: a council and its care provider, joint controllers, public task + health or social
# care, health data, complete.
SEED = AgreementFacts(
    parties=(COUNCIL, PROVIDER),
    categories=frozenset({PERSONAL, SPECIAL}),
    article6=frozenset({"e"}),
    article9=frozenset({"h"}),
    schedule1_condition="2",
    joint_contact_point="Connect Programme, Adult Social Care, Essex County Council",
    retention_period="Each partner's published retention schedule; destroyed securely after.",
    dpia_reference="DPIA-2023-017",
    start_date=TODAY,
    review_date=date(2024, 3, 10),
    today=TODAY,
    partner_breach_hours=48,
    ico_breach_hours=72,
    section_states=ALL_COMPLETED,
    section_texts=TEXTS,
)


def test_the_seed_agreement_is_ready_for_signature():
    assert rules.check(SEED) == []
    assert rules.can_send_for_signature(SEED)


def test_free_text_schedule1_condition_is_accepted():
    facts = replace(SEED, schedule1_condition="Schedule 1 para 2")
    assert rules.check(facts) == []


def _case(code, section, severity, trigger, fix, *, base=SEED, case_id=None):
    return pytest.param(code, section, severity, trigger, fix, base, id=case_id or code)


PRIVATE = {"parties": (CHARITY, SURGERY)}
PERSONAL_ONLY = {
    "categories": frozenset({PERSONAL}),
    "article9": frozenset(),
    "schedule1_condition": "",
}

# (code, section, severity, what breaks the seed, what mends it again)
CASES = [
    _case(
        "too_few_parties",
        "summary",
        "blocking",
        {"parties": (COUNCIL,)},
        {"parties": (COUNCIL, PROVIDER)},
    ),
    _case(
        "too_few_parties",
        "summary",
        "blocking",
        {"parties": (), "joint_contact_point": ""},
        {"parties": (party("A", SOLE_CONTROLLER, True), party("B", RECIPIENT, False))},
        case_id="no_parties",
    ),
    _case(
        "party_contacts_missing",
        "summary",
        "blocking",
        {"parties": (COUNCIL, replace(PROVIDER, phone="", dpo_name=" "))},
        {"parties": (COUNCIL, PROVIDER)},
    ),
    _case(
        "party_contacts_missing",
        "summary",
        "blocking",
        {"parties": (replace(COUNCIL, email=""), PROVIDER)},
        {"parties": (replace(COUNCIL, email="dpo@essex.example.org"), PROVIDER)},
        case_id="party_without_a_confirmed_data_protection_email",
    ),
    _case(
        "party_contacts_missing",
        "summary",
        "blocking",
        {"parties": (COUNCIL, Party("Essex Cares Ltd", JOINT_CONTROLLER, True))},
        {"parties": (COUNCIL, PROVIDER)},
        case_id="party_with_no_contact_details",
    ),
    _case(
        "dpia_missing",
        "supporting_documents",
        "blocking",
        {"dpia_reference": " "},
        {"dpia_reference": "DPIA-9"},
        case_id="dpia_missing_special",
    ),
    _case(
        "dpia_missing",
        "supporting_documents",
        "blocking",
        {**PERSONAL_ONLY, "dpia_reference": "", "large_scale": True},
        {"dpia_reference": "DPIA-9"},
        case_id="dpia_missing_large_scale",
    ),
    _case(
        "dpia_missing",
        "supporting_documents",
        "blocking",
        {**PERSONAL_ONLY, "dpia_reference": "", "new_technology": True},
        {"new_technology": False},
        case_id="dpia_missing_new_technology",
    ),
    _case(
        "dpia_missing",
        "supporting_documents",
        "blocking",
        {"dpia_reference": ""},
        {"dpia_for_special_category": False},  # the template's policy switched off
        case_id="dpia_missing_special_unless_the_template_says_otherwise",
    ),
    _case(
        "common_law_duty_not_confirmed",
        "legal_basis",
        "warning",
        {"special_types": frozenset({"health"}), "common_law_basis": ""},
        {"common_law_basis": "consent"},
    ),
    _case(
        "common_law_duty_not_confirmed",
        "legal_basis",
        "warning",
        {"special_types": frozenset({"health"}), "common_law_basis": ""},
        {"common_law_basis": "not_confidential"},  # confirmed: none given in confidence
        case_id="common_law_duty_confirmed_not_to_apply",
    ),
    _case(
        "common_law_duty_not_confirmed",
        "legal_basis",
        "warning",
        {"special_types": frozenset({"health", "racial_ethnic"}), "common_law_basis": " "},
        {"special_types": frozenset({"racial_ethnic"})},
        case_id="common_law_duty_only_for_health_data",
    ),
    _case(
        "no_data_items",
        "information",
        "blocking",
        {**PERSONAL_ONLY, "categories": frozenset()},
        {"categories": frozenset({PERSONAL})},
    ),
    _case(
        "article6_missing",
        "legal_basis",
        "blocking",
        {"article6": frozenset()},
        {"article6": frozenset({"e"})},
    ),
    _case(
        "article6_missing",
        "legal_basis",
        "blocking",
        {**PERSONAL_ONLY, "categories": frozenset({PSEUDONYMISED}), "article6": frozenset()},
        {"categories": frozenset({ANONYMISED})},
        case_id="article6_missing_pseudonymised",
    ),
    _case(
        "article6_missing_part3",
        "legal_basis",
        "warning",
        {"article6": frozenset(), "law_enforcement": True},
        {"article6": frozenset({"e"})},
    ),
    _case(
        "special_without_article9",
        "legal_basis",
        "blocking",
        {"article9": frozenset()},
        {"article9": frozenset({"h"})},
    ),
    _case(
        "schedule1_missing",
        "legal_basis",
        "blocking",
        {"schedule1_condition": ""},
        {"schedule1_condition": "2"},
    ),
    _case(
        "schedule1_missing",
        "legal_basis",
        "blocking",
        {"article9": frozenset({"g"}), "schedule1_condition": ""},
        {"schedule1_condition": "18"},
        case_id="schedule1_missing_substantial_public_interest",
    ),
    _case(
        "schedule1_mismatch",
        "legal_basis",
        "warning",
        {"schedule1_condition": "18"},
        {"article9": frozenset({"g", "h"})},
    ),
    _case(
        "criminal_without_basis",
        "legal_basis",
        "blocking",
        {"categories": frozenset({PERSONAL, SPECIAL, CRIMINAL})},
        {"article10": True},
    ),
    _case(
        "criminal_without_basis",
        "legal_basis",
        "blocking",
        {"categories": frozenset({PERSONAL, SPECIAL, CRIMINAL})},
        {"law_enforcement": True},
        case_id="criminal_under_part3",
    ),
    _case(
        "consent_not_recorded",
        "legal_basis",
        "blocking",
        {"article6": frozenset({"a"})},
        {"consent_recording": "Signed consent form kept on the case record"},
    ),
    _case(
        "consent_not_recorded",
        "legal_basis",
        "blocking",
        {"article9": frozenset({"a"}), "schedule1_condition": ""},
        {"consent_recording": "Explicit consent recorded in the case notes"},
        case_id="explicit_consent_not_recorded",
    ),
    _case(
        "legitimate_interests_assessment_missing",
        "legal_basis",
        "blocking",
        {**PRIVATE, "article6": frozenset({"f"})},
        {"legitimate_interests_assessment": "LIA-2023-04"},
    ),
    _case(
        "legitimate_interests_public_authority",
        "legal_basis",
        "warning",
        {"article6": frozenset({"e", "f"}), "legitimate_interests_assessment": "LIA-1"},
        PRIVATE,
    ),
    _case(
        "joint_contact_point_missing",
        "responsibilities",
        "blocking",
        {"joint_contact_point": ""},
        {"joint_contact_point": "Information governance team, Essex County Council"},
    ),
    _case(
        "joint_contact_point_missing",
        "responsibilities",
        "blocking",
        {"joint_contact_point": ""},
        {
            "parties": (
                replace(COUNCIL, role=SOLE_CONTROLLER),
                replace(PROVIDER, role=RECIPIENT),
            )
        },
        case_id="no_joint_controllers_no_contact_point",
    ),
    _case(
        "processor_contract_missing",
        "responsibilities",
        "blocking",
        {"parties": (COUNCIL, PROVIDER, party("Acme Hosting Ltd", PROCESSOR, False))},
        {"processor_contract": "Contract ECC-IT-118"},
    ),
    _case(
        "right_unticked_without_reason",
        "rights",
        "blocking",
        {"rights": PUBLIC_TASK_RIGHTS - {"objection"}},
        {
            "rights_reasons": {
                "objection": "Only statistics leave the review, so no one's data "
                "is processed further."
            }
        },
    ),
    _case(
        "right_unticked_without_reason",
        "rights",
        "blocking",
        {"rights": PUBLIC_TASK_RIGHTS - {"objection"}, "rights_reasons": {"objection": " "}},
        {"rights": PUBLIC_TASK_RIGHTS},
        case_id="unticked_right_with_a_blank_reason_ticked_again",
    ),
    _case(
        "right_unticked_without_reason",
        "rights",
        "blocking",
        # Confirmed for legal obligation (6(1)(c)), which gives no right to object; the basis
        # is now public task, which does.
        {"rights": PUBLIC_TASK_RIGHTS - {"objection"}, "article6": frozenset({"e"})},
        {"article6": frozenset({"c"})},
        case_id="basis_changed_after_the_rights_were_confirmed",
    ),
    _case(
        "right_unticked_without_reason",
        "rights",
        "blocking",
        {
            "rights": PUBLIC_TASK_RIGHTS,
            "automated_decisions": "Eligibility for a care package is scored by a computer.",
        },
        {"rights": PUBLIC_TASK_RIGHTS | {"automated"}},
        case_id="automated_decisions_described",
    ),
    _case(
        "transfer_safeguard_missing",
        "transfers",
        "blocking",
        {"international_transfers": True},
        {"transfer_safeguard": "International Data Transfer Agreement"},
    ),
    _case(
        "retention_missing",
        "retention",
        "blocking",
        {"retention_period": "  "},
        {"retention_period": "Six years after the end of the service"},
    ),
    _case(
        "partner_breach_hours_missing",
        "breaches",
        "blocking",
        {"partner_breach_hours": None},
        {"partner_breach_hours": 24},
    ),
    _case(
        "ico_breach_hours_missing",
        "breaches",
        "blocking",
        {"ico_breach_hours": None},
        {"ico_breach_hours": 72},
    ),
    _case(
        "ico_breach_hours_too_long",
        "breaches",
        "blocking",
        {"ico_breach_hours": 73},
        {"ico_breach_hours": 72},
    ),
    _case(
        "partners_told_after_ico",
        "breaches",
        "warning",
        {"partner_breach_hours": 73, "ico_breach_hours": 72},
        {"partner_breach_hours": 72},
    ),
    _case(
        "review_date_missing",
        "commencement",
        "blocking",
        {"review_date": None},
        {"review_date": date(2023, 9, 10)},
    ),
    _case(
        "review_date_in_past",
        "commencement",
        "blocking",
        {"review_date": date(2020, 1, 1)},
        {"review_date": date(2024, 3, 10)},
    ),
    _case(
        "review_date_in_past",
        "commencement",
        "blocking",
        {"review_date": date(2023, 3, 9), "start_date": None},
        {"review_date": TODAY},  # today itself is not in the past
        case_id="review_date_yesterday",
    ),
    _case(
        "review_date_before_start",
        "commencement",
        "blocking",
        {"start_date": date(2023, 6, 1), "review_date": date(2023, 5, 1)},
        {"review_date": date(2023, 6, 2)},
    ),
    _case(
        "review_date_before_start",
        "commencement",
        "blocking",
        {"review_date": TODAY},
        {"review_date": date(2023, 3, 11)},
        case_id="review_date_on_the_start_date",
    ),
    _case(
        "review_date_too_far",
        "commencement",
        "blocking",
        {"review_date": date(2026, 3, 11)},
        {"review_date": date(2026, 3, 10)},  # exactly three years is fine
    ),
    _case(
        "review_date_too_far",
        "commencement",
        "blocking",
        {"start_date": date(2023, 6, 1), "review_date": date(2026, 6, 2)},
        {"review_date": date(2026, 6, 1)},
        case_id="review_date_too_far_after_a_later_start",
    ),
    _case(
        "section_text_missing",
        "purpose",
        "blocking",
        {"section_texts": {**TEXTS, "purpose": ""}},  # though marked as completed
        {"section_texts": TEXTS},
    ),
    _case(
        "section_text_missing",
        "breaches",
        "blocking",
        {"section_texts": {**TEXTS, "breaches": " \n\t"}},
        {"section_texts": TEXTS},
        case_id="section_text_only_spaces",
    ),
    _case(
        "section_text_missing",
        "approval",
        "blocking",
        {"section_texts": {k: v for k, v in TEXTS.items() if k != "approval"}},
        {"section_texts": TEXTS},
        case_id="section_text_absent",
    ),
    _case(
        "placeholder_left",
        "security",
        "blocking",
        {"section_texts": {**TEXTS, "security": "In transit by: *describe the transfer method*."}},
        {"section_texts": {**TEXTS, "security": "In transit by: secure e-mail."}},
    ),
    _case(
        "placeholder_left",
        "format_frequency",
        "blocking",
        {
            "section_texts": {
                **TEXTS,
                "format_frequency": "- Format: *how the information is shared*\n"
                "- Frequency: *How often it is shared*",
            }
        },
        {"section_texts": {**TEXTS, "format_frequency": "- Format: verbally\n- Frequency: once"}},
        case_id="placeholders_left_in_format_and_frequency",
    ),
    _case(
        "placeholder_left",
        "format_frequency",
        "blocking",
        {"section_texts": {**TEXTS, "format_frequency": "- Format: how the information is shared"}},
        {"section_texts": {**TEXTS, "format_frequency": "- Format: an extract file, monthly"}},
        case_id="placeholder_without_its_italics",
    ),
    _case(
        "placeholder_left",
        "summary",
        "blocking",
        {"section_texts": {**TEXTS, "summary": "Sharing _how often it is shared_."}},
        {"section_texts": {**TEXTS, "summary": ""}},  # an optional text may be empty
        case_id="placeholder_in_a_section_whose_text_is_optional",
    ),
    _case(
        "section_not_completed",
        "security",
        "blocking",
        {"section_states": {**ALL_COMPLETED, "security": IN_PROGRESS}},
        {"section_states": ALL_COMPLETED},
    ),
    _case(
        "section_not_completed",
        "approval",
        "blocking",
        {"section_states": {k: v for k, v in ALL_COMPLETED.items() if k != "approval"}},
        {"section_states": {**ALL_COMPLETED, "approval": COMPLETED}},
        case_id="section_missing_from_states",
    ),
]


@pytest.mark.parametrize(("code", "section", "severity", "trigger", "fix", "base"), CASES)
def test_each_rule_fires_alone_and_is_mended(code, section, severity, trigger, fix, base):
    broken = replace(base, **trigger)
    messages = rules.check(broken)
    assert [(m.code, m.section, m.severity) for m in messages] == [(code, section, severity)]
    assert f"‘{dict(SECTIONS)[section]}’" in messages[0].text
    assert rules.can_send_for_signature(broken) is (severity == "warning")

    mended = replace(broken, **fix)
    assert rules.check(mended) == []
    assert rules.can_send_for_signature(mended)


def test_every_rule_is_exercised_by_a_case():
    exercised = set()
    for param in CASES:
        _, _, _, trigger, _, base = param.values
        exercised |= {rule for rule in rules.RULES if rule(replace(base, **trigger))}
    assert exercised == set(rules.RULES)


@pytest.mark.parametrize(
    ("article9", "needs"),
    [
        ("a", False),
        ("b", True),
        ("c", False),
        ("d", False),
        ("e", False),
        ("f", False),
        ("g", True),
        ("h", True),
        ("i", True),
        ("j", True),
    ],
)
def test_which_article9_conditions_need_schedule1(article9, needs):
    facts = replace(
        SEED,
        article9=frozenset({article9}),
        schedule1_condition="",
        consent_recording="Explicit consent recorded in the case notes",
    )
    codes = [m.code for m in rules.check(facts)]
    assert codes == (["schedule1_missing"] if needs else [])
    assert bool(legal.needs_schedule1([article9])) is needs


def test_schedule1_message_names_the_paragraph():
    (message,) = rules.check(replace(SEED, schedule1_condition=""))
    assert "9(2)(h) Health or social care (paragraph 2)" in message.text


def test_part3_schedule1_condition_is_not_second_guessed():
    assert rules.check(replace(SEED, schedule1_condition="29")) == []


def test_the_dpia_for_special_category_data_is_said_to_be_the_partnerships_policy():
    (message,) = rules.check(replace(SEED, dpia_reference=""))
    assert message.text == (
        "Your partnership's template asks for a DPIA whenever special category data, such as "
        "health data, is shared: add the DPIA reference in ‘Supporting documents’."
    )


def test_a_dpia_the_law_asks_for_is_needed_whatever_the_template_says():
    facts = replace(SEED, dpia_reference="", large_scale=True, dpia_for_special_category=False)
    (message,) = rules.check(facts)
    assert message.text == (
        "The sharing is large-scale processing, so it needs a data protection impact "
        "assessment: add the DPIA reference in ‘Supporting documents’."
    )
    (message,) = rules.check(replace(facts, dpia_for_special_category=True))
    assert "and your partnership's template asks for a DPIA whenever special" in message.text


def test_the_common_law_duty_message_asks_to_confirm_or_choose_a_basis():
    facts = replace(SEED, special_types=frozenset({"health"}))
    (message,) = rules.check(facts)
    assert "confirm that it does not apply because none of it was given in confidence" in (
        message.text
    )
    assert "choose the basis for setting the duty aside" in message.text
    assert rules.can_send_for_signature(facts)


def test_no_special_category_data_needs_no_article9():
    assert rules.check(replace(SEED, **PERSONAL_ONLY, dpia_reference="")) == []


def test_anonymised_data_alone_needs_no_article6():
    facts = replace(
        SEED, **{**PERSONAL_ONLY, "categories": frozenset({ANONYMISED})}, article6=frozenset()
    )
    assert rules.check(facts) == []


def test_legitimate_interests_warning_names_the_public_authorities():
    facts = replace(SEED, article6=frozenset({"f"}), legitimate_interests_assessment="LIA-1")
    (message,) = rules.check(facts)
    assert message.text.startswith(
        "Essex County Council and Essex Cares Ltd are public authorities"
    )
    mixed = replace(facts, parties=(COUNCIL, CHARITY))
    (message,) = rules.check(mixed)
    assert message.text.startswith("Essex County Council is a public authority")


def test_joint_controller_message_names_them():
    (message,) = rules.check(replace(SEED, joint_contact_point=""))
    assert message.text.startswith("Essex County Council and Essex Cares Ltd are joint controllers")


def test_too_far_review_date_gives_the_latest_acceptable_date():
    (message,) = rules.check(replace(SEED, review_date=date(2027, 1, 1)))
    assert message.text == (
        "The review date, 1 January 2027, is more than 3 years after today, the longest the "
        "template allows: bring it forward to 10 March 2026 or earlier in ‘Commencement and "
        "review’."
    )
    later_start = replace(SEED, start_date=date(2023, 6, 1), review_date=date(2027, 1, 1))
    (message,) = rules.check(later_start)
    assert "3 years after the start date, 1 June 2023" in message.text
    assert "bring it forward to 1 June 2026 or earlier" in message.text


def test_the_review_maximum_is_the_templates():
    assert rules.MAX_REVIEW_YEARS == 3
    (commencement,) = [s for s in DEFAULT_SECTIONS if s.key == "commencement"]
    assert "never later than three years after the agreement comes into force" in (
        " ".join(commencement.guidance.split())
    )


def test_a_past_review_date_says_when_it_was_and_what_today_is():
    (message,) = rules.check(replace(SEED, review_date=date(2020, 1, 1)))
    assert message.text == (
        "The review date, 1 January 2020, is in the past: set a date from today, 10 March "
        "2023, onwards in ‘Commencement and review’."
    )
    assert message.is_blocking


def test_a_review_before_the_start_names_both_dates():
    facts = replace(SEED, start_date=date(2023, 9, 1), review_date=date(2023, 8, 1))
    (message,) = rules.check(facts)
    assert message.text.startswith(
        "The review date, 1 August 2023, is not after the start date, 1 September 2023: "
    )


def test_a_start_date_in_the_past_does_not_shorten_the_review_window():
    # A new version keeps its start date: the three years run from today.
    facts = replace(SEED, start_date=date(2021, 1, 1), review_date=date(2026, 3, 10))
    assert rules.check(facts) == []


# --------------------------------------------------------------------------- section texts


def test_sections_whose_text_is_optional_may_be_empty():
    texts = {**TEXTS, **dict.fromkeys(OPTIONAL_TEXT, "")}
    assert rules.check(replace(SEED, section_texts=texts)) == []


def test_an_empty_section_is_not_complete_whatever_its_tick():
    facts = replace(SEED, section_texts={**TEXTS, "purpose": ""})
    assert facts.section_states["purpose"] == COMPLETED
    (message,) = rules.check(facts)
    assert message.text == (
        "‘Purpose’ has no text: write what the parties agree in it; marking it as completed "
        "is not enough."
    )
    assert not rules.can_send_for_signature(facts)


def test_the_placeholder_message_quotes_every_placeholder_left():
    text = "- Format: *how the information is shared*\n- Frequency: *how often it is shared*"
    (message,) = rules.check(replace(SEED, section_texts={**TEXTS, "format_frequency": text}))
    assert message.text == (
        "‘Format and frequency of sharing’ still has the template's placeholders “how the "
        "information is shared” and “how often it is shared”: replace them with what the "
        "parties actually do."
    )


@pytest.mark.parametrize(
    "text",
    [
        "The partners look again at how often it is shared at each review.",
        "This explains how the information is shared between the two teams.",
        "Staff describe the transfer method in the log.",
    ],
)
def test_prose_that_mentions_a_placeholders_words_is_not_a_placeholder(text):
    assert rules.check(replace(SEED, section_texts={**TEXTS, "security": text})) == []


def test_the_templates_placeholders_are_one_list_the_rules_read():
    assert PLACEHOLDERS == (
        "describe the transfer method",
        "how the information is shared",
        "how often it is shared",
    )
    italic = {
        phrase
        for section in DEFAULT_SECTIONS
        for phrase in re.findall(r"\*([^*\n]+)\*", section.body)
    }
    assert italic == set(PLACEHOLDERS)
    default_texts = {section.key: section.body for section in DEFAULT_SECTIONS}
    messages = rules.check(replace(SEED, section_texts=default_texts))
    assert {(m.code, m.section) for m in messages if m.code == "placeholder_left"} == {
        ("placeholder_left", "security"),
        ("placeholder_left", "format_frequency"),
    }
    assert {m.section for m in messages if m.code == "section_text_missing"} == {"purpose"}


# ------------------------------------------------------------------------ parties' contacts


def test_each_party_missing_contacts_gets_one_message_naming_what_is_missing():
    facts = replace(
        SEED,
        parties=(
            replace(COUNCIL, address="", email=""),
            replace(PROVIDER, phone="", dpo_name=""),
        ),
    )
    messages = rules.check(facts)
    assert [(m.code, m.section) for m in messages] == [
        ("party_contacts_missing", "summary"),
        ("party_contacts_missing", "summary"),
    ]
    assert messages[0].text.startswith(
        "Essex County Council has no head office address and confirmed data protection "
        "e-mail on its organisation record"
    )
    assert messages[1].text == (
        "Essex Cares Ltd has no telephone number and data protection officer on its "
        "organisation record, and the parties reach each other through the summary sheet's "
        "details about a breach: ask Essex Cares Ltd to complete its record, then check "
        "‘Summary sheet’."
    )


# --------------------------------------------------------------------------- rights ticked


def test_an_unticked_right_names_itself_with_its_article():
    (message,) = rules.check(replace(SEED, rights=PUBLIC_TASK_RIGHTS - {"objection"}))
    assert message.text == (
        "“Article 21 Right to object” applies to this sharing but is not ticked, and no reason "
        "is given: tick it, or say why it does not apply, in ‘Data subject rights’."
    )


def test_rights_not_yet_confirmed_follow_the_suggestion():
    assert rules.check(replace(SEED, rights=None, automated_decisions="Scored by computer.")) == []


def test_ticking_a_right_the_basis_does_not_suggest_needs_no_reason():
    assert rules.check(replace(SEED, rights=PUBLIC_TASK_RIGHTS | {"erasure"})) == []


def test_review_limit_from_29_february():
    leap = replace(SEED, today=date(2024, 2, 29))
    assert rules.check(replace(leap, review_date=date(2027, 2, 28))) == []
    assert [m.code for m in rules.check(replace(leap, review_date=date(2027, 3, 1)))] == [
        "review_date_too_far"
    ]


def test_review_date_is_measured_from_the_real_today_when_none_is_given():
    far = date.today() + timedelta(days=4 * 366)
    near = date.today() + timedelta(days=300)
    assert [m.code for m in rules.check(replace(SEED, today=None, review_date=far))] == [
        "review_date_too_far"
    ]
    assert rules.check(replace(SEED, today=None, review_date=near)) == []


def test_one_message_per_unfinished_section_in_template_order():
    states = dict.fromkeys(SECTION_KEYS, NOT_STARTED)
    states["purpose"] = IN_PROGRESS
    messages = rules.check(replace(SEED, section_states=states))
    assert [m.section for m in messages] == list(SECTION_KEYS)
    assert {m.code for m in messages} == {"section_not_completed"}
    by_key = {m.section: m.text for m in messages}
    assert by_key["security"] == "Mark ‘Security’ as completed: it has not been started."
    assert by_key["purpose"] == "Mark ‘Purpose’ as completed: it is still in progress."


def test_an_empty_draft_gets_blocking_messages_everywhere():
    messages = rules.check(AgreementFacts(today=TODAY))
    codes = {m.code for m in messages}
    assert codes == {
        "too_few_parties",
        "no_data_items",
        "retention_missing",
        "partner_breach_hours_missing",
        "ico_breach_hours_missing",
        "review_date_missing",
        "section_text_missing",
        "section_not_completed",
    }
    assert {m.section for m in messages if m.code == "section_text_missing"} == (
        set(SECTION_KEYS) - set(OPTIONAL_TEXT)
    )
    assert all(m.severity == "blocking" for m in messages)
    assert all(m.section in SECTION_KEYS for m in messages)
    order = [SECTION_KEYS.index(m.section) for m in messages]
    assert order == sorted(order)


def test_messages_are_sorted_by_section_whatever_the_rule_order():
    facts = replace(SEED, retention_period="", parties=(COUNCIL,), ico_breach_hours=None)
    assert [m.section for m in rules.check(facts)] == ["summary", "retention", "breaches"]


def test_helpers_split_and_group_messages():
    facts = replace(
        SEED,
        retention_period="",
        schedule1_condition="18",
        partner_breach_hours=None,
    )
    messages = rules.check(facts)
    assert [m.code for m in rules.blocking(messages)] == [
        "retention_missing",
        "partner_breach_hours_missing",
    ]
    assert [m.code for m in rules.warnings(messages)] == ["schedule1_mismatch"]
    assert list(rules.by_section(messages)) == ["legal_basis", "retention", "breaches"]
    assert not rules.can_send_for_signature(facts)
    assert rules.can_send_for_signature(
        replace(facts, retention_period="Six years", partner_breach_hours=48)
    )


def test_messages_are_frozen_and_validated():
    message = rules.Message("x", "security", "warning", "Text.")
    assert message.section_label == "Security"
    assert not message.is_blocking
    with pytest.raises(AttributeError):
        message.code = "y"  # type: ignore[misc]
    with pytest.raises(ValueError, match="section"):
        rules.Message("x", "nowhere", "warning", "Text.")
    with pytest.raises(ValueError, match="severity"):
        rules.Message("x", "security", "fatal", "Text.")


# ------------------------------------------------------------------------------ legal library


def test_article6_library_matches_the_facts_letters():
    assert tuple(legal.ARTICLE_6) == ARTICLE_6
    for letter, (label, explanation) in legal.ARTICLE_6.items():
        assert label == BASIS_LABELS[letter]
        assert explanation.endswith(".")
        assert ". " not in explanation  # one sentence
    assert legal.ARTICLE_6_CHOICES[4] == ("e", "6(1)(e) Public task")


def test_article9_library_matches_the_facts_letters():
    assert tuple(legal.ARTICLE_9) == ARTICLE_9
    assert legal.ARTICLE_9["h"].label == "9(2)(h) Health or social care"
    for letter, (label, explanation, schedule1) in legal.ARTICLE_9.items():
        assert label.startswith(f"9(2)({letter}) ")
        assert explanation.endswith(".")
        assert ". " not in explanation
        assert all(key in legal.SCHEDULE_1 for key in schedule1)
    assert {k: v.schedule1 for k, v in legal.ARTICLE_9.items() if v.schedule1} == {
        "b": ("1",),
        "g": ("6", "8", "10", "11", "12", "16", "18"),
        "h": ("2",),
        "i": ("3",),
        "j": ("4",),
    }


def test_schedule1_parts():
    assert legal.SCHEDULE_1_PART_1 == ("1", "2", "3", "4")
    assert legal.SCHEDULE_1_PART_2 == ("6", "8", "10", "11", "12", "16", "18")
    assert legal.SCHEDULE_1_PART_3 == ("29", "30", "31", "32", "33", "34", "35", "36", "37")
    for key, (part, label, explanation) in legal.SCHEDULE_1.items():
        assert label.startswith(f"Schedule 1 paragraph {key}: ")
        assert part in (1, 2, 3)
        assert explanation.endswith(".")
    assert legal.ARTICLE_10.schedule1 == legal.SCHEDULE_1_PART_3
    assert "Part 3" in legal.ARTICLE_10.explanation
    assert "Part 3" in legal.LAW_ENFORCEMENT.label


def test_schedule1_choices_follow_the_article9_condition():
    assert legal.schedule1_choices(["h"]) == (("2", legal.SCHEDULE_1["2"].label),)
    assert [k for k, _ in legal.schedule1_choices(["g", "j"])] == [
        "4",
        "6",
        "8",
        "10",
        "11",
        "12",
        "16",
        "18",
    ]
    assert [k for k, _ in legal.schedule1_choices()] == [
        "1",
        "2",
        "3",
        "4",
        "6",
        "8",
        "10",
        "11",
        "12",
        "16",
        "18",
    ]
    assert legal.needs_schedule1("jah") == ("h", "j")


def test_common_law_bases():
    assert list(legal.COMMON_LAW_BASES) == [
        "consent",
        "public_interest",
        "legal_requirement",
        "not_confidential",
    ]
    assert "implied" in legal.COMMON_LAW_BASES["consent"].label
    assert "court order" in legal.COMMON_LAW_BASES["legal_requirement"].label
    for label, explanation in legal.COMMON_LAW_BASES.values():
        assert label and explanation.endswith(".")


def test_schedule1_messages_read_well_for_several_conditions():
    facts = replace(SEED, article9=frozenset({"g", "h"}), schedule1_condition="")
    (message,) = rules.check(facts)
    assert message.text.startswith(
        "9(2)(g) Substantial public interest (a Part 2 paragraph) and "
        "9(2)(h) Health or social care (paragraph 2) need a DPA 2018 Schedule 1 condition"
    )
    (message,) = rules.check(replace(SEED, schedule1_condition="18"))
    assert message.text.startswith(
        "Schedule 1 paragraph 18: Safeguarding of children and of individuals at risk does not "
        "go with 9(2)(h) Health or social care (paragraph 2): "
    )
