"""`{{ app|application_documents }}`: the standard documents an application's steps produce, for
the case page's include (its view belongs to the application pages)."""
from django import template

from cases import documents

register = template.Library()


@register.filter
def application_documents(app) -> list[documents.DocumentKind]:
    return documents.documents_for(app)
