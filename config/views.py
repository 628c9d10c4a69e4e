"""The home page: each role's worklist (what waits on the user), across every app."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from config.worklist import worklist


@login_required
def home(request):
    """Each role's work bench: what waits on the user, with links to where it is done."""
    return render(request, "dibao/home.html", {"worklist": worklist(request.user)})
