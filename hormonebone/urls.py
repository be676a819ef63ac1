from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import path, register_converter

from lessons import views
from lessons.quizzes import views as quiz_views
from lessons.review import views as review_views
from lessons.converters import TierConverter
from lessons.learners import accounts, my_learning
from lessons.sitemaps import TermSitemap, TierSitemap

register_converter(TierConverter, "tier")

admin.site.site_header = "Hormones & Bone — instructors"
admin.site.site_title = "Hormones & Bone admin"

urlpatterns = [
    path("", views.course_map, name="course_map"),
    path("lessons/<slug:slug>/", views.lesson_redirect, name="lesson"),
    path("lessons/<slug:slug>/<tier:tier>/", views.tier_page, name="tier"),
    path("lessons/<slug:slug>/<tier:tier>/progress/", views.reading_place, name="reading_place"),
    path("lessons/<slug:slug>/<tier:tier>/quiz/", quiz_views.quiz_page, name="quiz"),
    path("lessons/<slug:slug>/<tier:tier>/quiz/start/", quiz_views.quiz_start, name="quiz_start"),
    path("lessons/<slug:slug>/<tier:tier>/quiz/answer/", quiz_views.quiz_answer, name="quiz_answer"),
    path("review/", review_views.review_page, name="review"),
    path("review/answer/", review_views.review_answer, name="review_answer"),
    path("glossary/", views.glossary, name="glossary"),
    path("glossary/<slug:slug>/", views.term_page, name="term"),
    path("search/", views.search_page, name="search"),
    path("account/sign-up/", accounts.sign_up, name="sign_up"),
    path("account/sign-in/", accounts.sign_in, name="sign_in"),
    path("account/sign-out/", accounts.sign_out, name="sign_out"),
    path("account/password/", accounts.password_change, name="password_change"),
    path("account/password/changed/", accounts.password_change_done, name="password_change_done"),
    path("account/password-reset/", accounts.password_reset, name="password_reset"),
    path("account/password-reset/sent/", accounts.password_reset_done, name="password_reset_done"),
    path("account/reset/<uidb64>/<token>/", accounts.password_reset_confirm, name="password_reset_confirm"),
    path("account/reset/done/", accounts.password_reset_complete, name="password_reset_complete"),
    path("me/", my_learning.my_learning, name="my_learning"),
    path("me/data.json", my_learning.export, name="my_data"),
    path("me/delete/", my_learning.delete_account, name="delete_account"),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("csp-report", views.csp_report, name="csp_report"),
    # Browsers ask for /favicon.ico on pages without an icon link (the admin, error pages).
    path("favicon.ico", views.favicon, name="favicon"),
    path("sitemap.xml", sitemap, {"sitemaps": {"lessons": TierSitemap, "glossary": TermSitemap}}, name="sitemap"),
    path("admin/", admin.site.urls),
]
