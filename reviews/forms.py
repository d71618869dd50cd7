"""Forms of the review pages. Months are whole numbers; dates are typed day/month/year."""

from __future__ import annotations

from django import forms

from accord.kernel.forms import CharField, IntegerField, Select

from .models import MAX_CADENCE, MIN_CADENCE, Cause, Outcome, ReviewSettings

DATE_ERROR = {"invalid": "Enter a real date like 31/03/2027."}
FEEDBACK_CHOICES = [(1, "1 month before"), (2, "2 months before"), (3, "3 months before")]


def date_field(label: str, *, required_message: str = "", help_text: str = ""):
    return forms.DateField(
        label=label,
        required=bool(required_message),
        help_text=help_text or "For example, 31/03/2027",
        error_messages={**DATE_ERROR, "required": required_message},
        widget=forms.DateInput(attrs={"class": "govuk-input--width-10"}),
    )


def months_field(label: str, low: int, high: int, what: str, **kwargs) -> IntegerField:
    between = f"Enter {what} between {low} and {high} months."
    return IntegerField(
        label=label,
        min_value=low,
        max_value=high,
        error_messages={
            "required": f"Enter {what}, in months.",
            "invalid": f"Enter {what} as a whole number of months.",
            "min_value": between,
            "max_value": between,
        },
        widget=forms.TextInput(attrs={"class": "govuk-input--width-3", "inputmode": "numeric"}),
        **kwargs,
    )


def feedback_months_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label="Ask the parties for feedback",
        choices=FEEDBACK_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how early the parties are asked for feedback."},
    )


class ScheduleForm(forms.Form):
    cadence_months = months_field(
        "Review every (months)",
        MIN_CADENCE,
        MAX_CADENCE,
        "how often it is reviewed",
        help_text="12 for a yearly review, 36 for every three years.",
    )
    feedback_months = feedback_months_field()
    first_review_on = date_field(
        "First review date",
        help_text="Only before the first review is held. For example, 31/03/2027",
    )

    def __init__(self, *args, reviewed: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if reviewed:
            del self.fields["first_review_on"]


class BringForwardForm(forms.Form):
    to = date_field(
        "Bring the review forward to",
        required_message="Enter the date the review is brought forward to.",
    )
    cause = forms.ChoiceField(
        label="Why",
        choices=[(c.value, c.label) for c in Cause if c != Cause.BREACH],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose why the review is brought forward."},
    )
    reason = CharField(
        label="What has changed",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Say why the review is brought forward."},
    )


class ReviewForm(forms.Form):
    held_on = date_field(
        "Date of the review meeting",
        required_message="Enter the date the review meeting was held.",
    )
    attendees = CharField(
        label="Who attended",
        help_text="Names and organisations, one a line.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        error_messages={"required": "Enter who attended the review."},
    )
    feedback_considered = CharField(
        label="Feedback considered",
        required=False,
        help_text="What the parties said, and what the meeting made of it.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=20000,
    )
    outcome = forms.ChoiceField(
        label="Outcome",
        widget=forms.RadioSelect,
        choices=Outcome.choices,
        error_messages={"required": "Choose the review's outcome."},
    )
    decision = CharField(
        label="Decision",
        help_text="What the review decided and why: it goes in the revision table.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        required=False,
    )

    def __init__(self, *args, outcomes: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Outcome.choices)
        if Outcome.MINOR not in outcomes:
            labels[Outcome.MAJOR] = "Amendment: a new version, signed again"
        self.fields["outcome"].choices = [(o, labels[o]) for o in outcomes]

    def clean(self):
        data = super().clean()
        if data.get("outcome") and not (data.get("decision") or "").strip():
            self.add_error("decision", "Enter the decision the review made: an outcome needs one.")
        return data


class ReviewSettingsForm(forms.ModelForm):
    cadence_months = months_field(
        "Review every (months)",
        MIN_CADENCE,
        MAX_CADENCE,
        "how often documents are reviewed",
        help_text="For documents that come into force from now on.",
    )
    first_review_months = months_field(
        "First review after coming into force (months)",
        1,
        MAX_CADENCE,
        "when the first review falls",
        help_text="6 in the Leeds protocol; 12 for a yearly cycle.",
    )
    feedback_months = feedback_months_field()
    due_soon_months = months_field(
        "Tell the lead organisation ahead of the review (months)",
        1,
        12,
        "how early the lead organisation is told",
    )
    lapsed_months = months_field(
        "A review is lapsed when overdue by more than (months)",
        1,
        24,
        "when an overdue review is lapsed",
    )

    class Meta:
        model = ReviewSettings
        fields = [
            "cadence_months",
            "first_review_months",
            "feedback_months",
            "due_soon_months",
            "lapsed_months",
        ]


class FeedbackIdentityForm(forms.Form):
    name = CharField(
        label="Your name",
        max_length=200,
        error_messages={"required": "Enter your name."},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Your e-mail address",
        max_length=254,
        error_messages={
            "required": "Enter your e-mail address, like name@example.gov.uk.",
            "invalid": "Enter an e-mail address like name@example.gov.uk.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )


class DashboardFilterForm(forms.Form):
    kind = forms.ChoiceField(label="Show", required=False, widget=Select)
    status = forms.ChoiceField(label="Status", required=False, widget=Select)
    lead = CharField(
        label="Lead organisation",
        help_text="Part of its name, such as “Essex”.",
        required=False,
        max_length=200,
    )

    def __init__(self, *args, kinds, statuses, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds
        self.fields["status"].choices = statuses


ANSWER_CHOICES = [
    ("no_changes", "No changes"),
    ("comments", "Comments or a proposed amendment"),
]


class FeedbackForm(FeedbackIdentityForm):
    """A party's feedback: for each section of the version in force, "no changes" or comments
    and a proposed amendment."""

    def __init__(self, *args, sections, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sections = list(sections)
        for i, section in enumerate(self.sections, 1):
            self.fields[f"choice_{i}"] = forms.ChoiceField(
                label=f"Does “{section.title}” need any changes?",
                choices=ANSWER_CHOICES,
                widget=forms.RadioSelect,
                error_messages={"required": f"Say whether “{section.title}” needs any changes."},
            )
            self.fields[f"comments_{i}"] = CharField(
                label="Comments",
                required=False,
                max_length=10000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.fields[f"amendment_{i}"] = CharField(
                label="Proposed amendment",
                help_text="The wording you propose, if any.",
                required=False,
                max_length=20000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def clean(self):
        data = super().clean()
        for i, section in enumerate(self.sections, 1):
            if data.get(f"choice_{i}") != "comments":
                continue
            if not (data.get(f"comments_{i}") or data.get(f"amendment_{i}") or "").strip():
                self.add_error(
                    f"comments_{i}",
                    f"Enter your comments or proposed amendment for “{section.title}”, or "
                    "choose “No changes”.",
                )
        return data

    def grouped(self) -> list[dict]:
        return [
            {
                "section": section,
                "choice": self[f"choice_{i}"],
                "comments": self[f"comments_{i}"],
                "amendment": self[f"amendment_{i}"],
            }
            for i, section in enumerate(self.sections, 1)
        ]

    def answers(self) -> dict[str, dict]:
        data = self.cleaned_data
        return {
            section.key: {
                "choice": data.get(f"choice_{i}"),
                "comments": data.get(f"comments_{i}", ""),
                "amendment": data.get(f"amendment_{i}", ""),
            }
            for i, section in enumerate(self.sections, 1)
        }
