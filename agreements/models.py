"""Information sharing agreements (ISAs): templates, agreements, their parties, data items,
sections, comments and named editors.

An agreement is drafted from a copy of a template: editing the template later never changes
an agreement. Every row belongs to a partnership and is read through a scoped manager.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from organisations.models import Sector

from . import facts

SECTION_CHOICES = list(facts.SECTIONS)
EDIT_PERMISSION = "edit_agreement"  # guardian object permission of named editors


class SectionState(models.TextChoices):
    NOT_STARTED = facts.NOT_STARTED, "Not yet started"
    IN_PROGRESS = facts.IN_PROGRESS, "In progress"
    COMPLETED = facts.COMPLETED, "Completed"


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    FOR_SIGNATURE = "for_signature", "For signature"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"
    SUPERSEDED = "superseded", "Superseded"


# Statuses in which the text may still change.
EDITABLE_STATUSES = frozenset({AgreementStatus.DRAFT, AgreementStatus.IN_REVIEW})
# Statuses that end an agreement for good.
ENDED_STATUSES = frozenset(
    {AgreementStatus.EXPIRED, AgreementStatus.TERMINATED, AgreementStatus.SUPERSEDED}
)
# Statuses of an agreement still on its way or in force (a newer version is one of these).
LIVE_STATUSES = frozenset(
    {
        AgreementStatus.DRAFT,
        AgreementStatus.IN_REVIEW,
        AgreementStatus.FOR_SIGNATURE,
        AgreementStatus.ACTIVE,
    }
)
# Statuses whose text is still being worked on or signed (the drafting list).
DRAFTING_STATUSES = (
    AgreementStatus.DRAFT,
    AgreementStatus.IN_REVIEW,
    AgreementStatus.FOR_SIGNATURE,
)
# Statuses whose frozen text is the agreement's: being signed, or in force.
SIGNING_STATUSES = frozenset({AgreementStatus.FOR_SIGNATURE, AgreementStatus.ACTIVE})
# Statuses of an agreement every party signed.
SIGNED_STATUSES = frozenset(
    {AgreementStatus.ACTIVE, AgreementStatus.EXPIRED, AgreementStatus.SUPERSEDED}
)


class PartyRole(models.TextChoices):
    SOLE_CONTROLLER = facts.SOLE_CONTROLLER, "Sole controller"
    JOINT_CONTROLLER = facts.JOINT_CONTROLLER, "Joint controller"
    PROCESSOR = facts.PROCESSOR, "Processor"
    RECIPIENT = facts.RECIPIENT, "Recipient (controller of the copy it receives)"


class DataCategory(models.TextChoices):
    PERSONAL = facts.PERSONAL, "Personal data"
    SPECIAL = facts.SPECIAL, "Special category data"
    CRIMINAL = facts.CRIMINAL, "Criminal offence data"
    PSEUDONYMISED = facts.PSEUDONYMISED, "Pseudonymised data"
    ANONYMISED = facts.ANONYMISED, "Anonymised or aggregate data"


class SpecialCategoryType(models.TextChoices):
    """The kinds of special category data in UK GDPR Article 9(1)."""

    RACIAL_ETHNIC = "racial_ethnic", "Racial or ethnic origin"
    POLITICAL = "political", "Political opinions"
    RELIGIOUS = "religious", "Religious or philosophical beliefs"
    TRADE_UNION = "trade_union", "Trade union membership"
    GENETIC = "genetic", "Genetic data"
    BIOMETRIC = "biometric", "Biometric data (to identify someone)"
    HEALTH = "health", "Health"
    SEX_LIFE = "sex_life", "Sex life or sexual orientation"


class CommonLawBasis(models.TextChoices):
    """How sharing confidential (health and care) information meets the common law duty of
    confidentiality."""

    NOT_APPLICABLE = "", "Not applicable: no confidential information is shared"
    CONSENT = "consent", "Consent (explicit or implied)"
    PUBLIC_INTEREST = "public_interest", "Overriding public interest"
    LEGAL_REQUIREMENT = "legal_requirement", "Legal requirement or court order"
    NOT_CONFIDENTIAL = "not_confidential", "Does not apply: none of it given in confidence"


class AgreementTemplate(models.Model):
    """A partnership's ISA template: sections with guidance and default wording. Versioned:
    each saved change raises `version`."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1)
    is_default = models.BooleanField(default=False)
    # The partnership's policy, beyond UK GDPR Article 35: a DPIA whenever special category
    # data (such as health data) is shared (agreements.rules.dpia_missing).
    dpia_for_special_category = models.BooleanField(
        "ask for a DPIA whenever special category data is shared", default=True
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership"],
                condition=models.Q(is_default=True),
                name="one_default_agreement_template",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} (version {self.version})"


