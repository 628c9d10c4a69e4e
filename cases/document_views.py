"""The standard documents of an application: the A4 print page and the .docx download.

Thin: the application is fetched inside the user's jurisdiction (another region's is 404), the
document is built by cases.documents, and a download goes through its audited service.
"""
from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from cases import application_selectors, documents
from dibao.downloads import download_name
from dibao.permissions import permission_required
from dibao.scoping import get_scoped_or_404


def _application(request, pk: int):
    return get_scoped_or_404(application_selectors.applications_for(request.user), request.user, pk=pk)


@permission_required("application.document")
def document_print(request, pk: int, key: str):
    app = _application(request, pk)
    return render(request, "cases/document_print.html",
                  {"app": app, "doc": documents.build(app, key, user=request.user)})


@permission_required("application.document")
def document_docx(request, pk: int, key: str):
    name, content = documents.document_download(actor=request.user, application=_application(request, pk), key=key)
    response = HttpResponse(content, content_type=documents.DOCX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, download_name(name, f"{key}.docx"))
    return response
