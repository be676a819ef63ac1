from django.contrib import admin

from .models import Attempt, Choice, Diagram, Lesson, Question, Quiz, Reference, Term, TierText

admin.site.register([Lesson, TierText, Reference, Term, Diagram, Quiz, Question, Choice, Attempt])