class TemplateSection(models.Model):
    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    template = models.ForeignKey(
        AgreementTemplate, on_delete=models.CASCADE, related_name="sections"
    )
    key = models.CharField(max_length=30, choices=SECTION_CHOICES)
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True, help_text="Markdown, shown to the people drafting.")
    body = models.TextField(blank=True, help_text="Markdown: the section's default wording.")

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="one_template_section_a_key")
        ]

    def __str__(self) -> str:
        return self.title


class Agreement(models.Model):
    """One version of a project-specific information sharing agreement between parties."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(max_length=300)
    reference = models.CharField(
        max_length=50, help_text="The partnership's own reference, such as ISA-2025-014."
    )
    version = models.PositiveIntegerField(default=1)
    previous = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_versions",
        help_text="The version this one amends.",
    )
    protocol = models.ForeignKey(
        "protocols.Protocol",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements",
        help_text="The information sharing protocol this agreement sits under.",
    )
    template = models.ForeignKey(
        AgreementTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template_version = models.PositiveIntegerField(null=True, blank=True)
    lead = models.ForeignKey(
        "signatories.Partner",
        on_delete=models.PROTECT,
        related_name="led_agreements",
        verbose_name="lead organisation",
    )
    status = models.CharField(
        max_length=15, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )

    # Dates and windows.
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    ongoing = models.BooleanField(default=True, help_text="Ongoing sharing, or a one-off exchange.")
    review_date = models.DateField(null=True, blank=True)
    partner_breach_hours = models.PositiveSmallIntegerField(
        "inform partners of a breach within (hours)",
        null=True,
        blank=True,
        default=48,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
    )
    ico_breach_hours = models.PositiveSmallIntegerField(
        "notify the ICO within (hours)",
        null=True,
        blank=True,
        default=72,
        validators=[MinValueValidator(1), MaxValueValidator(72)],
    )

    # Supporting documents.
    dpia_reference = models.CharField("DPIA reference", max_length=300, blank=True)
    operating_procedure = models.CharField(
        "standard operating procedure", max_length=300, blank=True
    )
    contract_reference = models.CharField("associated contract", max_length=300, blank=True)
    policies = models.TextField("associated policy documents", blank=True)
    other_documents = models.TextField("other supporting documents", blank=True)
    large_scale = models.BooleanField("large-scale processing", default=False)
    new_technology = models.BooleanField("new technology", default=False)

    # Legal basis. Letters are kept as one sorted string each ("ce"), so filtering by one
    # letter is a plain `__contains` on every database.
    article6 = models.CharField("UK GDPR Article 6(1)", max_length=6, blank=True)
    article9 = models.CharField("UK GDPR Article 9(2)", max_length=10, blank=True)
    schedule1_condition = models.CharField(
        "DPA 2018 Schedule 1 condition", max_length=100, blank=True
    )
    article10 = models.BooleanField(
        "criminal offence data under Article 10 (DPA 2018 Schedule 1)", default=False
    )
    law_enforcement = models.BooleanField(
        "law enforcement processing (DPA 2018 Part 3)", default=False
    )
    statutes = models.ManyToManyField(
        "protocols.Legislation", blank=True, related_name="agreements"
    )
    other_statute = models.TextField("other legislation (with citation)", blank=True)
    common_law_basis = models.CharField(
        "common law duty of confidentiality",
        max_length=20,
        choices=CommonLawBasis.choices,
        blank=True,
    )
    consent_recording = models.TextField("how consent is obtained and recorded", blank=True)
    legitimate_interests_assessment = models.CharField(
        "legitimate interests assessment reference", max_length=300, blank=True
    )

    # Responsibilities.
    joint_contact_point = models.TextField(
        "single contact point for individuals (joint controllers)", blank=True
    )
    processor_contract = models.CharField(
        "processor contract reference", max_length=300, blank=True
    )

    # Rights: None until someone confirms them (the rules' suggestion applies meanwhile).
    rights = models.JSONField(null=True, blank=True)
    # Why each right the basis suggests, left unticked, does not apply: {right key: reason}.
    rights_reasons = models.JSONField(default=dict, blank=True)
    rights_note = models.TextField(blank=True)
    automated_decisions = models.TextField(
        "decisions made solely by automated means",
        blank=True,
        help_text="Any decision about people made by automated means alone, including "
        "profiling, with legal or similarly significant effects; blank when there is none.",
    )

    # Transfers and retention.
    international_transfers = models.BooleanField(default=False)
    transfer_safeguard = models.TextField(blank=True)
    retention_period = models.TextField(blank=True)

    # Lifecycle.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    change_summary = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    document = models.OneToOneField(
        "documents.FrozenDocument",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreement",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField("fully signed at", null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    termination_reason = models.TextField(blank=True)
    return_reason = models.TextField(blank=True, help_text="Why it last went back to draft.")
    # The summary sheet (parties' addresses, DPOs, ICO references) as it stood when the
    # agreement was frozen: the PDF's front matter, so later record changes leave it alone.
    summary_sheet_html = models.TextField(blank=True)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["reference", "-version"]
        permissions = [(EDIT_PERMISSION, "Can edit the agreement's sections")]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "reference", "version"],
                name="one_agreement_reference_version",
            )
        ]
        indexes = [
            models.Index(fields=["partnership", "status"], name="agreement_status"),
            models.Index(fields=["status", "end_date"], name="agreement_end"),
        ]

    def __str__(self) -> str:
        suffix = f" (v{self.version})" if self.version > 1 else ""
        return f"{self.reference} {self.title}{suffix}"

    @property
    def version_label(self) -> str:
        return f"{self.version}.0"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def article6_letters(self) -> list[str]:
        return sorted(set(self.article6))

    @property
    def article9_letters(self) -> list[str]:
        return sorted(set(self.article9))

    def facts(self, today=None) -> facts.AgreementFacts:
        """What the drafting rules read (agreements/rules.py)."""
        public = {
            Sector.LOCAL_AUTHORITY,
            Sector.NHS,
            Sector.POLICE,
            Sector.FIRE,
            Sector.EDUCATION,
        }
        parties = tuple(
            facts.Party(
                name=party.partner.organisation.name,
                role=party.role,
                is_public_authority=party.partner.organisation.sector in public,
                address=party.partner.organisation.address.strip(),
                phone=party.partner.organisation.phone.strip(),
                email=party.partner.organisation.confirmed_data_protection_email.strip(),
                dpo_name=party.partner.organisation.dpo_name.strip(),
            )
            for party in self.parties.select_related("partner__organisation").order_by("pk")
        )
        categories = frozenset(self.data_items.values_list("category", flat=True))
        special_types = frozenset(
            self.data_items.exclude(special_category_type="").values_list(
                "special_category_type", flat=True
            )
        )
        sections = list(self.sections.values_list("key", "state", "body"))
        return facts.AgreementFacts(
            parties=parties,
            categories=categories,
            special_types=special_types,
            article6=frozenset(self.article6),
            article9=frozenset(self.article9),
            schedule1_condition=self.schedule1_condition,
            article10=self.article10,
            law_enforcement=self.law_enforcement,
            common_law_basis=self.common_law_basis,
            consent_recording=self.consent_recording.strip(),
            legitimate_interests_assessment=self.legitimate_interests_assessment.strip(),
            joint_contact_point=self.joint_contact_point.strip(),
            processor_contract=self.processor_contract.strip(),
            international_transfers=self.international_transfers,
            transfer_safeguard=self.transfer_safeguard.strip(),
            retention_period=self.retention_period.strip(),
            dpia_reference=self.dpia_reference.strip(),
            dpia_for_special_category=self.template.dpia_for_special_category
            if self.template_id
            else True,
            large_scale=self.large_scale,
            new_technology=self.new_technology,
            start_date=self.start_date,
            review_date=self.review_date,
            today=today or timezone.localdate(),
            partner_breach_hours=self.partner_breach_hours,
            ico_breach_hours=self.ico_breach_hours,
            section_states={key: state for key, state, _ in sections},
            section_texts={key: body for key, _, body in sections},
            rights=frozenset(self.rights) if self.rights is not None else None,
            rights_reasons=dict(self.rights_reasons or {}),
            automated_decisions=self.automated_decisions.strip(),
        )


class AgreementParty(models.Model):
    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="parties")
    partner = models.ForeignKey(
        "signatories.Partner", on_delete=models.PROTECT, related_name="agreement_parties"
    )
    role = models.CharField(max_length=20, choices=PartyRole.choices)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["partner__organisation__name"]
        verbose_name_plural = "agreement parties"
        constraints = [
            models.UniqueConstraint(fields=["agreement", "partner"], name="one_party_record_each")
        ]

    def __str__(self) -> str:
        return str(self.partner)


class DataItem(models.Model):
    """One item of information shared, between two parties, for a purpose."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="data_items")
    position = models.PositiveIntegerField(default=0)
    item = models.CharField("data item", max_length=300)
    category = models.CharField(max_length=20, choices=DataCategory.choices)
    special_category_type = models.CharField(
        "type of special category data",
        max_length=20,
        choices=SpecialCategoryType.choices,
        blank=True,
    )
    data_subjects = models.CharField(max_length=300, help_text="Whose data it is.")
    from_party = models.ForeignKey(
        AgreementParty, on_delete=models.PROTECT, related_name="items_sent"
    )
    to_party = models.ForeignKey(
        AgreementParty, on_delete=models.PROTECT, related_name="items_received"
    )
    purpose = models.TextField()
    necessity = models.TextField("why it is needed", blank=True)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.item


