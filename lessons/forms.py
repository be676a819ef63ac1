"""Forms that parse what learners send."""

from django import forms

MAX_ID = 2**63 - 1


class IdField(forms.Field):
    """A database id: ASCII digits only (no '²', no 'Ⅻ'), short enough to convert safely."""

    def to_python(self, value):
        value = str(value).strip() if value is not None else ""
        if not value:
            return None
        if len(value) > 19 or not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
            raise forms.ValidationError("must be a whole number", code="invalid")
        return int(value)


class IdListField(forms.MultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=(), **kwargs)

    def to_python(self, value):
        values = super().to_python(value)
        field = IdField()
        return sorted({field.clean(v) for v in values})

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class ResponseForm(forms.Form):
    """A response to one question. Which fields it needs depends on the question's kind: the view checks that."""

    # Required only for choice questions.
    choice = IdListField(required=False)
    # What a learner typed (numerical, short answer); its length limit depends on the kind.
    response = forms.CharField(required=False, strip=False, max_length=1000,
                               error_messages={"max_length": "is longer than %(limit_value)d characters"})

    def first_error(self) -> str:
        for name, errors in self.errors.items():
            return f"The form field '{name}' {errors[0]}." if name != "__all__" else errors[0]
        return ""


class AnswerForm(ResponseForm):
    """One answer to one question of one attempt. Whether the ids belong together is the view's job."""

    attempt = IdField()
    question = IdField()
    field_order = ["attempt", "question", "choice", "response"]


class ReviewAnswerForm(ResponseForm):
    """One review of one review item (whose it is and whether it is due is the view's job)."""

    item = IdField()
    field_order = ["item", "choice", "response"]


class AnsweredForm(forms.Form):
    """The ?answered= query of a quiz page: which answer's feedback to show."""

    answered = IdField(required=False)


class ReviewedForm(forms.Form):
    """The ?reviewed= query of the review page: which review's feedback to show."""

    reviewed = IdField(required=False)


class PlaceForm(forms.Form):
    """The reading beacon: the section the reader reached and whether the end was reached."""

    section = forms.RegexField(regex=r"^[A-Za-z0-9_-]{1,100}$", required=False)
    done = forms.BooleanField(required=False)
