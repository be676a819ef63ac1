from django.contrib.sitemaps import Sitemap

from .models import Status, Term, TierText


class TierSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return TierText.objects.select_related("lesson").filter(lesson__status=Status.PUBLISHED)

    def lastmod(self, text):
        return text.updated_at


class TermSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.4

    def items(self):
        return Term.objects.order_by("slug")

    def lastmod(self, term):
        return term.updated_at