class AgreementSection(models.Model):
    """The agreement's own copy of a template section: edited in place, versioned for
    optimistic locking."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="sections")
    key = models.CharField(max_length=30, choices=SECTION_CHOICES)
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True)
    body = models.TextField(blank=True)
    state = models.CharField(
        max_length=12, choices=SectionState.choices, default=SectionState.NOT_STARTED
    )
    version = models.PositiveIntegerField(default=1, help_text="Raised by every save.")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "key"], name="one_agreement_section_a_key")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_completed(self) -> bool:
        return self.state == SectionState.COMPLETED


class AgreementComment(models.Model):
    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    section = models.ForeignKey(AgreementSection, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment on {self.section}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


# Named editors from the other parties: guardian's direct foreign-key permission tables
# (not its generic ones). Their rows are reached through a scoped agreement.


class AgreementUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Agreement, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        pass


class AgreementGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Agreement, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        pass


class ContactRequest(models.Model):
    """A drafter asked a party's organisation to complete its record (the contact details the
    summary sheet gives): whom Accord e-mailed, and when, so nobody is asked twice in a day."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="contact_requests"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField(default=timezone.now, editable=False)
    missing = models.JSONField(default=list, help_text="The details the record lacked.")
    recipients = models.TextField(
        help_text="Who was e-mailed, one a line: the organisation's verified people by name, "
        "or its confirmed data protection address."
    )
    to_data_protection = models.BooleanField(
        default=False, help_text="Nobody was verified for it, so its data protection address was."
    )

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["-asked_at", "-id"]
        indexes = [
            models.Index(
                fields=["agreement", "organisation", "-asked_at"], name="contact_request_latest"
            )
        ]

    def __str__(self) -> str:
        return f"Request to {self.organisation} to complete its record"

    @property
    def recipient_list(self) -> list[str]:
        return [line for line in self.recipients.splitlines() if line.strip()]
